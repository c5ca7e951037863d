"""``ReportRenderer`` adapters: the LaTeX worker over the bus, or reportlab in-process.

``AutoReportRenderer`` uses the LaTeX worker when it answers a ping and falls
back to reportlab (stored in this worker's artifact store, served by
``GET /artifacts/{id}`` here) when it is absent or its compile fails.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from agents.interview.report import latex_source, reportlab_pdf
from enginedge_streams.ports.artifact_store import ArtifactStore
from enginedge_streams.ports.bus_caller import BusCaller

log = logging.getLogger("enginedge.interview.report")


class LatexReportRenderer:
    def __init__(self, caller: BusCaller, *, timeout: float = 120.0) -> None:
        self.caller = caller
        self.timeout = timeout

    async def render(self, report: dict[str, Any], *, artifact_id: str) -> dict[str, Any]:
        payload = {
            "main": latex_source(report),
            "filename": "interview-report.pdf",
            "engine": "pdflatex",
            "max_passes": 2,
        }
        data = await self.caller.call("latex", "latex.compile", payload, timeout=self.timeout)
        artifact = dict(data["artifact"])
        return {**artifact, "renderer": "latex", "served_by": "latex"}


class ReportlabReportRenderer:
    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts

    async def render(self, report: dict[str, Any], *, artifact_id: str) -> dict[str, Any]:
        pdf = await asyncio.to_thread(reportlab_pdf, report)
        info = await self.artifacts.put(
            pdf,
            content_type="application/pdf",
            filename="interview-report.pdf",
            artifact_id=artifact_id,
            metadata={"session_id": str(report["session_id"])},
        )
        return {
            **info.view(),
            "url": f"/artifacts/{info.artifact_id}",
            "renderer": "reportlab",
            "served_by": "interview",
            "content_base64": base64.b64encode(pdf).decode() if len(pdf) < 200_000 else None,
        }


class AutoReportRenderer:
    def __init__(
        self,
        latex: LatexReportRenderer,
        local: ReportlabReportRenderer,
        caller: BusCaller,
        *,
        mode: str = "auto",
        probe_timeout: float = 3.0,
    ) -> None:
        self.latex = latex
        self.local = local
        self.caller = caller  # is the LaTeX worker answering (a cached ping)
        self.mode = mode
        self.probe_timeout = probe_timeout

    async def render(self, report: dict[str, Any], *, artifact_id: str) -> dict[str, Any]:
        if self.mode == "reportlab" or (
            self.mode == "auto"
            and not await self.caller.available("latex", timeout=self.probe_timeout)
        ):
            return await self.local.render(report, artifact_id=artifact_id)
        try:
            return await self.latex.render(report, artifact_id=artifact_id)
        except Exception as exc:
            if self.mode == "latex":
                raise
            log.warning("LaTeX rendering failed (%s); using reportlab", exc)
            out = await self.local.render(report, artifact_id=artifact_id)
            return {**out, "latex_error": str(exc)}
