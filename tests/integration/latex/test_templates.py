"""Templates: every one compiles with its example; injected values come out printed literally
(the real TeX runner; escaping and validation are in tests/unit/latex/test_templates.py)."""

from __future__ import annotations

import pytest

from agents.latex import templates
from agents.latex.handlers import CompilePolicy, handle_template_render
from agents.latex.messages import RenderTemplate
from tests.integration.latex.conftest import pdf_text
from tests.unit.latex.conftest import context
from tests.unit.latex.test_templates import ATTACKS

pytestmark = pytest.mark.timeout(120)


async def test_injection_attempts_are_printed_literally(runner, store, tmp_path):
    values = {"title": "Safe?", "body": "\n\n".join(ATTACKS)}
    out = await handle_template_render(
        RenderTemplate(template="article", values=values, compile=True),
        tex=runner,
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
    )
    _, pdf = await store.get(out["compile"]["artifact"]["artifact_id"])
    text = pdf_text(pdf, tmp_path)
    assert "\\input{/etc/passwd}" in text and "root:" not in text
    assert "\\immediate\\write18{touch /tmp/pwned}" in text
    assert "^^5cinput" in text and "\\end{document}" in text
    assert not [w for w in out["compile"]["warnings"] if w["kind"] == "shell_escape_blocked"]


@pytest.mark.parametrize("name", sorted(templates.TEMPLATES))
async def test_every_template_compiles_with_its_example(name, runner, store, tmp_path):
    example = templates.TEMPLATES[name].example
    out = await handle_template_render(
        RenderTemplate(template=name, values=example, compile=True),
        tex=runner,
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
    )
    assert out["source"].startswith("\\documentclass")
    result = out["compile"]
    assert result["artifact"]["pages"] >= 1 and result["artifact"]["filename"] == f"{name}.pdf"
    _, pdf = await store.get(result["artifact"]["artifact_id"])
    text = " ".join(pdf_text(pdf, tmp_path).split())
    first_value = next(v for v in example.values() if isinstance(v, str))
    assert first_value in text


async def test_xelatex_variant_uses_fontspec(runner, store, tmp_path):
    values = {"name": "Zoë Ångström", "skills": ["Ünïcode"]}
    out = await handle_template_render(
        RenderTemplate(template="resume", values=values, compile=True, engine="xelatex"),
        tex=runner,
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
    )
    assert "\\usepackage{fontspec}" in out["source"]
    _, pdf = await store.get(out["compile"]["artifact"]["artifact_id"])
    text = pdf_text(pdf, tmp_path)
    assert "Zoë Ångström" in text and "Ünïcode" in text
