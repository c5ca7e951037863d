"""Adapters shared by several workers: ``<tech>_<port>.py``, class ``<Tech><Port>``."""
