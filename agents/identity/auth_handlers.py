"""Login (throttled, uniform errors), refresh with rotation, revoke, verify, key rotation."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from agents.identity.emails import normalise_email
from agents.identity.keys import KeyRing
from agents.identity.messages import Login, RotateKeys, TokenIn
from agents.identity.model import User
from agents.identity.ports import PasswordHasher
from agents.identity.repository import IdentityRepository
from agents.identity.tokens import TokenError, TokenService
from agents.identity.user_handlers import IdentityPolicy
from enginedge_streams.errors import LimitExceededError, PermanentError
from enginedge_streams.handlers import CommandContext
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.rate_limiter import RateLimiter

BAD_CREDENTIALS = "invalid e-mail or password"


async def ensure_signing_key(keys: KeyRing, clock: Clock) -> None:
    if keys.active(clock.now()) is None:
        key = await keys.generate()
        if keys.active(clock.now()) is None:  # nobody installed one while we generated
            keys.install(key, clock.now())


async def _check(limiter: RateLimiter, key: str, limit: int, window: float, what: str) -> None:
    """Refuse when ``limit`` failures are already logged in the window (cost 0: a look only)."""
    decision = await limiter.acquire(key, limit=limit - 1, window_seconds=window, cost=0)
    if not decision.allowed:
        raise LimitExceededError(
            f"too many failed logins for this {what}; try again later",
            code="LOGIN_THROTTLED",
            details={"retry_after": round(decision.retry_after, 1), "scope": what},
        )


async def _fail(limiter: RateLimiter, keys: list[tuple[str, int]], window: float) -> PermanentError:
    for key, limit in keys:
        await limiter.acquire(key, limit=limit, window_seconds=window)
    return PermanentError(BAD_CREDENTIALS, code="INVALID_CREDENTIALS")


async def handle_login(
    cmd: Login,
    *,
    repo: IdentityRepository,
    hasher: PasswordHasher,
    tokens: TokenService,
    keys: KeyRing,
    limiter: RateLimiter,
    policy: IdentityPolicy,
    clock: Clock,
    ctx: CommandContext,
) -> dict[str, Any]:
    """Failed attempts are counted per account and per client IP (Redis, all replicas)."""
    window = policy.login_window_seconds
    password = cmd.password.get_secret_value()
    try:
        email = normalise_email(cmd.email)
    except PermanentError:
        email = cmd.email.strip().lower()
    account = hashlib.sha256(email.encode()).hexdigest()[:32]
    counters = [(f"login:acct:{account}", policy.login_limit_per_account)]
    if cmd.ip:
        counters.append((f"login:ip:{cmd.ip}", policy.login_limit_per_ip))
        await _check(limiter, counters[1][0], policy.login_limit_per_ip, window, "IP address")
    await _check(limiter, counters[0][0], policy.login_limit_per_account, window, "account")
    owner = repo.user_id_by_email(email)
    user: User | None = repo.user(owner) if owner else None
    if user is None or user.password_hash is None or user.disabled:
        await hasher.burn(password)  # same cost as a real check: no user-existence oracle
        raise await _fail(limiter, counters, window)
    if not await hasher.verify(user.password_hash, password):
        raise await _fail(limiter, counters, window)
    if hasher.needs_rehash(user.password_hash):  # parameters were raised since it was hashed
        user.password_hash = await hasher.hash(password)
        repo.save_user(user)
    await ensure_signing_key(keys, clock)
    issued = tokens.issue(user, clock.now(), seed=ctx.command_id)
    return {**issued, "user": user.public()}


async def handle_refresh(
    cmd: TokenIn, *, tokens: TokenService, keys: KeyRing, clock: Clock, ctx: CommandContext
) -> dict[str, Any]:
    await ensure_signing_key(keys, clock)
    user, issued = tokens.refresh(cmd.token.get_secret_value(), clock.now(), seed=ctx.command_id)
    return {**issued, "user_id": user.user_id}


async def handle_revoke(cmd: TokenIn, *, tokens: TokenService, clock: Clock) -> dict[str, Any]:
    return tokens.revoke(cmd.token.get_secret_value(), clock.now())


async def handle_verify(cmd: TokenIn, *, tokens: TokenService, clock: Clock) -> dict[str, Any]:
    """RFC 7662-style: an invalid token is an answer (`active: false`), not a failure."""
    try:
        claims = tokens.verify(cmd.token.get_secret_value(), clock.now())
    except TokenError as exc:
        return {"active": False, "error": exc.code}
    return {"active": True, "claims": claims}


async def handle_rotate_keys(cmd: RotateKeys, *, keys: KeyRing, clock: Clock) -> dict[str, Any]:
    now = clock.now()
    if cmd.reason == "initial" and keys.active(now) is not None:
        return {"rotated": False, "reason": "a signing key exists"}
    if cmd.reason == "scheduled" and not keys.needs_rotation(now):
        return {"rotated": False, "reason": "the signing key is not due for rotation"}
    key = await keys.generate()
    record = keys.install(key, clock.now())
    return {
        "rotated": True,
        "kid": record.kid,
        "published": [k["kid"] for k in keys.jwks(now)["keys"]],
    }


def rotation_command_id(now_ts: float, period: timedelta) -> str:
    """One id per rotation period, so every replica's timer asks for the same rotation."""
    return f"keys-rotate-{int(now_ts // period.total_seconds())}"
