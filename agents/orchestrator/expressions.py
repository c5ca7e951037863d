"""The expression form of step payloads: JMESPath references into the request's context.

A payload (or any template: ``output``, a dynamic ``worker``) is plain JSON in
which three directives are replaced when the step is dispatched:

* ``{"$ref": "<jmespath>"}`` -> the value of the expression (``null`` when it
  matches nothing); optional ``"default": <value>`` when null, and
  ``"required": true`` to fail the step instead of sending a null;
* ``{"$text": "Hello ${input.name}, ${length(steps.a.result.items)} items"}``
  -> a string; each ``${...}`` is an expression (strings inserted as they are,
  null as empty, anything else as compact JSON); ``$${`` is a literal ``${``;
* ``{"$literal": <value>}`` -> the value, untouched (to pass ``$ref`` keys on).

The context is ``input`` (the request input), ``steps.<id>.result`` (also
``.status``, ``.error``, ``.attempts``), ``request.id`` / ``request.workflow``
/ ``request.user_id`` / ``request.tenant_id``, and in a fan-out step ``item``
and ``index``. Besides JMESPath's functions there are ``lines(s)``,
``split(s, sep)``, ``truncate(s, n)``, ``zip(a, b)`` and ``parse_json(s)``.

This module is pure Python: no Faust, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath import exceptions as jp_errors
from jmespath import functions as jp_functions

DIRECTIVES = ("$ref", "$text", "$literal")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6]|\d{1,3}[.)])\s+")


class ExpressionError(ValueError):
    """An expression that does not compile, or that failed while being evaluated."""


class _Functions(jp_functions.Functions):  # type: ignore[misc]  # jmespath is untyped
    @jp_functions.signature({"types": ["string", "null"]})  # type: ignore[untyped-decorator]
    def _func_lines(self, text: str | None) -> list[str]:
        """Non-blank lines, trimmed, without a leading bullet or number marker."""
        out = []
        for line in (text or "").splitlines():
            cleaned = _BULLET.sub("", line).strip()
            if cleaned:
                out.append(cleaned)
        return out

    @jp_functions.signature({"types": ["string", "null"]}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_split(self, text: str | None, sep: str) -> list[str]:
        if not sep:
            raise jp_errors.JMESPathError("split: the separator must not be empty")
        return [] if text is None else text.split(sep)

    @jp_functions.signature({"types": ["string", "null"]}, {"types": ["number"]})  # type: ignore[untyped-decorator]
    def _func_truncate(self, text: str | None, n: float) -> str:
        return (text or "")[: max(0, int(n))]

    @jp_functions.signature({"types": ["array"]}, {"types": ["array"]})  # type: ignore[untyped-decorator]
    def _func_zip(self, left: list[Any], right: list[Any]) -> list[list[Any]]:
        """Pairs ``[[l0, r0], [l1, r1], ...]`` (as long as the shorter list)."""
        return [[a, b] for a, b in zip(left, right, strict=False)]

    @jp_functions.signature({"types": ["string", "null"]})  # type: ignore[untyped-decorator]
    def _func_parse_json(self, text: str | None) -> Any:
        """The JSON in a string (or the first {...}/[...] in it); null when there is none."""
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            pass
        for opener, closer in (("{", "}"), ("[", "]")):
            start, end = text.find(opener), text.rfind(closer)
            if 0 <= start < end:
                try:
                    return json.loads(text[start : end + 1])
                except ValueError:
                    continue
        return None


_OPTIONS = jmespath.Options(custom_functions=_Functions())


@dataclass(frozen=True)
class Reference:
    """An expression found in a template, and where."""

    where: str  # e.g. "payload.values.name"
    expression: str
    parsed: Any  # jmespath ParsedResult


def compile_expression(expression: str) -> Any:
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError("an expression must be a non-empty string")
    try:
        return jmespath.compile(expression)
    except jp_errors.JMESPathError as exc:
        detail = str(exc).split("\n", 1)[0].split(": Parse error at", 1)[0].rstrip(":")
        position = getattr(exc, "lex_position", None)
        at = f" at column {position}" if isinstance(position, int) else ""
        raise ExpressionError(f"invalid JMESPath {expression!r}{at}: {detail}") from None


def evaluate(parsed: Any, context: dict[str, Any]) -> Any:
    try:
        return parsed.search(context, options=_OPTIONS)
    except jp_errors.JMESPathError as exc:
        raise ExpressionError(f"{parsed.expression!r} failed: {exc}") from None


# -- $text ----------------------------------------------------------------------------


def split_text(template: str) -> list[tuple[bool, str]]:
    """``"a ${x} b"`` -> [(False, "a "), (True, "x"), (False, " b")]; ``$${`` is literal."""
    parts: list[tuple[bool, str]] = []
    buf: list[str] = []
    i, n = 0, len(template)
    while i < n:
        if template.startswith("$${", i):
            buf.append("${")
            i += 3
            continue
        if template.startswith("${", i):
            end = _closing_brace(template, i + 2)
            if end < 0:
                raise ExpressionError(f"unclosed ${{ at position {i} in {template!r}")
            if buf:
                parts.append((False, "".join(buf)))
                buf = []
            expr = template[i + 2 : end].strip()
            if not expr:
                raise ExpressionError(f"empty ${{}} at position {i} in {template!r}")
            parts.append((True, expr))
            i = end + 1
            continue
        buf.append(template[i])
        i += 1
    if buf:
        parts.append((False, "".join(buf)))
    return parts


def _closing_brace(text: str, start: int) -> int:
    depth, quote = 0, ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def render_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- templates ------------------------------------------------------------------------


def references(template: Any, where: str = "") -> Iterator[Reference]:
    """Every expression in a template (raises ExpressionError on a malformed directive)."""
    if isinstance(template, dict):
        directive = [k for k in template if isinstance(k, str) and k.startswith("$")]
        if directive:
            yield from _directive_refs(template, directive, where)
            return
        for key, value in template.items():
            yield from references(value, f"{where}.{key}" if where else str(key))
    elif isinstance(template, list):
        for i, value in enumerate(template):
            yield from references(value, f"{where}[{i}]")


def _directive_refs(template: dict[str, Any], keys: list[str], where: str) -> Iterator[Reference]:
    unknown = [k for k in keys if k not in DIRECTIVES]
    if unknown:
        raise ExpressionError(
            f"{where or '(top)'}: unknown directive {unknown[0]!r} "
            f"(known: {', '.join(DIRECTIVES)}; wrap a literal object in {{$literal: ...}})"
        )
    if len(keys) > 1:
        raise ExpressionError(f"{where or '(top)'}: one directive per object, got {keys}")
    (key,) = keys
    if key == "$literal":
        if len(template) != 1:
            raise ExpressionError(f"{where or '(top)'}: $literal takes no other keys")
        return
    if key == "$ref":
        extra = set(template) - {"$ref", "default", "required"}
        if extra:
            raise ExpressionError(
                f"{where or '(top)'}: $ref allows only `default` and `required` beside it, "
                f"got {sorted(extra)}"
            )
        if not isinstance(template.get("required", False), bool):
            raise ExpressionError(f"{where or '(top)'}: `required` must be true or false")
        expr = template["$ref"]
        yield Reference(where, expr, _compile_at(expr, where))
        return
    if len(template) != 1:
        raise ExpressionError(f"{where or '(top)'}: $text takes no other keys")
    text = template["$text"]
    if not isinstance(text, str):
        raise ExpressionError(f"{where or '(top)'}: $text must be a string")
    try:
        parts = split_text(text)
    except ExpressionError as exc:
        raise ExpressionError(f"{where or '(top)'}: {exc}") from None
    for is_expr, part in parts:
        if is_expr:
            yield Reference(where, part, _compile_at(part, where))


def _compile_at(expression: Any, where: str) -> Any:
    try:
        return compile_expression(expression)
    except ExpressionError as exc:
        raise ExpressionError(f"{where or '(top)'}: {exc}") from None


class UnresolvedReferenceError(ExpressionError):
    """A ``required`` reference that resolved to null."""


def resolve(template: Any, context: dict[str, Any], where: str = "") -> Any:
    """The template with every directive replaced by its value in ``context``."""
    if isinstance(template, dict):
        if "$literal" in template and len(template) == 1:
            return template["$literal"]
        if "$ref" in template:
            value = evaluate(compile_expression(template["$ref"]), context)
            if value is None and "default" in template:
                return template["default"]
            if value is None and template.get("required"):
                raise UnresolvedReferenceError(
                    f"{where or 'payload'}: {template['$ref']!r} is null and required"
                )
            return value
        if "$text" in template and len(template) == 1:
            out = []
            for is_expr, part in split_text(template["$text"]):
                out.append(
                    render_value(evaluate(compile_expression(part), context)) if is_expr else part
                )
            return "".join(out)
        return {
            k: resolve(v, context, f"{where}.{k}" if where else str(k)) for k, v in template.items()
        }
    if isinstance(template, list):
        return [resolve(v, context, f"{where}[{i}]") for i, v in enumerate(template)]
    return template


# -- what an expression reads ---------------------------------------------------------


def root_paths(parsed: Any) -> list[list[str]]:
    """The field paths an expression reads from the root of its context.

    ``steps.a.result.x[].y`` -> [["steps", "a", "result", "x"]]; a root ``@``
    gives [[]] (the whole context). Parts evaluated against projected
    elements (``[].y``, filters, ``&expr``) are relative and not included.
    """
    out: list[list[str]] = []
    _walk(parsed.parsed, out)
    return out


_LEFT_ONLY = frozenset(
    {"projection", "value_projection", "filter_projection", "flatten", "index_expression", "pipe"}
)
_ALL_CHILDREN = frozenset(
    {
        "multi_select_list",
        "multi_select_dict",
        "key_val_pair",
        "comparator",
        "and_expression",
        "or_expression",
        "not_expression",
    }
)


def relative_paths(parsed: Any) -> list[list[str]]:
    """Field paths read *relative* to a projected element or a piped value.

    ``x[].steps.a`` or ``x | steps.a`` read ``steps`` of the element, not of
    the request: the validator flags such names, a common silent-null mistake.
    """
    everything: list[list[str]] = []
    _walk_all(parsed.parsed, everything)
    roots = root_paths(parsed)
    out = []
    for path in everything:
        if path in roots:
            roots.remove(path)
        else:
            out.append(path)
    return out


def _visit(node: Any, out: list[list[str]]) -> tuple[Any, list[dict[str, Any]]] | None:
    """Record a field node's path in ``out``; for any other node its type and children
    (None: nothing more to walk)."""
    if not isinstance(node, dict):
        return None
    if node.get("type") == "field":
        out.append([str(node["value"])])
        return None
    return node.get("type"), node.get("children") or []


def _walk_all(node: dict[str, Any], out: list[list[str]]) -> None:
    """Every field path in the expression, wherever it is evaluated."""
    visited = _visit(node, out)
    if visited is None:
        return
    kind, children = visited
    if kind == "subexpression" and children and children[0].get("type") == "field":
        _walk_subexpression(children, out)
        rest = children[1:]
        i = 0
        while i < len(rest) and rest[i].get("type") == "field":
            i += 1
        for child in rest[i:]:
            _walk_all(child, out)
        return
    for child in children:
        _walk_all(child, out)


def _walk(node: dict[str, Any], out: list[list[str]]) -> None:
    visited = _visit(node, out)
    if visited is None:
        return
    kind, children = visited
    if kind == "subexpression":
        _walk_subexpression(children, out)
    elif kind in ("current", "identity"):
        out.append([])
    elif kind == "function_expression":
        for child in children:
            if child.get("type") != "expref":
                _walk(child, out)
    elif kind in _LEFT_ONLY:
        if children:
            _walk(children[0], out)
    elif kind in _ALL_CHILDREN:
        for child in children:
            _walk(child, out)
    # literal, index, slice, expref: read nothing from the root


def _walk_subexpression(children: list[dict[str, Any]], out: list[list[str]]) -> None:
    first = children[0]
    if first.get("type") != "field":
        _walk(first, out)
        return
    path = [str(first["value"])]
    for child in children[1:]:
        if child.get("type") != "field":
            break
        path.append(str(child["value"]))
    out.append(path)
