"""Declarations only: the resume worker's NLP/embedding clients, gazetteer, table and commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust

from agents.resume.bullets import BulletPolicy
from agents.resume.bus_embedder import BusEmbedder
from agents.resume.bus_nlp_client import BusNlpClient
from agents.resume.documents import LayoutLimits
from agents.resume.evaluation import Gates
from agents.resume.handlers import COMMANDS, ResumePolicy
from agents.resume.kv_document_store import KvDocumentStore
from agents.resume.matching import MatchPolicy
from agents.resume.minilm_onnx_embedder import FallbackEmbedder, MinilmOnnxEmbedder
from agents.resume.settings import ResumeSettings
from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer
from enginedge_streams.container import Container
from enginedge_streams.runtime import WorkerRuntime
from enginedge_streams.settings import load
from enginedge_streams.worker import Worker
from tables.kv import FaustKeyValueStore
from tables.resume import create_resume_table

WORKER_TYPE = "resume"


def policy_from(s: ResumeSettings) -> ResumePolicy:
    return ResumePolicy(
        bullet=BulletPolicy(
            s.bullet_weights(),
            min_words=s.resume_bullet_min_words,
            max_words=s.resume_bullet_max_words,
        ),
        match=MatchPolicy(
            s.match_weights(),
            semantic_floor=s.resume_semantic_floor,
            semantic_ceiling=s.resume_semantic_ceiling,
        ),
        gates=Gates(
            bullet_min_score=s.resume_gate_bullet_min_score,
            weak_bullet_score=s.resume_gate_weak_bullet_score,
            max_weak_share=s.resume_gate_max_weak_share,
            alignment_min_score=s.resume_gate_alignment_min_score,
        ),
        layout=LayoutLimits(
            tiny_font_pt=s.resume_tiny_font_pt,
            tiny_font_share=s.resume_tiny_font_share,
            max_pages=s.resume_max_pages,
        ),
    )


def register(app: faust.App, container: Container) -> WorkerRuntime:
    s = load(ResumeSettings)
    worker = Worker(app, container, WORKER_TYPE)
    workers = worker.bus_caller()
    nlp = container.provide(
        "nlp",
        lambda: BusNlpClient(
            workers, timeout=s.resume_nlp_timeout_seconds, batch=s.resume_nlp_batch
        ),
    )

    def make_embedder() -> Any:
        remote = BusEmbedder(workers, timeout=s.resume_embedding_timeout_seconds)
        if s.resume_embeddings == "bus":
            return remote
        local = MinilmOnnxEmbedder()
        if s.resume_embeddings == "local":
            return local
        return FallbackEmbedder(remote, local, workers, worker_type="data_processing")

    embedder = container.provide("embedder", make_embedder)
    cache = Path(s.resume_cache_dir) if s.resume_cache_dir else None
    gazetteer = container.manage(
        container.provide("gazetteer", lambda: SpacySkillGazetteer(cache_dir=cache))
    )
    table = create_resume_table(app, partitions=container.settings.topic_partitions)
    kv = container.manage(container.provide("resume_kv", lambda: FaustKeyValueStore(table)))
    store = container.provide(
        "resume_store", lambda: KvDocumentStore(kv, keep=s.resume_max_versions)
    )
    container.redis()  # readiness includes Redis, as for every worker

    async def gazetteer_ready() -> tuple[bool, str]:
        size = getattr(gazetteer, "size", 0)
        return size > 0, f"{size} skills" if size else "loading"

    container.add_readiness("skills", gazetteer_ready)
    return worker.serve(
        COMMANDS,
        {
            "nlp": nlp,
            "gazetteer": gazetteer,
            "embedder": embedder,
            "store": store,
            "policy": policy_from(s),
        },
    )
