"""The ``Ocr`` port on Tesseract (pytesseract) with poppler's ``pdftoppm`` for PDF pages.

Both run as subprocesses in a worker thread, so the event loop never blocks.
Pages are rasterised at ``dpi`` but never beyond ``max_pixels`` (a huge page
box cannot blow up memory); images larger than that are refused.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from agents.data_processing.model import OcrPage
from enginedge_streams.errors import ConfigError, LimitExceededError, PermanentError


class TesseractOcr:
    def __init__(
        self, *, dpi: int = 300, max_pixels: int = 40_000_000, timeout_s: float = 120.0
    ) -> None:
        self.dpi = dpi
        self.max_pixels = max_pixels
        self.timeout_s = timeout_s

    async def start(self) -> None:
        await asyncio.to_thread(self.check)

    async def stop(self) -> None:
        return None

    def check(self) -> None:
        for tool, package in (("tesseract", "tesseract-ocr"), ("pdftoppm", "poppler-utils")):
            if shutil.which(tool) is None:
                raise ConfigError(f"`{tool}` is not on PATH (Debian package {package})")

    async def image(self, data: bytes, *, language: str = "eng") -> OcrPage:
        return await asyncio.to_thread(self._image_sync, data, language, 1)

    async def pdf_page(self, pdf_path: str, page: int, *, language: str = "eng") -> OcrPage:
        return await asyncio.to_thread(self._pdf_page_sync, pdf_path, page, language)

    def _open(self, data: bytes) -> Any:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = self.max_pixels
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except Image.DecompressionBombError as exc:
            raise LimitExceededError(str(exc), code="IMAGE_TOO_LARGE") from None
        except Exception as exc:
            raise PermanentError(f"unreadable image: {exc}", code="CORRUPT_DOCUMENT") from None
        if img.width * img.height > self.max_pixels:
            raise LimitExceededError(
                f"image of {img.width}x{img.height} pixels exceeds {self.max_pixels}",
                code="IMAGE_TOO_LARGE",
            )
        return img

    def _image_sync(self, data: bytes, language: str, page: int) -> OcrPage:
        import pytesseract

        img = self._open(data)
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
        try:
            out = pytesseract.image_to_data(
                img, lang=language, output_type=pytesseract.Output.DICT, timeout=self.timeout_s
            )
        except pytesseract.TesseractError as exc:
            raise PermanentError(f"tesseract failed: {exc}", code="OCR_FAILED") from None
        except RuntimeError as exc:  # pytesseract's timeout
            raise PermanentError(f"tesseract: {exc}", code="OCR_TIMEOUT") from None
        return _assemble(out, page)

    def _pdf_page_sync(self, pdf_path: str, page: int, language: str) -> OcrPage:
        with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
            dpi = self._dpi_for(pdf_path, page)
            prefix = Path(tmp) / "p"
            try:
                subprocess.run(
                    [
                        "pdftoppm",
                        "-r",
                        str(dpi),
                        "-f",
                        str(page),
                        "-l",
                        str(page),
                        "-gray",
                        "-png",
                        "-singlefile",
                        pdf_path,
                        str(prefix),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=self.timeout_s,
                )
            except subprocess.CalledProcessError as exc:
                raise PermanentError(
                    f"pdftoppm failed on page {page}: {exc.stderr.decode(errors='replace')[:300]}",
                    code="OCR_FAILED",
                ) from None
            except subprocess.TimeoutExpired:
                raise PermanentError(
                    f"pdftoppm timed out on page {page}", code="OCR_TIMEOUT"
                ) from None
            return self._image_sync(prefix.with_suffix(".png").read_bytes(), language, page)

    def _dpi_for(self, pdf_path: str, page: int) -> int:
        """Lower the resolution for oversized pages so the raster stays under max_pixels."""
        try:
            info = subprocess.run(
                ["pdfinfo", "-f", str(page), "-l", str(page), pdf_path],
                check=True, capture_output=True, text=True, timeout=30,
            ).stdout  # fmt: skip
        except (subprocess.SubprocessError, OSError):
            return self.dpi
        for line in info.splitlines():
            if line.startswith((f"Page {page:>4} size:", "Page size:")):
                parts = line.split(":", 1)[1].split()
                try:
                    w_pt, h_pt = float(parts[0]), float(parts[2])
                except (ValueError, IndexError):
                    break
                inches = (w_pt / 72) * (h_pt / 72)
                if inches <= 0:
                    break
                limit = int((self.max_pixels / inches) ** 0.5)
                return max(36, min(self.dpi, limit))
        return self.dpi


def _assemble(data: dict[str, list[Any]], page: int) -> OcrPage:
    """Text with Tesseract's line/paragraph structure, and the mean word confidence."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    confs: list[float] = []
    for i, raw in enumerate(data["text"]):
        word = (raw or "").strip()
        conf = float(data["conf"][i])
        if not word or conf < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append(word)
        confs.append(conf)
    out: list[str] = []
    prev: tuple[int, int] | None = None
    for (block, par, _), words in sorted(lines.items()):
        if prev is not None and prev != (block, par):
            out.append("")
        out.append(" ".join(words))
        prev = (block, par)
    confidence = sum(confs) / len(confs) if confs else 0.0
    return OcrPage(
        page=page, text="\n".join(out), confidence=round(confidence, 2), words=len(confs)
    )
