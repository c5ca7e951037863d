"""Templates: user values are escaped, never executed; listing, validation, large sources (no TeX
run: the compiles of every template are in tests/integration/latex/test_templates.py)."""

from __future__ import annotations

import pytest

from agents.latex import templates
from agents.latex.escaping import escape, lines, paragraphs
from agents.latex.handlers import CompilePolicy, handle_template_list, handle_template_render
from agents.latex.messages import ListTemplates, RenderTemplate
from enginedge_streams.errors import NotFoundError, ValidationError
from tests.unit.latex.conftest import context
from tests.unit.latex.test_compile_requests import tex

ATTACKS = [
    "\\input{/etc/passwd}",
    "}\\immediate\\write18{touch /tmp/pwned}{",
    "^^5cinput{/etc/passwd}",
    "$x$ & # % ~ _ ^ { } \\\\ \\par",
    "\\end{document}",
    "[evil]",
    "\\catcode`\\@=0 @input{x}",
]


def test_escape_turns_every_special_into_printable_text():
    assert escape("a & b % c $ d # e _ f { g } h ~ i ^ j \\ k") == (
        "a \\& b \\% c \\$ d \\# e \\_ f \\{ g \\} h \\textasciitilde{} i "
        "\\textasciicircum{} j \\textbackslash{} k"
    )
    assert escape("line one\nline two\x00\x07") == "line one line two"
    assert escape("[opt]") == "{[}opt{]}"
    assert paragraphs("one\n\ntwo & three") == "one\n\ntwo \\& three"
    assert lines(["12 Road", "Town_1"]) == "12 Road \\\\\nTown\\_1"


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_value_survives_as_a_command(attack):
    source = templates.render("article", {"title": attack, "body": attack, "author": attack})
    escaped = escape(attack)
    assert source.count(escaped) >= 2
    value_free = source.replace(escaped, "")
    for token in ("\\input", "\\write18", "^^5c", "\\catcode", "@input"):
        assert token not in value_free


async def test_list_and_validation():
    listing = (await handle_template_list(ListTemplates()))["templates"]
    assert {t["name"] for t in listing} == {"article", "report", "letter", "resume", "cv", "beamer"}
    resume = next(t for t in listing if t["name"] == "resume")
    assert "experience" in resume["variables"]["properties"] and resume["example"]
    with pytest.raises(NotFoundError):
        templates.render("memo", {})
    with pytest.raises(ValidationError) as exc:
        templates.render("letter", {"sender_name": "A", "recipient_name": "B", "extra": 1})
    fields = {e["field"] for e in exc.value.details["errors"]}
    assert {"body", "extra"} <= fields
    with pytest.raises(ValidationError):
        templates.render("article", {"title": "x" * 301})


async def test_huge_rendered_source_goes_to_an_artifact_not_the_result(store):
    # Escaping expands `\` 16-fold: 150 kB of values would make a ~2.4 MB source.
    sections = [{"heading": f"S{i}", "body": "\\" * 15_000} for i in range(10)]
    values = {"title": "Big", "sections": sections}
    runner = tex()
    out = await handle_template_render(
        RenderTemplate(template="article", values=values),
        tex=runner,
        artifacts=store,
        policy=CompilePolicy(),
        ctx=context(),
    )
    assert "source" not in out
    ref = out["source_artifact"]
    info, data = await store.get(ref["artifact_id"])
    assert info.content_type == "application/x-tex" and data.count(b"\\textbackslash{}") == 150_000
    assert runner.jobs == []  # not compiled: only rendered
