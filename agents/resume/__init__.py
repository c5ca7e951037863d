"""Resume worker (WORKER_TYPE=resume, port 3006): parsing, bullet scoring, matching, postings."""
