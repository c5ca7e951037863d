"""The interview worker's HTTP route: ``GET /artifacts/{id}`` (report PDFs made with reportlab)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust import web

from enginedge_streams.ports.artifact_store import ArtifactStore, valid_artifact_id

if TYPE_CHECKING:
    from enginedge_streams.runtime import WorkerRuntime


def install_routes(runtime: WorkerRuntime, artifacts: ArtifactStore) -> None:
    class Artifact(web.View):
        async def get(self, request: web.Request, artifact_id: str) -> web.Response:
            if not valid_artifact_id(artifact_id):
                return self.json({"error": {"code": "INVALID_ID"}}, status=400)
            item = await artifacts.get(artifact_id)
            if item is None:
                return self.json({"error": {"code": "NOT_FOUND"}}, status=404)
            info, data = item
            return self.bytes(
                data,
                content_type=info.content_type,
                headers={
                    "Content-Disposition": 'inline; filename="interview-report.pdf"',
                    "ETag": f'"{info.sha256}"',
                    "X-Content-Type-Options": "nosniff",
                },
            )

    runtime.app.page("/artifacts/{artifact_id}")(Artifact)
