"""Spoken test audio: espeak-ng speaks a sentence, sox makes it 16 kHz mono WAV; WER."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path


def have_tts() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def speak(text: str, *, wpm: int = 150) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-s", str(wpm), "-w", str(raw), text], check=True, timeout=60)
        subprocess.run(
            ["sox", str(raw), "-r", "16000", "-c", "1", str(out)], check=True, timeout=60
        )
        return out.read_bytes()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    r, h = words(reference), words(hypothesis)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev = cur
    return d[len(h)] / max(1, len(r))
