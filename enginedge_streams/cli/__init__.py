"""The ``enginedge`` command line (entry point: :func:`enginedge_streams.cli.main.main`)."""
