"""The identity worker's commands: plain async handlers over its ports (no Faust here)."""

from __future__ import annotations

from agents.identity import auth_handlers as auth
from agents.identity import messages as m
from agents.identity import oauth_handlers as oauth
from agents.identity import user_handlers as users
from enginedge_streams.handlers import CommandSpec

COMMANDS = [
    CommandSpec(
        "user.register",
        m.Register,
        users.handle_register,
        "Create a user (argon2id password, normalised unique e-mail, roles, tenant).",
    ),
    CommandSpec(
        "user.get", m.UserRef, users.handle_get_user, "A user's public record.", read_only=True
    ),
    CommandSpec(
        "user.update",
        m.UpdateUser,
        users.handle_update_user,
        "Change e-mail, password (revokes sessions), roles, tenant, profile, disabled.",
    ),
    CommandSpec(
        "user.delete",
        m.UserRef,
        users.handle_delete_user,
        "Delete a user and revoke all its sessions.",
    ),
    CommandSpec(
        "auth.login",
        m.Login,
        auth.handle_login,
        "E-mail + password -> access JWT + refresh token (throttled per account and IP).",
        sensitive=True,
    ),
    CommandSpec(
        "auth.refresh",
        m.TokenIn,
        auth.handle_refresh,
        "Rotate a refresh token; a reused one revokes its whole family.",
        sensitive=True,
    ),
    CommandSpec(
        "auth.revoke",
        m.TokenIn,
        auth.handle_revoke,
        "Revoke an access token (by jti) or a refresh token's family.",
    ),
    CommandSpec(
        "auth.verify",
        m.TokenIn,
        auth.handle_verify,
        "Introspect an access token: {active, claims} or {active: false, error}.",
        read_only=True,
    ),
    CommandSpec(
        "keys.rotate",
        m.RotateKeys,
        auth.handle_rotate_keys,
        "New signing key; old keys stay in the JWKS until their tokens expire.",
    ),
    CommandSpec(
        "oauth.authorize_url",
        m.AuthorizeUrl,
        oauth.handle_authorize_url,
        "Authorization URL for GitHub, Google or LinkedIn (state + PKCE + nonce).",
        sensitive=True,
    ),
    CommandSpec(
        "oauth.callback",
        m.Callback,
        oauth.handle_callback,
        "Exchange the code, fetch the profile, link or create the user, issue tokens.",
        sensitive=True,
    ),
    CommandSpec("oauth.unlink", m.Unlink, oauth.handle_unlink, "Unlink a provider account."),
]
