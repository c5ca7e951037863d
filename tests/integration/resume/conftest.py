from __future__ import annotations

from pathlib import Path

import pytest

from agents.resume.fakes import InProcessNlpClient
from agents.resume.minilm_onnx_embedder import MinilmOnnxEmbedder
from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def nlp():
    return InProcessNlpClient()


@pytest.fixture(scope="session")
def gazetteer():
    g = SpacySkillGazetteer(cache_dir=ROOT / "var" / "resume-cache")
    g.load()
    return g


@pytest.fixture(scope="session")
def embedder():
    return MinilmOnnxEmbedder()
