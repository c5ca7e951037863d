"""Renamed settings keep reading their old environment names (deprecated, see CHANGELOG)."""

from __future__ import annotations

from pathlib import Path

import pytest

from enginedge_streams.settings import Settings, load


@pytest.mark.parametrize(
    ("old", "value", "field", "expected"),
    [
        ("ARTIFACT_DIR", "/srv/blobs", "artifact_store_dir", Path("/srv/blobs")),
        ("ARTIFACT_RETENTION_HOURS", "5", "artifact_store_retention_hours", 5.0),
        ("ARTIFACT_MAX_TOTAL_MB", "17", "artifact_store_max_total_mb", 17),
    ],
)
def test_the_old_artifact_names_are_still_read(monkeypatch, old, value, field, expected):
    monkeypatch.setenv(old, value)
    assert getattr(load(Settings), field) == expected


def test_the_new_name_wins_over_the_old_one(monkeypatch):
    monkeypatch.setenv("ARTIFACT_DIR", "/old")
    monkeypatch.setenv("ARTIFACT_STORE_DIR", "/new")
    assert load(Settings).artifact_store_dir == Path("/new")


def test_fields_are_still_set_by_their_own_names():
    assert load(Settings, artifact_store_max_total_mb=3).artifact_store_max_total_mb == 3
