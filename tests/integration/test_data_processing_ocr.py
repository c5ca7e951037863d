"""Real Tesseract OCR (image and image-only PDF to known text): runs the tesseract program."""

from __future__ import annotations

import tempfile

import pytest

from agents.data_processing.tesseract_ocr import TesseractOcr
from enginedge_streams.errors import LimitExceededError, PermanentError
from tests.support import data_processing_samples as samples

pytestmark = pytest.mark.timeout(120)


def words(text: str) -> list[str]:
    return [w.strip(".,").lower() for w in text.split()]


async def test_ocr_image_returns_the_known_text_with_confidence():
    page = await TesseractOcr().image(samples.text_image(samples.OCR_TEXT))
    assert words(page.text) == words(samples.OCR_TEXT)
    assert page.confidence > 80 and page.words == len(samples.OCR_TEXT.split())


async def test_ocr_image_only_pdf_page():
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(samples.image_only_pdf())
        fh.flush()
        page = await TesseractOcr(dpi=200).pdf_page(fh.name, 1)
    assert words(page.text) == words(samples.OCR_TEXT) and page.page == 1


async def test_ocr_refuses_pixel_bombs_and_garbage():
    with pytest.raises(LimitExceededError) as info:
        await TesseractOcr(max_pixels=100_000).image(samples.text_image("x", width=2000))
    assert info.value.code == "IMAGE_TOO_LARGE"
    with pytest.raises(PermanentError) as bad:
        await TesseractOcr().image(b"\x89PNG\r\n\x1a\n not really")
    assert bad.value.code == "CORRUPT_DOCUMENT"
