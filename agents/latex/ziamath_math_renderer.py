"""The ``MathRenderer`` port: latex2mathml (MathML), ziamath (SVG, own font), resvg (PNG).

No TeX run: a formula renders in milliseconds. ziamath ships its math font
(STIX Two) and draws glyphs as paths, so the SVG and the PNG rasterised from
it need no system fonts. Rendering is CPU-bound and runs in a thread.
"""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from enginedge_streams.errors import ValidationError

_ERROR_TAG = re.compile(r"<merror>.*?</merror>", re.S)


class ZiamathMathRenderer:
    async def mathml(self, latex: str, *, display: bool) -> str:
        return await asyncio.to_thread(self._mathml, latex, display)

    async def svg(self, latex: str, *, display: bool, size: float) -> str:
        return await asyncio.to_thread(self._svg, latex, display, size)

    async def png(self, svg: str, *, scale: float) -> bytes:
        return await asyncio.to_thread(self._png, svg, scale)

    @staticmethod
    def _mathml(latex: str, display: bool) -> str:
        from latex2mathml.converter import convert

        try:
            out: str = convert(latex, display="block" if display else "inline")
        except Exception as exc:  # the converter raises plain exceptions on bad input
            raise ValidationError(
                f"cannot parse the formula: {type(exc).__name__}: {exc}",
                code="INVALID_MATH",
                details={"latex": latex[:200]},
            ) from None
        return out

    @staticmethod
    def _svg(latex: str, display: bool, size: float) -> str:
        import ziamath

        try:
            math: Any = getattr(ziamath, "Latex")(latex, size=size, inline=not display)  # noqa: B009
            out: str = math.svg()
        except Exception as exc:
            raise ValidationError(
                f"cannot render the formula: {type(exc).__name__}: {exc}",
                code="INVALID_MATH",
                details={"latex": latex[:200]},
            ) from None
        if _ERROR_TAG.search(out):
            raise ValidationError(
                "cannot render the formula", code="INVALID_MATH", details={"latex": latex[:200]}
            )
        return out

    @staticmethod
    def _png(svg: str, scale: float) -> bytes:
        import resvg_py

        try:
            data = resvg_py.svg_to_bytes(svg_string=svg, zoom=scale, background="#ffffff")
        except ValueError as exc:
            raise ValidationError(
                f"cannot rasterise the formula: {html.escape(str(exc))}", code="INVALID_MATH"
            ) from None
        return bytes(data)
