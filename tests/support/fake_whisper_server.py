"""A local HTTP server speaking OpenAI's audio transcription protocol (multipart upload)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web


class FakeWhisperServer:
    def __init__(self, text: str = "I would use a queue with retries.") -> None:
        self.text = text
        self.requests: list[dict[str, Any]] = []
        self.fail_next_with: int | None = None
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _transcribe(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        self.requests.append(
            {
                "model": form.get("model"),
                "response_format": form.get("response_format"),
                "language": form.get("language"),
                "filename": upload.filename,
                "bytes": len(upload.file.read()),
                "auth": request.headers.get("Authorization"),
            }
        )
        if self.fail_next_with:
            status, self.fail_next_with = self.fail_next_with, None
            return web.json_response(
                {"error": {"message": "slow down", "type": "rate_limit"}},
                status=status,
                headers={"Retry-After": "2"},
            )
        return web.json_response(
            {
                "task": "transcribe",
                "language": "english",
                "duration": 3.5,
                "text": self.text,
                "segments": [{"id": 0, "start": 0.0, "end": 3.5, "text": self.text}],
            }
        )

    def start(self) -> FakeWhisperServer:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/v1/audio/transcriptions", self._transcribe)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            self._ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            loop = self._loop

            async def down() -> None:
                if self._runner is not None:
                    await self._runner.cleanup()
                loop.stop()

            asyncio.run_coroutine_threadsafe(down(), loop)
