"""Enrichment over the bus: spaCy results mapped to entities/keywords/category; failures."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agents.news.bus_enricher import BusEnricher
from agents.news.enrich import classify, entities_from_spans
from agents.news.settings import DEFAULT_CATEGORIES
from enginedge_streams.adapters.kafka_bus_caller import KafkaBusCaller
from enginedge_streams.errors import (
    DeadlineExceededError,
    DependencyUnavailableError,
    PermanentError,
)
from enginedge_streams.records import ErrorInfo, Status

CATS = DEFAULT_CATEGORIES.split(",")


class FakeBus:
    def __init__(self, *, fail=None, status=Status.COMPLETED, error=None):
        self.calls = []
        self.fail, self.status, self.error = fail, status, error

    async def call(self, worker, command_type, payload, timeout=30):
        self.calls.append((worker, command_type, payload))
        if self.fail:
            raise self.fail
        if command_type == "nlp.analyze":
            result = {
                "entities": [
                    {"text": "the Acme Corp", "label": "ORG"},
                    {"text": "Acme Corp's", "label": "ORG"},
                    {"text": "Maria Lopez", "label": "PERSON"},
                    {"text": "Berlin", "label": "GPE"},
                    {"text": "Monday", "label": "DATE"},
                    {"text": "Rhine", "label": "LOC"},
                ]
            }
        elif command_type == "nlp.keywords":
            result = {
                "keywords": [{"keyword": "shares"}, {"keyword": "Shares"}, {"keyword": "revenue"}]
            }
        else:
            result = {"best": "business"}
        return SimpleNamespace(status=self.status, result=result, error=self.error)


async def test_spacy_results_become_entities_keywords_and_category():
    bus = FakeBus()
    e = await BusEnricher(KafkaBusCaller(bus), categories=CATS, timeout=5, max_chars=50).enrich(
        "Acme Corp shares rise", "x" * 500, category=None
    )
    assert e.entities.organizations == ["Acme Corp"]
    assert e.entities.people == ["Maria Lopez"] and e.entities.places == ["Berlin", "Rhine"]
    assert e.keywords == ["shares", "revenue"]
    assert e.category == "business" and e.category_source == "classifier"
    assert [c[1] for c in bus.calls] == ["nlp.analyze", "nlp.keywords"]  # local classifier
    assert all(c[0] == "spacy" for c in bus.calls)
    assert len(bus.calls[0][2]["text"]) == 50  # NEWS_ENRICH_MAX_CHARS
    bus = FakeBus()
    e = await BusEnricher(
        KafkaBusCaller(bus), categories=CATS, timeout=5, max_chars=500, classifier="spacy"
    ).enrich("t", "text", category=None)
    assert e.category == "business" and bus.calls[-1][1] == "nlp.categorize_topic"
    assert bus.calls[-1][2]["categories"][0]["keywords"]
    e = await BusEnricher(
        KafkaBusCaller(FakeBus()), categories=CATS, timeout=5, max_chars=500
    ).enrich("t", "text", category="sports")
    assert e.category == "sports" and e.category_source == "feed"


async def test_enrichment_failures_have_codes():
    timeout = BusEnricher(
        KafkaBusCaller(FakeBus(fail=DeadlineExceededError("no result"))),
        categories=CATS,
        timeout=5,
        max_chars=100,
    )
    with pytest.raises(DependencyUnavailableError) as err:
        await timeout.enrich("t", "text", category=None)
    assert err.value.code == "DEPENDENCY_UNAVAILABLE"
    bad = BusEnricher(
        KafkaBusCaller(
            FakeBus(status=Status.FAILED, error=ErrorInfo(code="INVALID_PAYLOAD", message="x"))
        ),
        categories=CATS,
        timeout=5,
        max_chars=100,
    )
    with pytest.raises(PermanentError) as err:
        await bad.enrich("t", "text", category=None)
    assert err.value.code == "DEPENDENCY_FAILED"
    assert err.value.details["code"] == "INVALID_PAYLOAD"  # the callee's own code


def test_entity_grouping_and_classifier():
    ents = entities_from_spans(
        [
            ("ACME", "ORG"),
            ("Acme", "ORG"),
            ("Acme", "ORG"),
            ("X", "ORG"),
            ("Globex", "ORG"),
            ("2024", "ORG"),
        ]
    )
    assert ents.organizations == ["Acme", "Globex"]
    assert (
        classify("The team won the cup final; the coach praised every player", [], CATS) == "sports"
    )
    assert (
        classify("Shares fell after the bank reported weaker earnings", ["earnings"], CATS)
        == "business"
    )
    assert classify("Lorem ipsum dolor", [], CATS) is None
