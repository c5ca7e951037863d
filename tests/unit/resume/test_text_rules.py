"""Resume rules on plain text and bytes (no model): phone numbers, salaries, unreadable PDFs.
The parsing, bullet and matching tests on the spaCy model and MiniLM: tests/integration/resume/."""

from __future__ import annotations

import pytest

from agents.resume.documents import LayoutLimits, extract
from agents.resume.parsing import phones
from agents.resume.postings import salary
from enginedge_streams.errors import PermanentError


def test_phone_regex_on_raw_text():
    text = "Call +1 (415) 555-0132 or 020 7946 0958; worked 2016 - 2019; id 12345"
    assert phones(text) == ["+1 (415) 555-0132", "020 7946 0958"]


def test_unreadable_pdf_fails_with_a_clear_code():
    with pytest.raises(PermanentError) as err:
        extract(b"%PDF-1.4 garbage", "x.pdf", None, LayoutLimits())
    assert err.value.code == "CORRUPT_DOCUMENT"


def test_salary_normalisation():
    hourly = salary("Pay: $45 - $60 per hour")
    assert (
        hourly["period"] == "hour"
        and hourly["annual_min"] == 93600
        and hourly["annual_max"] == 124800
    )
    assert salary("USD 120,000 to 150,000 annually")["annual_max"] == 150000
    monthly = salary("£4,000-£5,000/month")
    assert monthly["currency"] == "GBP" and monthly["annual_min"] == 48000
    assert salary("3-5 years of experience") is None


def _docx_bytes(mutate=None) -> bytes:
    import io
    import zipfile

    import docx

    document = docx.Document()
    document.add_paragraph("Jane Roe")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Experience"
    table.cell(1, 0).text = "Engineer, Acme"
    table.cell(0, 1).text = "Skills"
    table.cell(1, 1).text = "Python"
    buf = io.BytesIO()
    document.save(buf)
    if mutate is None:
        return buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = mutate(data)
            dst.writestr(item, data)
    return out.getvalue()


def test_docx_table_without_grid_is_read_column_by_column():
    import re

    data = _docx_bytes(lambda xml: re.sub(rb"<w:tblGrid>.*?</w:tblGrid>", b"", xml))
    assert b"tblGrid" not in data
    got = extract(data, "cv.docx", None, LayoutLimits())
    texts = [line.text for line in got.lines if line.text]
    assert texts == ["Jane Roe", "Experience", "Engineer, Acme", "Skills", "Python"]
    assert got.layout["multi_column"] is True


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.4 garbage", "x.pdf"),
        (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>",
            "y.pdf",
        ),
        (b"PK\x03\x04 not a zip", "x.docx"),
    ],
)
def test_files_the_libraries_cannot_read_are_corrupt_documents(data, name):
    with pytest.raises(PermanentError) as err:
        extract(data, name, None, LayoutLimits())
    assert err.value.code == "CORRUPT_DOCUMENT"


def test_docx_with_broken_xml_is_a_corrupt_document():
    data = _docx_bytes(lambda xml: xml[: len(xml) // 2])
    with pytest.raises(PermanentError) as err:
        extract(data, "cv.docx", None, LayoutLimits())
    assert err.value.code == "CORRUPT_DOCUMENT"
