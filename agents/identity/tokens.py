"""Access tokens (JWT, RS256, via joserfc) and rotating refresh tokens with reuse detection.

Refresh tokens are opaque ``<token id>.<secret>``; only a SHA-256 of the
secret is stored. Each refresh marks its token used and issues the next one in
the same *family*; presenting a used token again means it was stolen (or the
client is broken), so the whole family is revoked, and access tokens carrying
that family (``sid``) stop verifying. Token ids and secrets are derived from
the command id with an HMAC, so a command re-run after a crash hands out the
same tokens instead of tripping reuse detection.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from agents.identity.keys import ALG, KeyRing
from agents.identity.model import Family, RefreshRecord, User
from agents.identity.repository import IdentityRepository
from enginedge_streams.errors import DependencyUnavailableError, PermanentError


class TokenError(PermanentError):
    code = "INVALID_TOKEN"


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenService:
    def __init__(
        self,
        repo: IdentityRepository,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        derivation_key: bytes,
        leeway_seconds: int = 30,
    ) -> None:
        self.repo = repo
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._derive_key = derivation_key
        self.leeway = leeway_seconds

    def _derive(self, label: str, seed: str, n: int = 32) -> str:
        return _b64(
            hmac.new(self._derive_key, f"{label}:{seed}".encode(), hashlib.sha256).digest()[:n]
        )

    # -- issuing -------------------------------------------------------------------

    def access_token(self, user: User, family_id: str, now: datetime, seed: str) -> str:
        active = self.keys.active(now)
        if active is None:
            raise DependencyUnavailableError(
                "no signing key yet (keys.rotate pending)", code="NO_SIGNING_KEY"
            )
        kid, key = active
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user.user_id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
            "jti": self._derive("jti", seed, 16),
            "roles": list(user.roles),
            "tenant": user.tenant_id,
            "sid": family_id,
        }
        if user.email:
            claims["email"] = user.email
        return str(jwt.encode({"alg": ALG, "kid": kid, "typ": "at+jwt"}, claims, key))

    def issue(
        self, user: User, now: datetime, *, seed: str, family_id: str | None = None
    ) -> dict[str, Any]:
        if family_id is None:
            family_id = self._derive("fam", seed, 16)
            if self.repo.family(family_id) is None:
                self.repo.save_family(
                    Family(family_id=family_id, user_id=user.user_id, created_at=now)
                )
        token_id = self._derive("rt", seed, 16)
        secret = self._derive("rts", seed, 32)
        if self.repo.refresh(token_id) is None:
            self.repo.save_refresh(
                RefreshRecord(
                    token_id=token_id,
                    family_id=family_id,
                    user_id=user.user_id,
                    secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
                    issued_at=now,
                    expires_at=now + self.refresh_ttl,
                )
            )
        return {
            "token_type": "Bearer",
            "access_token": self.access_token(user, family_id, now, seed),
            "expires_in": int(self.access_ttl.total_seconds()),
            "refresh_token": f"{token_id}.{secret}",
            "refresh_expires_in": int(self.refresh_ttl.total_seconds()),
        }

    # -- refresh with rotation -----------------------------------------------------------

    def _lookup(self, token: str) -> RefreshRecord:
        token_id, _, secret = token.partition(".")
        record = self.repo.refresh(token_id) if token_id and secret else None
        if record is None or not hmac.compare_digest(
            record.secret_hash, hashlib.sha256(secret.encode()).hexdigest()
        ):
            raise TokenError("invalid refresh token")
        return record

    def revoke_family(self, family_id: str, now: datetime, reason: str) -> None:
        fam = self.repo.family(family_id)
        if fam is not None and fam.revoked_at is None:
            fam.revoked_at, fam.revoked_reason = now, reason
            self.repo.save_family(fam)

    def refresh(self, token: str, now: datetime, *, seed: str) -> tuple[User, dict[str, Any]]:
        record = self._lookup(token)
        fam = self.repo.family(record.family_id)
        if fam is None or fam.revoked_at is not None:
            raise TokenError("refresh token revoked", code="TOKEN_REVOKED")
        replacement = self._derive("rt", seed, 16)
        if record.used_at is not None and record.replaced_by != replacement:
            self.revoke_family(record.family_id, now, "refresh token reuse")
            raise TokenError(
                "refresh token reuse detected; the session was revoked", code="TOKEN_REUSED"
            )
        if record.expires_at <= now:
            raise TokenError("refresh token expired", code="TOKEN_EXPIRED")
        user = self.repo.user(record.user_id)
        if user is None or user.disabled:
            raise TokenError("the account is gone or disabled", code="TOKEN_REVOKED")
        record.used_at = record.used_at or now
        record.replaced_by = replacement
        self.repo.save_refresh(record)
        return user, self.issue(user, now, seed=seed, family_id=record.family_id)

    # -- verification and revocation ---------------------------------------------------

    def decode(self, token: str, now: datetime, *, check_time: bool = True) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self.keys.keyset(now), algorithms=[ALG])
        except (JoseError, ValueError) as exc:
            raise TokenError(f"token rejected: {type(exc).__name__}") from None
        if decoded.header.get("typ") != "at+jwt":
            raise TokenError("not an access token")
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )
        if not check_time:
            claims_for_check = {**claims, "exp": int(now.timestamp()) + 60, "nbf": 0, "iat": 0}
        else:
            claims_for_check = claims
        try:
            registry.validate(claims_for_check)
        except JoseError as exc:
            code = "TOKEN_EXPIRED" if "expired" in str(exc).lower() else "INVALID_TOKEN"
            raise TokenError(f"token rejected: {exc.error}", code=code) from None
        return claims

    def verify(self, token: str, now: datetime) -> dict[str, Any]:
        claims = self.decode(token, now)
        if self.repo.denied(str(claims["jti"])):
            raise TokenError("token revoked", code="TOKEN_REVOKED")
        fam = self.repo.family(str(claims.get("sid", "")))
        if fam is not None and fam.revoked_at is not None:
            raise TokenError("session revoked", code="TOKEN_REVOKED")
        return claims

    def revoke(self, token: str, now: datetime) -> dict[str, Any]:
        if token.count(".") == 2:  # a JWT access token
            claims = self.decode(token, now, check_time=False)
            self.repo.deny(
                str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), now.tzinfo)
            )
            return {"revoked": "access_token", "jti": claims["jti"]}
        record = self._lookup(token)
        self.revoke_family(record.family_id, now, "revoked")
        return {"revoked": "refresh_token_family", "family_id": record.family_id}

    def revoke_user(self, user_id: str, now: datetime, reason: str) -> int:
        n = 0
        for fam in self.repo.families_of(user_id):
            if fam.revoked_at is None:
                self.revoke_family(fam.family_id, now, reason)
                n += 1
        return n
