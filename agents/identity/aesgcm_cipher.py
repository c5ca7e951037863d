"""The ``Cipher`` port on AES-256-GCM (cryptography), keyed from the environment.

Tokens are ``v1.<base64url(nonce || ciphertext+tag)>``; the purpose string is
bound as associated data, so a value encrypted for one use (say a provider
token) cannot be replayed as another (a signing key).
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from enginedge_streams.errors import ConfigError, PermanentError


def parse_key(raw: str, *, name: str = "IDENTITY_ENCRYPTION_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError(
            f'{name}: not base64 (generate one: python -c "import os,base64;'
            'print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
        ) from None
    if len(key) != 32:
        raise ConfigError(f"{name}: must decode to 32 bytes (AES-256), got {len(key)}")
    return key


class AesGcmCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, *, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, purpose.encode())
        return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def decrypt(self, token: str, *, purpose: str) -> bytes:
        if not token.startswith("v1."):
            raise PermanentError("unknown ciphertext version", code="DECRYPT_FAILED")
        body = token[3:]
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], purpose.encode())
        except InvalidTag:
            raise PermanentError(
                "cannot decrypt a stored secret (wrong IDENTITY_ENCRYPTION_KEY?)",
                code="DECRYPT_FAILED",
            ) from None
