"""Interview worker (WORKER_TYPE=interview, port 3004): sessions, question bank, STT, scoring."""
