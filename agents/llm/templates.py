"""Prompt templates with validated variables: a missing variable is an error, never a blank.

Built-in templates follow the guide (``code_generation``, ``analysis``,
``summarization``, ``translation``, ``question_answering``, ``explanation``);
``LLM_PROMPT_TEMPLATES`` (JSON, or ``@path``) adds or replaces templates:
``{"name": {"system": "...", "user": "... {var} ...", "defaults": {"var": "x"}}}``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from enginedge_streams.errors import ConfigError, NotFoundError, ValidationError

_IDENT = set(string.ascii_letters + string.digits + "_")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    user: str
    system: str = ""
    defaults: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def variables(self) -> set[str]:
        names: set[str] = set()
        for text in (self.system, self.user):
            for _, field_name, _, _ in string.Formatter().parse(text):
                if field_name is None:
                    continue
                if not field_name or not set(field_name) <= _IDENT or field_name[0].isdigit():
                    raise ConfigError(
                        f"template {self.name!r}: placeholder {{{field_name}}} must be a plain name"
                    )
                names.add(field_name)
        return names

    def required(self) -> set[str]:
        return self.variables() - set(self.defaults)

    def render(self, variables: dict[str, Any]) -> tuple[str, str]:
        """(system, user) with every placeholder filled; errors name what is missing/unknown."""
        known = self.variables()
        missing = sorted(v for v in self.required() if v not in variables)
        if missing:
            raise ValidationError(
                f"template {self.name!r} needs variables: {', '.join(missing)}",
                code="TEMPLATE_VARIABLE_MISSING",
                details={"missing": missing, "required": sorted(self.required())},
            )
        unknown = sorted(set(variables) - known)
        if unknown:
            raise ValidationError(
                f"template {self.name!r} has no variables {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(known)) or 'none'})",
                code="TEMPLATE_VARIABLE_UNKNOWN",
                details={"unknown": unknown, "variables": sorted(known)},
            )
        values = {**self.defaults, **{k: _text(k, v) for k, v in variables.items()}}
        empty = sorted(k for k in self.required() if not values[k].strip())
        if empty:
            raise ValidationError(
                f"template {self.name!r}: variables must not be blank: {', '.join(empty)}",
                code="TEMPLATE_VARIABLE_MISSING",
                details={"blank": empty},
            )
        return self.system.format_map(values), self.user.format_map(values)


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"template variable {name!r} must be a string or a number",
            code="TEMPLATE_VARIABLE_INVALID",
        )
    return str(value)


BUILTIN: list[PromptTemplate] = [
    PromptTemplate(
        "code_generation",
        system="You are an expert {language} programmer. Answer with correct, idiomatic, "
        "commented code and a short explanation.",
        user="Write {language} code for the following task.\n\nTask: {task}\n\n"
        "Requirements: {requirements}",
        defaults={"language": "Python", "requirements": "none beyond the task"},
        description="Generate code for a task.",
    ),
    PromptTemplate(
        "analysis",
        system="You are a careful analyst. Be specific, cite the parts of the input you rely "
        "on, and separate facts from assumptions.",
        user="Analyse the following {subject}.\n\n{content}\n\nFocus on: {focus}",
        defaults={"subject": "text", "focus": "the key points, risks and recommendations"},
        description="Structured analysis of a piece of content.",
    ),
    PromptTemplate(
        "summarization",
        system="You summarise faithfully, without adding facts.",
        user="Summarise the following in at most {max_words} words.\n\n{text}",
        defaults={"max_words": "100"},
        description="Summarise a text.",
    ),
    PromptTemplate(
        "translation",
        system="You are a professional translator.",
        user="Translate the following text from {source_language} to {target_language}. "
        "Answer with the translation only.\n\n{text}",
        defaults={"source_language": "the detected language"},
        description="Translate a text.",
    ),
    PromptTemplate(
        "question_answering",
        system="Answer using only the context. If the context does not contain the answer, say so.",
        user="Context:\n{context}\n\nQuestion: {question}",
        description="Answer a question from a given context.",
    ),
    PromptTemplate(
        "explanation",
        system="You explain clearly to {audience}.",
        user="Explain {topic}.",
        defaults={"audience": "a curious non-expert"},
        description="Explain a topic for an audience.",
    ),
]


class TemplateLibrary:
    def __init__(self, templates: list[PromptTemplate]) -> None:
        self.templates = {t.name: t for t in templates}
        for t in templates:
            t.variables()  # placeholders are checked once, at start

    @classmethod
    def from_config(cls, raw: str) -> TemplateLibrary:
        templates = {t.name: t for t in BUILTIN}
        text = raw.strip()
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text()
            except OSError as exc:
                raise ConfigError(f"LLM_PROMPT_TEMPLATES: cannot read {text[1:]}: {exc}") from None
        if text:
            try:
                data = orjson.loads(text)
                for name, spec in data.items():
                    templates[name] = PromptTemplate(
                        name,
                        user=str(spec["user"]),
                        system=str(spec.get("system", "")),
                        defaults={k: str(v) for k, v in spec.get("defaults", {}).items()},
                        description=str(spec.get("description", "")),
                    )
            except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
                raise ConfigError(f"LLM_PROMPT_TEMPLATES: invalid: {exc!r}") from None
        return cls(list(templates.values()))

    def get(self, name: str) -> PromptTemplate:
        template = self.templates.get(name)
        if template is None:
            raise NotFoundError(
                f"unknown template {name!r}",
                code="UNKNOWN_TEMPLATE",
                details={"known": sorted(self.templates)},
            )
        return template

    def listing(self) -> list[dict[str, Any]]:
        return [
            {
                "name": t.name,
                "description": t.description,
                "variables": sorted(t.variables()),
                "required": sorted(t.required()),
                "defaults": t.defaults,
            }
            for t in sorted(self.templates.values(), key=lambda t: t.name)
        ]
