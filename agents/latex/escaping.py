"""LaTeX-escaping of user values: a value can never become a command.

Every character with a special category code in LaTeX (``\\ { } $ & # ^ _ % ~``)
is replaced by a command that prints it, so no control sequence, group,
math shift, parameter, ``^^`` escape or comment can be formed from a value.
``[ ]`` are braced (no optional argument can be smuggled after ``\\item``),
``< > |`` get their text commands, control characters are dropped.
"""

from __future__ import annotations

import re

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",
    "]": "{]}",
}
_SPECIAL = re.compile("|".join(re.escape(c) for c in _ESCAPES))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n")


class LatexSafe(str):
    """Already-escaped LaTeX (the template engine prints it as is)."""

    __slots__ = ()


def escape(value: object) -> LatexSafe:
    """One line of text: specials escaped, whitespace (newlines too) collapsed."""
    if isinstance(value, LatexSafe):
        return value
    text = _CONTROL.sub("", str(value))
    text = _SPACE.sub(" ", text).strip()
    return LatexSafe(_SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], text))


def paragraphs(value: object) -> LatexSafe:
    """Multi-paragraph text: blank lines separate paragraphs, each escaped."""
    text = _CONTROL.sub("", str(value)).replace("\r\n", "\n")
    parts = [escape(p) for p in _BLANK_LINES.split(text)]
    return LatexSafe("\n\n".join(p for p in parts if p))


def lines(value: object) -> LatexSafe:
    """Line breaks kept (addresses): each line escaped, joined with ``\\\\``."""
    items = value if isinstance(value, list) else str(value).splitlines()
    parts = [escape(item) for item in items]
    return LatexSafe(" \\\\\n".join(p for p in parts if p))
