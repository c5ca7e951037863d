"""The local stack: real Kafka (KRaft), Redis (and later PostgreSQL), no Docker.

Each service is installed if missing, started in the background with a PID
file under ``.stack/``, waited for, and stopped by its PID. Everything is
idempotent: ``up`` on a running stack only checks it.
"""
