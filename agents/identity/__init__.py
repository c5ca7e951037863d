"""Identity worker (WORKER_TYPE=identity, port 3008): users, tokens, JWKS, OAuth linking."""
