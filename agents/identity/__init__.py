"""Identity worker (WORKER_TYPE=identity, port 3008): users, passwords, JWT + JWKS, OAuth linking, profiles."""
