"""One module per tool; each has ``create(deps) -> Tool``. Registered in ``registry.py``."""
