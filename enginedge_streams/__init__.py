"""EnginEdge Streams: AI workers as Faust stream processors over Apache Kafka.

``faust -A enginedge_streams worker -l info`` runs the worker(s) named by
``WORKER_TYPE``. The ``app`` attribute is built on first access (PEP 562),
so importing the package performs no I/O and reads no settings.
"""

from __future__ import annotations

from typing import Any

from enginedge_streams.version import __version__

__all__ = ["__version__", "app"]

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name == "app":
        if _app is None:
            from enginedge_streams.bootstrap import bootstrap

            _app = bootstrap()
        return _app
    raise AttributeError(name)
