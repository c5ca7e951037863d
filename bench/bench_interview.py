"""Interview: speech-to-text real-time factor (faster-whisper tiny.en) on espeak-ng audio."""

from __future__ import annotations

import time

from bench.common import BenchContext, Row


async def run(ctx: BenchContext) -> list[Row]:
    from agents.interview.faster_whisper_transcriber import FasterWhisperTranscriber
    from tests.support.speech import speak, wer

    text = (
        "I led a small team that built a new payment service. We tested every change and we "
        "shipped it on time. First I would talk to the users, then I would write a simple plan."
    )
    audio = speak(text)
    stt = FasterWhisperTranscriber()
    await stt.start()
    await stt.transcribe(audio, audio_format="wav")  # warm-up
    runs = 2 if ctx.quick else 5
    t0 = time.perf_counter()
    for _ in range(runs):
        out = await stt.transcribe(audio, audio_format="wav")
    elapsed = (time.perf_counter() - t0) / runs
    return [
        Row(
            "STT seconds per second of audio (real-time factor)",
            elapsed / out.duration_seconds,
            1.0,
            "s/s",
            "< 1x",
            f"{out.duration_seconds:.1f}s espeak-ng clip, WER {wer(text, out.text):.3f}, "
            "reference = real time",
        ),
    ]
