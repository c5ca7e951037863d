"""Which HTTP routes can change state, and what guards them (no worker process needed).

``POST /commands`` (the platform view, the same code in every worker) needs the
bearer token: tested live in ``test_live_worker.py``. The other POST routes a
worker adds are either the synchronous command routes, which may only run
*read-only* commands (no token: they change nothing), or the orchestrator's,
which go through its ``Authenticator`` (tested here without a token, and live in
``tests/integration/test_orchestrator_*``).
"""

from __future__ import annotations

import importlib

import pytest

import agents
from agents.orchestrator.ports import Unauthorized
from agents.orchestrator.static_token_authenticator import StaticTokenAuthenticator
from enginedge_streams.handlers import CommandSpec


def _routes(worker_type: str) -> dict[str, str]:
    try:
        module = importlib.import_module(f"agents.{worker_type}.http")
    except ImportError:
        return {}
    return dict(getattr(module, "ROUTES", {}))


@pytest.mark.parametrize("worker_type", sorted(agents.REGISTRY))
def test_unauthenticated_command_routes_only_run_read_only_commands(worker_type: str) -> None:
    specs = {s.command_type: s for s in agents.commands(worker_type) if isinstance(s, CommandSpec)}
    for path, command_type in _routes(worker_type).items():
        spec = specs[command_type]
        assert spec.read_only, f"{worker_type} POST {path} runs {command_type}, which mutates"
        assert not spec.sensitive, f"{worker_type} POST {path} would return secrets"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
async def test_orchestrator_routes_refuse_missing_or_wrong_tokens(header: str) -> None:
    from pydantic import SecretStr

    for auth in (StaticTokenAuthenticator(None), StaticTokenAuthenticator(SecretStr("right-one"))):
        with pytest.raises(Unauthorized):
            await auth.authenticate(header)
