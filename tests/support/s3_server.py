"""A real S3-protocol server on 127.0.0.1 for tests: moto's server (``moto[server]``).

It speaks the S3 REST protocol over HTTP, so the adapter under test goes
through aiobotocore/botocore, signing and all, exactly as against AWS or MinIO.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"  # a local test server's dummy credential


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The settings a worker or client needs to use that server as its artifact store."""
    return {
        "ARTIFACT_STORE": "s3",
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": bucket,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
