"""Speech-to-text: faster-whisper tiny.en offline on espeak-ng audio (WER), and the OpenAI
adapter through the official SDK against a local server speaking that protocol."""

from __future__ import annotations

import time

import pytest

from agents.interview.faster_whisper_transcriber import FasterWhisperTranscriber
from agents.interview.openai_whisper_transcriber import OpenAIWhisperTranscriber
from enginedge_streams.errors import PermanentError, RateLimitedError
from tests.support.fake_whisper_server import FakeWhisperServer
from tests.support.speech import have_tts, speak, wer

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not have_tts(), reason="espeak-ng and sox: scripts/install-system-deps.sh"),
]

SENTENCE = (
    "I led a small team that built a new payment service. We tested every change and we "
    "shipped it on time. First I would talk to the users, then I would write a simple plan."
)


async def test_local_whisper_transcribes_spoken_answer_offline(capsys):
    stt = FasterWhisperTranscriber()
    await stt.start()
    audio = speak(SENTENCE)
    t0 = time.perf_counter()
    out = await stt.transcribe(audio, audio_format="wav")
    elapsed = time.perf_counter() - t0
    error = wer(SENTENCE, out.text)
    with capsys.disabled():
        print(
            f"\nfaster-whisper tiny.en: WER {error:.3f}, {out.duration_seconds:.1f}s audio in "
            f"{elapsed:.2f}s (RTF {elapsed / out.duration_seconds:.3f}): {out.text!r}"
        )
    assert error <= 0.2
    assert 5 < out.duration_seconds < 20 and out.segments and out.model == "whisper-tiny.en"
    assert "payment service" in out.text.lower()


async def test_undecodable_audio_is_a_clear_failure():
    stt = FasterWhisperTranscriber()
    with pytest.raises(PermanentError) as err:
        await stt.transcribe(b"RIFF this is not audio at all", audio_format="wav")
    assert err.value.code == "INVALID_AUDIO"


async def test_openai_adapter_against_a_local_protocol_server():
    server = FakeWhisperServer().start()
    try:
        stt = OpenAIWhisperTranscriber(api_key="sk-test-stt", base_url=server.url)
        out = await stt.transcribe(b"RIFF....WAVEfmt fake", audio_format="wav")
        assert out.text == "I would use a queue with retries." and out.duration_seconds == 3.5
        req = server.requests[0]
        assert req["model"] == "whisper-1" and req["response_format"] == "verbose_json"
        assert req["filename"] == "answer.wav" and req["bytes"] == 20 and req["language"] == "en"
        assert req["auth"] == "Bearer sk-test-stt"
        server.fail_next_with = 429
        with pytest.raises(RateLimitedError) as err:
            await stt.transcribe(b"abc", audio_format="ogg")
        assert err.value.retry_after == 2.0
        await stt.stop()
    finally:
        server.stop()
