"""`enginedge search`: the payload it sends and how a hit names its source."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from enginedge_streams.cli.main import cli
from enginedge_streams.cli.search import format_hit, search_payload, source_of


def test_payload_filters_and_modes():
    p = search_payload("tabs", "kb", 3, "hybrid", 0.7, ("team=docs", "lang=en", "lang=fr"))
    assert p == {
        "query": "tabs",
        "collection": "kb",
        "top_k": 3,
        "mode": "hybrid",
        "alpha": 0.7,
        "filter": {"team": "docs", "lang": ["en", "fr"]},
    }
    assert "alpha" not in search_payload("q", "kb", 5, "keyword", 0.5, ())
    with pytest.raises(click.BadParameter):
        search_payload("q", "kb", 5, "vector", 0.5, ("no-equals",))


def test_a_hit_shows_the_ingested_file_path_first():
    hit = {
        "rank": 1,
        "score": 0.91234,
        "document_id": "doc-1",
        "page": 2,
        "headings": ["Guide", "Install"],
        "text": "Run   the\ninstaller " + "x" * 300,
        "metadata": {"source_path": "/srv/docs/a/index.html", "filename": "index.html"},
    }
    line = format_hit(hit, width=40)
    assert line.startswith("  1. [0.9123] /srv/docs/a/index.html p.2 > Guide > Install")
    assert "Run the installer" in line and line.endswith("…")
    assert source_of({"document_id": "d", "metadata": {"filename": "f.md"}}) == "f.md"
    assert source_of({"document_id": "d", "metadata": {}}) == "d"


def test_search_is_a_registered_command():
    result = CliRunner().invoke(cli, ["search", "--help"])
    assert result.exit_code == 0 and "source path" in result.output
