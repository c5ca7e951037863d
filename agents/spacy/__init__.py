"""spaCy NLP service (WORKER_TYPE=spacy, port 8001)."""
