"""Generated documentation matches the code: configuration table and JSON Schemas."""

from __future__ import annotations

from pathlib import Path

from enginedge_streams.config_doc import inject
from enginedge_streams.schemas import render

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_table_is_current():
    readme = (ROOT / "README.md").read_text()
    assert inject(readme) == readme, "run: .venv/bin/enginedge config --write-readme README.md"


def test_json_schemas_in_docs_are_current():
    expected = render()
    for rel, content in expected.items():
        path = ROOT / "docs" / "schemas" / rel
        assert path.exists() and path.read_text() == content, f"run: make schemas ({rel})"
