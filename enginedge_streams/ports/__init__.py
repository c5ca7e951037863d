"""Ports (typing.Protocol), one per module; adapters live in ``adapters/``."""
