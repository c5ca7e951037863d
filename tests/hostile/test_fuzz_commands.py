"""Property-based fuzzing of the command decoder and every command's payload validation.

For every worker type, hypothesis generates batches of hostile messages — raw
garbage, truncated and bit-flipped JSON, wrong types, deep nesting, oversized
and amplifying numbers, unicode edge cases, and structurally valid commands
whose payloads are built from (and mutated away from) each payload model's JSON
Schema — and feeds them to the real command engine with the worker's real
command specs. Every message must end as a FAILED result or a DLQ record, with
no exception escaping and no record too big for Kafka.
"""

from __future__ import annotations

import json
import os
import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.hostile.fuzzing import (
    WORKER_TYPES,
    Engine,
    garbage,
    mutations,
    quiet_processor_logs,
    restore_logs,
    specs_of,
    structural_variants,
    structured_commands,
)

#: Messages per worker type (acceptance: at least 10,000).
TARGET = int(os.environ.get("HOSTILE_FUZZ_MESSAGES", "10000"))
STRUCTURED_PER_EXAMPLE = 3
VARIANTS_PER_COMMAND = 40
GARBAGE_PER_EXAMPLE = 4
PER_EXAMPLE = STRUCTURED_PER_EXAMPLE * (VARIANTS_PER_COMMAND + 6) + GARBAGE_PER_EXAMPLE + 1
EXAMPLES = -(-TARGET // PER_EXAMPLE) + 5  # a few spare for examples hypothesis discards

#: CI runs the same examples every time (HYPOTHESIS_PROFILE=ci or CI=true); locally new ones.
DERANDOMIZE = os.environ.get("HYPOTHESIS_PROFILE") == "ci" or bool(os.environ.get("CI"))


def fuzz_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        print_blob=True,
        # Batches are big: shrinking one would take minutes; the failing message is
        # reported by the assertion itself.
        phases=[Phase.explicit, Phase.generate],
    )


@pytest.mark.parametrize("worker_type", WORKER_TYPES)
def test_hostile_messages_end_as_failed_results_or_dead_letters(worker_type: str) -> None:
    engine = Engine(worker_type)
    specs = specs_of(worker_type)
    saved = quiet_processor_logs()

    @fuzz_settings()
    @given(
        commands=st.lists(
            structured_commands(specs),
            min_size=STRUCTURED_PER_EXAMPLE,
            max_size=STRUCTURED_PER_EXAMPLE,
        ),
        rng=st.randoms(use_true_random=False),
    )
    def run(commands: list[dict[str, object]], rng: random.Random) -> None:
        batch: list[tuple[bytes | None, bytes | None]] = []
        for command in commands:
            raw = json.dumps(command, ensure_ascii=rng.random() < 0.5).encode()
            key = str(command["command_id"]).encode()
            batch.append((key, raw))
            batch.extend((key, variant) for variant in mutations(raw, rng))
            batch.extend(structural_variants(command, rng, VARIANTS_PER_COMMAND))
        for _ in range(GARBAGE_PER_EXAMPLE):
            key = rng.choice([None, b"", b"k", rng.randbytes(8)])
            batch.append((key, garbage(rng)))
        batch.append((b"none", None))
        engine.feed(batch)

    try:
        run()
    finally:
        restore_logs(saved)
        engine.close()
    assert engine.messages >= TARGET, (engine.messages, dict(engine.outcomes))
    # Every route was taken: undecodable input, invalid payloads, and payloads valid enough
    # to reach the (stub) handler.
    assert engine.outcomes["DLQ"] > 0 and engine.outcomes["INVALID_PAYLOAD"] > 0
    assert engine.outcomes["UNKNOWN_COMMAND_TYPE"] > 0
    print(f"\n{worker_type}: {engine.messages} messages -> {dict(engine.outcomes)}")
