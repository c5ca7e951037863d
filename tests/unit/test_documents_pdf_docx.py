"""The platform's PDF/DOCX layer: per-file reason codes, cells, columns, DOCX without tblGrid."""

from __future__ import annotations

import io
import zipfile

import pytest

from enginedge_streams.documents.docx import Table, body, open_docx
from enginedge_streams.documents.pdf import PdfText, layout_lines
from enginedge_streams.errors import PermanentError
from tests.support import data_processing_samples as samples


def _pdf(draw) -> bytes:
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER)
    draw(c)
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (samples.corrupt_pdf(), "CORRUPT_DOCUMENT"),
        (b"%PDF-1.4 nothing else", "CORRUPT_DOCUMENT"),
        (samples.encrypted_pdf(), "ENCRYPTED_DOCUMENT"),
    ],
)
def test_unreadable_pdfs_are_per_file_reasons_in_both_modes(data, code):
    with pytest.raises(PermanentError) as plain:
        PdfText(data, max_pages=10)
    assert plain.value.code == code
    with pytest.raises(PermanentError) as layout:
        layout_lines(data, max_pages=10)
    assert layout.value.code in {code, "CORRUPT_DOCUMENT"}


def test_page_limit_is_its_own_code():
    def pages(c):
        for i in range(3):
            c.drawString(72, 700, f"page {i}")
            c.showPage()

    with pytest.raises(PermanentError) as err:
        layout_lines(_pdf(pages), max_pages=2)
    assert err.value.code == "TOO_MANY_PAGES"


def test_right_aligned_dates_stay_on_their_line_as_a_cell():
    def resume(c):
        y = 740
        for i in range(12):
            c.setFont("Helvetica", 10)
            c.drawString(54, y, f"Software Engineer {i}, Acme Corp")
            c.drawRightString(558, y, f"Jan 20{10 + i} - Present")
            c.drawString(66, y - 14, "Built and ran the data pipeline for the whole company")
            y -= 40

    doc = layout_lines(_pdf(resume), max_pages=5)
    assert doc.column_pages == []
    first = doc.lines[0]
    assert first.cells == ["Software Engineer 0, Acme Corp", "Jan 2010 - Present"]


def test_a_sidebar_page_is_read_column_by_column():
    def sidebar(c):
        c.setFont("Helvetica", 10)
        for i in range(20):
            c.drawString(40, 740 - 16 * i, f"Sidebar skill number {i}")
            c.drawString(
                250, 740 - 16 * i, f"Main column sentence {i} about the work that was done"
            )

    doc = layout_lines(_pdf(sidebar), max_pages=5)
    assert doc.column_pages == [1]
    texts = [line.text for line in doc.lines]
    assert texts[:2] == ["Sidebar skill number 0", "Sidebar skill number 1"]
    assert texts[20] == "Main column sentence 0 about the work that was done"


def _docx_without_tblgrid() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("Intro")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "left"
    table.rows[0].cells[1].text = "right"
    buf = io.BytesIO()
    d.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode()
                start = text.index("<w:tblGrid>")
                end = text.index("</w:tblGrid>") + len("</w:tblGrid>")
                data = (text[:start] + text[end:]).encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_docx_tables_without_a_grid_are_read():
    items = list(body(open_docx(_docx_without_tblgrid())))
    tables = [t for t in items if isinstance(t, Table)]
    assert len(tables) == 1
    assert [tables[0].cell_text(0, c) for c in range(tables[0].columns)] == ["left", "right"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "ENCRYPTED_DOCUMENT"),
        (b"PK\x03\x04 not really a zip", "CORRUPT_DOCUMENT"),
        (samples.corrupt_pdf(), "CORRUPT_DOCUMENT"),
    ],
)
def test_unreadable_docx_are_per_file_reasons(data, code):
    with pytest.raises(PermanentError) as err:
        open_docx(data)
    assert err.value.code == code


def test_docx_size_limit():
    with pytest.raises(PermanentError) as err:
        open_docx(_docx_without_tblgrid(), max_unzipped_bytes=100)
    assert err.value.code == "DOCUMENT_TOO_LARGE"
