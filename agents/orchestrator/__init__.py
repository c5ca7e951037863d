"""The orchestrator: multi-worker workflows (DAGs of commands) over the bus, with request status."""
