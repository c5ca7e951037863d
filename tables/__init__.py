"""Faust table definitions (one module per table or worker) and their port adapters."""
