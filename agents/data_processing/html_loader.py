"""HTML to heading sections with the boilerplate stripped.

Removed: scripts, styles, templates, frames, forms, navigation, headers,
footers, asides, hidden elements and containers whose role/class/id says
they are navigation, menus, cookie banners, sharing or comment widgets.
When the page has a ``<main>`` or a single ``<article>``, only that is kept.
Headings h1-h6 start sections; list items, table rows and preformatted text
keep their shape.
"""

from __future__ import annotations

import re
from typing import Any

from agents.data_processing.formats import CorruptDocumentError
from agents.data_processing.model import Segment
from agents.data_processing.sections import SectionBuilder
from enginedge_streams.documents.text import decode_bytes, sniff_encoding

DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "nav", "header", "footer", "aside", "form", "button", "select", "input", "textarea",
    "dialog", "menu", "head", "link", "meta",
}  # fmt: skip
DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "dialog"}
BOILERPLATE = re.compile(
    r"(^|[\s_-])(nav|navbar|navigation|menu|sidebar|side-bar|footer|breadcrumbs?|cookie|"
    r"consent|banner|advert|ads?|share|sharing|social|related|comments?|skip-link|popup|"
    r"newsletter|subscribe)($|[\s_-])",
    re.IGNORECASE,
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {
    "p", "div", "section", "article", "main", "blockquote", "pre", "ul", "ol", "li", "table",
    "tr", "dl", "dt", "dd", "figure", "figcaption", "address", "br", "hr", "body", "details",
    "summary",
}  # fmt: skip


def _is_boilerplate(el: Any) -> bool:
    if el.tag in DROP_TAGS:
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    if (el.get("role") or "").lower() in DROP_ROLES:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style:
        return True
    marker = f"{el.get('class') or ''} {el.get('id') or ''}"
    return bool(marker.strip()) and BOILERPLATE.search(marker) is not None


class _Walker:
    def __init__(self) -> None:
        self.out = SectionBuilder()
        self.buf: list[str] = []

    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        lines = [" ".join(line.split()) for line in text.split("\n")]
        self.out.block("\n".join(line for line in lines if line))

    def walk(self, el: Any, pre: bool = False) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in HEADINGS:
            self.flush()
            self.out.heading(HEADINGS[tag], el.text_content())
        elif tag == "pre":
            self.flush()
            self.out.block(el.text_content().strip("\n"))
        elif tag == "tr":
            cells = [" ".join(c.text_content().split()) for c in el if c.tag in ("td", "th")]
            self.buf.append("\n" + " | ".join(c for c in cells) + "\n")
        else:
            if tag in BLOCKS:
                self.buf.append("\n")
                if tag == "li":
                    self.buf.append("- ")
            if el.text and tag:
                self.buf.append(el.text)
            for child in el:
                if isinstance(child.tag, str):
                    self.walk(child, pre)
                if child.tail:
                    self.buf.append(child.tail)
            if tag in ("p", "blockquote", "ul", "ol", "table", "figure", "dl", "section"):
                self.flush()
            elif tag in BLOCKS:
                self.buf.append("\n")


def load_html(data: bytes | str) -> tuple[list[Segment], str | None]:
    """Segments of an HTML document and its ``<title>``."""
    import lxml.html
    from lxml import etree

    if isinstance(data, str):  # lxml refuses a str with an encoding declaration
        data = data.encode("utf-8")
        encoding = "utf-8"
    else:
        encoding = sniff_encoding(data)
    if not data.strip() or not decode_bytes(data, markup=True)[0].strip():
        return [], None
    # Bytes go to lxml with the encoding the file declares (XML declaration, meta charset, BOM).
    parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError) as exc:
        raise CorruptDocumentError(f"unparseable HTML: {exc}") from None
    title_el = root.find(".//title")
    title = " ".join(title_el.text_content().split()) if title_el is not None else None
    for el in list(root.iter()):
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.getparent() is not None:
                el.drop_tree()
            continue
        if el.getparent() is not None and _is_boilerplate(el):
            el.drop_tree()
    mains = root.findall(".//main") or root.findall(".//article")
    body = root.find(".//body")
    if len(mains) == 1:
        body = mains[0]
    elif body is None:
        body = root
    walker = _Walker()
    walker.walk(body)
    walker.flush()
    return walker.out.finish(), title or None
