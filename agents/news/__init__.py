"""News worker: feed polling, article extraction, de-duplication, enrichment, search, trending."""
