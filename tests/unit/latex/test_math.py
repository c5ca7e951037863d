"""latex.render_math: MathML (latex2mathml), SVG (ziamath) and PNG (resvg), no TeX run."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from agents.latex.handlers import handle_render_math
from agents.latex.messages import RenderMath
from agents.latex.ziamath_math_renderer import ZiamathMathRenderer
from enginedge_streams.errors import ValidationError

pytestmark = pytest.mark.timeout(60)
MATHML = "{http://www.w3.org/1998/Math/MathML}"


async def test_mathml_and_svg_by_default():
    out = await handle_render_math(
        RenderMath(latex=r"\frac{a}{b} + \sqrt{x^2}"), math=ZiamathMathRenderer()
    )
    root = ET.fromstring(out["mathml"])
    assert root.tag == f"{MATHML}math" and root.get("display") == "inline"
    assert root.find(f".//{MATHML}mfrac") is not None and root.find(f".//{MATHML}msqrt") is not None
    svg = ET.fromstring(out["svg"])
    assert svg.tag.endswith("svg") and float(svg.get("width")) > 0
    assert "png_base64" not in out


async def test_png_when_asked_scales_with_zoom():
    r = ZiamathMathRenderer()
    small = await handle_render_math(
        RenderMath(latex=r"\sum_{i=0}^n i^2", display=True, formats=["png"], png_scale=1), math=r
    )
    big = await handle_render_math(
        RenderMath(latex=r"\sum_{i=0}^n i^2", display=True, formats=["png"], png_scale=3), math=r
    )
    png = base64.b64decode(small["png_base64"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and small["png"]["bytes"] == len(png)
    assert abs(big["png"]["width"] - 3 * small["png"]["width"]) <= 3
    assert "mathml" not in small and "svg" not in small


async def test_display_style():
    out = await handle_render_math(RenderMath(latex="x", display=True), math=ZiamathMathRenderer())
    assert ET.fromstring(out["mathml"]).get("display") == "block"


@pytest.mark.parametrize("latex", [r"\frac{a", r"x}", r"\notacommand{x}"])
async def test_bad_formulas_fail_clearly(latex):
    with pytest.raises(ValidationError) as exc:
        await handle_render_math(RenderMath(latex=latex), math=ZiamathMathRenderer())
    assert exc.value.code == "INVALID_MATH"


def test_size_limits():
    with pytest.raises(Exception):
        RenderMath(latex="x" * 1001)
    with pytest.raises(Exception):
        RenderMath(latex="x", formats=[])


async def test_png_pixel_budget_and_result_size_are_enforced():
    from enginedge_streams.errors import LimitExceededError

    wide = " + ".join(f"x_{{{i}}}" for i in range(90))
    with pytest.raises(LimitExceededError) as exc:
        await handle_render_math(
            RenderMath(latex=wide, formats=["png"], size=200, png_scale=8),
            math=ZiamathMathRenderer(),
        )
    assert exc.value.code == "IMAGE_TOO_LARGE"
