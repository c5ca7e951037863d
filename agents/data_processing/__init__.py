"""Data processing worker (WORKER_TYPE=data_processing, port 3003): documents to vectors."""
