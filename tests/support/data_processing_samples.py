"""Real sample documents generated for the data processing tests (no fixtures on disk)."""

from __future__ import annotations

import io
import zipfile

PAGE_TEXTS = [
    "Kafka brokers store records in partitions. Each partition is an ordered log "
    "replicated across brokers for durability.",
    "PostgreSQL with pgvector answers nearest neighbour queries. An HNSW index makes "
    "approximate search fast on millions of embeddings.",
    "Tesseract reads scanned pages. Poppler renders each page to an image first.",
]
OCR_TEXT = "The invoice total is 4217 euros payable within thirty days"


def text_pdf(pages: list[str] | None = None, *, title: str = "Sample report") -> bytes:
    """A PDF with a text layer, one paragraph per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    for text in pages or PAGE_TEXTS:
        y = 780
        words = text.split()
        line: list[str] = []
        for word in words:
            if len(" ".join([*line, word])) > 80:
                c.drawString(60, y, " ".join(line))
                y -= 16
                line = []
            line.append(word)
        if line:
            c.drawString(60, y, " ".join(line))
        c.showPage()
    c.save()
    return buf.getvalue()


def text_image(text: str, *, width: int = 2000, size: int = 56) -> bytes:
    """A PNG of black text on white (Pillow's bundled font), like a clean scan."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    words = text.split()
    lines: list[str] = []
    line: list[str] = []
    for word in words:
        trial = " ".join([*line, word])
        if font.getlength(trial) > width - 200 and line:
            lines.append(" ".join(line))
            line = [word]
        else:
            line.append(word)
    if line:
        lines.append(" ".join(line))
    img = Image.new("L", (width, 200 + len(lines) * int(size * 1.6)), 255)
    draw = ImageDraw.Draw(img)
    for i, ln in enumerate(lines):
        draw.text((100, 100 + i * int(size * 1.6)), ln, fill=0, font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_only_pdf(texts: list[str] | None = None) -> bytes:
    """A scanned-style PDF: each page is only an image of text (no text layer)."""
    from PIL import Image

    images = [Image.open(io.BytesIO(text_image(t))).convert("RGB") for t in texts or [OCR_TEXT]]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return buf.getvalue()


def mixed_pdf() -> bytes:
    """Page 1 has a text layer, page 2 is a scan: only page 2 needs OCR."""
    import pypdf

    writer = pypdf.PdfWriter()
    for data in (text_pdf([PAGE_TEXTS[0]]), image_only_pdf([OCR_TEXT])):
        for page in pypdf.PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypted_pdf(password: str = "s3cret") -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(text_pdf()))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def corrupt_pdf() -> bytes:
    good = text_pdf()
    return good[:200] + b"\x00garbage\xff" * 50


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = "Quarterly plan"
    d.add_heading("Quarterly plan", 0)
    d.add_paragraph("This plan covers hiring and the office move.")
    d.add_heading("Hiring", 1)
    d.add_paragraph("We will hire three backend engineers in Lisbon.", style="List Bullet")
    d.add_paragraph("Interviews start in March.", style="List Bullet")
    d.add_heading("Budget", 1)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Item"
    table.cell(0, 1).text = "Cost"
    table.cell(1, 0).text = "Office move"
    table.cell(1, 1).text = "12000"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def zip_bomb_docx(size: int = 300_000_000) -> bytes:
    """A DOCX-looking ZIP whose document.xml expands to ``size`` bytes of zeros (~300 KB file)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            block = b"\x00" * 1_000_000
            for _ in range(size // len(block)):
                fh.write(block)
    return buf.getvalue()


HTML = """<!doctype html><html><head><title>Deploy guide</title>
<style>body{font-family:sans-serif}</style><script>window.track = 1;</script></head>
<body><nav class="site-nav"><a href="/">Home</a><a href="/pricing">Pricing</a></nav>
<div id="cookie-banner">We use cookies. Accept all cookies?</div>
<main><h1>Deploying the service</h1><p>Build the container image and push it to the registry.</p>
<h2>Rollback</h2><p>To roll back, redeploy the previous image tag with helm rollback.</p>
<ul><li>Check the release history</li><li>Pick the last good revision</li></ul></main>
<footer>Copyright ACME Corp. All rights reserved.</footer></body></html>"""

MARKDOWN = """# Onboarding handbook

Welcome to the team. This handbook explains the first week.

## Laptop setup

Install the VPN client and enrol your laptop in device management.

```bash
# this is a comment, not a heading
make setup
```

## Expenses

Submit receipts within thirty days through the finance portal.

### Travel

Book trains for trips under four hours; flights need approval.
"""

TEXT = (
    "Redis keeps data in memory and can persist snapshots to disk.\n\n"
    "Eviction policies decide which keys go when memory is full."
)
