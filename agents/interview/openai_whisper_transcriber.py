"""The ``Transcriber`` port on the OpenAI audio transcription API (official SDK).

The keyed alternative to the local model (``STT_PROVIDER=openai`` with
``OPENAI_API_KEY``; ``STT_OPENAI_BASE_URL`` for a compatible server).
Errors map to the platform's: 429 -> RATE_LIMITED (with Retry-After),
5xx/timeouts/connection -> DEPENDENCY_UNAVAILABLE (retried), 4xx -> FAILED.
"""

from __future__ import annotations

from typing import Any

from agents.interview.ports import Transcription
from enginedge_streams.errors import (
    DependencyUnavailableError,
    PermanentError,
    RateLimitedError,
)


class OpenAIWhisperTranscriber:
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "",
        model: str = "whisper-1",
        timeout_s: float = 60.0,
        language: str | None = "en",
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.model = model
        self.timeout_s = timeout_s
        self.language = language
        self._client: Any = None

    def _get(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url or None,
                timeout=self.timeout_s,
                max_retries=0,  # the platform's retry policy owns retries
            )
        return self._client

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def transcribe(self, audio: bytes, *, audio_format: str) -> Transcription:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.model,
            "file": (f"answer.{audio_format}", audio),
            "response_format": "verbose_json",
        }
        if self.language:
            kwargs["language"] = self.language
        try:
            resp = await self._get().audio.transcriptions.create(**kwargs)
        except openai.RateLimitError as exc:
            after = exc.response.headers.get("retry-after") if exc.response is not None else None
            raise RateLimitedError(
                f"speech-to-text rate limited: {exc}",
                retry_after=float(after) if after and after.replace(".", "", 1).isdigit() else None,
            ) from None
        except (
            openai.APIConnectionError,
            openai.APITimeoutError,
            openai.InternalServerError,
        ) as exc:
            raise DependencyUnavailableError(f"speech-to-text unavailable: {exc}") from None
        except openai.APIStatusError as exc:
            raise PermanentError(
                f"speech-to-text refused the audio: {exc.status_code} {exc.message}",
                code="STT_REJECTED",
            ) from None
        data = resp.model_dump() if hasattr(resp, "model_dump") else dict(resp)
        return Transcription(
            text=str(data.get("text", "")).strip(),
            duration_seconds=float(data.get("duration") or 0.0),
            language=data.get("language"),
            model=self.model,
            segments=[
                {
                    "start": s.get("start"),
                    "end": s.get("end"),
                    "text": str(s.get("text", "")).strip(),
                }
                for s in data.get("segments") or []
            ],
        )
