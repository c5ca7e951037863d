"""Bearer-token check for mutating HTTP endpoints."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from pydantic import SecretStr


def bearer_ok(headers: Mapping[str, str], token: SecretStr | None) -> bool:
    """True when ``Authorization: Bearer <token>`` matches the configured token."""
    if token is None or not token.get_secret_value():
        return False
    header = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return False
    return hmac.compare_digest(value.strip().encode(), token.get_secret_value().encode())
