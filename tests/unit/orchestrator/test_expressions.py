"""The expression form: $ref / $text / $literal, the extra functions, what an expression reads."""

from __future__ import annotations

import pytest

from agents.orchestrator.expressions import (
    ExpressionError,
    UnresolvedReferenceError,
    compile_expression,
    references,
    resolve,
    root_paths,
    split_text,
)

CTX = {
    "input": {
        "name": "Ada",
        "tags": ["a", "b"],
        "obj": {"k": 1},
        "text": "- one\n\n2. two\n* three",
    },
    "steps": {"parse": {"result": {"skills": ["python", "sql"], "n": 3}, "status": "completed"}},
    "request": {"id": "wf-1"},
}


def test_ref_default_required_and_literal():
    template = {
        "skills": {"$ref": "steps.parse.result.skills"},
        "missing": {"$ref": "input.nope", "default": "fallback"},
        "nested": [{"$ref": "input.obj"}, 3, "plain ${not.expanded}"],
        "lit": {"$literal": {"$ref": "kept as is"}},
    }
    out = resolve(template, CTX)
    assert out == {
        "skills": ["python", "sql"],
        "missing": "fallback",
        "nested": [{"k": 1}, 3, "plain ${not.expanded}"],
        "lit": {"$ref": "kept as is"},
    }
    with pytest.raises(UnresolvedReferenceError, match=r"payload\.x: 'input\.nope' is null"):
        resolve({"x": {"$ref": "input.nope", "required": True}}, CTX, "payload")


def test_text_interpolates_expressions_with_braces_and_escapes():
    text = "Hi ${input.name}: ${length(input.tags)} tags, ${ {a: input.obj.k} }, $${literal}"
    assert resolve({"$text": text}, CTX) == 'Hi Ada: 2 tags, {"a":1}, ${literal}'
    assert resolve({"$text": "[${input.nope}]"}, CTX) == "[]"  # null -> empty
    assert split_text("a ${x} b") == [(False, "a "), (True, "x"), (False, " b")]
    with pytest.raises(ExpressionError, match="unclosed"):
        split_text("oops ${input.name")


def test_extra_functions():
    assert resolve({"$ref": "lines(input.text)"}, CTX) == ["one", "two", "three"]
    assert resolve({"$ref": "split('a,b,,c', ',')"}, CTX) == ["a", "b", "", "c"]
    assert resolve({"$ref": "truncate(input.name, `2`)"}, CTX) == "Ad"
    assert resolve({"$ref": "parse_json('noise {\"a\": [1]} tail')"}, CTX) == {"a": [1]}
    assert resolve({"$ref": "parse_json('no json')"}, CTX) is None
    assert resolve({"$ref": "zip(input.tags, `[1, 2, 3]`)"}, CTX) == [["a", 1], ["b", 2]]
    with pytest.raises(ExpressionError, match=r"failed"):
        resolve({"$ref": "length(`5`)"}, CTX)


def test_references_and_errors_point_at_the_place():
    refs = list(references({"a": {"b": [{"$text": "${input.x} ${steps.s.result}"}]}}, "payload"))
    assert [(r.where, r.expression) for r in refs] == [
        ("payload.a.b[0]", "input.x"),
        ("payload.a.b[0]", "steps.s.result"),
    ]
    with pytest.raises(ExpressionError, match=r"payload.q: unknown directive '\$reff'"):
        list(references({"q": {"$reff": "x"}}, "payload"))
    with pytest.raises(ExpressionError, match="at column 6"):
        list(references({"q": {"$ref": "steps..a"}}, "payload"))
    with pytest.raises(ExpressionError, match="only `default` and `required`"):
        list(references({"q": {"$ref": "a", "other": 1}}, "payload"))


@pytest.mark.parametrize(
    ("expression", "paths"),
    [
        ("steps.a.result.items[].name", [["steps", "a", "result", "items"]]),
        ("join(', ', steps.b.result[?x > `1`].y)", [["steps", "b", "result"]]),
        ("{x: input.x, y: item}", [["input", "x"], ["item"]]),
        ("sort_by(steps.s.result, &score)[0].name", [["steps", "s", "result"]]),
        ("steps.a.result | [0]", [["steps", "a", "result"]]),
        ("@", [[]]),
        ("`[1, 2]`", []),
    ],
)
def test_root_paths(expression, paths):
    assert root_paths(compile_expression(expression)) == paths
