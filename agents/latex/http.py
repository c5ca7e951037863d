"""The LaTeX worker's HTTP routes: ``GET /artifacts/{id}`` (the PDF) and ``POST /render-math``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust import web

from enginedge_streams.ports.artifact_store import ArtifactStore, valid_artifact_id
from enginedge_streams.web.command_routes import install_command_routes

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime

ROUTES = {"/render-math": "latex.render_math"}


def _safe_filename(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._- ") or "artifact"


def install_routes(runtime: WorkerRuntime, artifacts: ArtifactStore) -> None:
    install_command_routes(runtime, ROUTES)

    class Artifact(web.View):
        async def get(self, request: web.Request, artifact_id: str) -> web.Response:
            if not valid_artifact_id(artifact_id):
                return self.json(
                    {"error": {"code": "INVALID_ID", "message": "invalid artifact id"}},
                    status=400,
                )
            item = await artifacts.get(artifact_id)
            if item is None:
                return self.json(
                    {
                        "error": {
                            "code": "NOT_FOUND",
                            "message": f"no artifact {artifact_id} (unknown or expired)",
                        }
                    },
                    status=404,
                )
            info, data = item
            return self.bytes(
                data,
                content_type=info.content_type,
                headers={
                    "Content-Disposition": f'inline; filename="{_safe_filename(info.filename)}"',
                    "ETag": f'"{info.sha256}"',
                    "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "private, max-age=3600",
                },
            )

    runtime.app.page("/artifacts/{artifact_id}")(Artifact)
