"""unstructured's element types -> sections: Title starts a section at its depth, ListItem is a
"- " line, Table rows stay rows, long "titles" are paragraphs. (No unstructured import here.)"""

from __future__ import annotations

from agents.data_processing.unstructured_loader import MAX_HEADING_CHARS, segments_from_blocks
from enginedge_streams.documents.partition import Block, _table_rows


def test_titles_open_sections_with_their_depth():
    blocks = [
        Block("Title", "Guide"),
        Block("NarrativeText", "Intro text."),
        Block("Title", "Install", depth=1),
        Block("ListItem", "download it"),
        Block("ListItem", "run it"),
        Block("Title", "Use", depth=1),
        Block("Table", "a | b\n1 | 2"),
    ]
    segments, title, info = segments_from_blocks(blocks)
    assert title == "Guide"
    assert [s.headings for s in segments] == [("Guide",), ("Guide", "Install"), ("Guide", "Use")]
    assert "- download it\n\n- run it" in segments[1].text
    assert segments[2].text.endswith("a | b\n1 | 2")
    assert info == {
        "partitioner": "unstructured",
        "elements": {"Title": 3, "NarrativeText": 1, "ListItem": 2, "Table": 1},
    }


def test_offsets_are_exact_in_the_joined_text():
    segments, _, _ = segments_from_blocks(
        [Block("Title", "A"), Block("Title", "B"), Block("Text", "x")]
    )
    text = "\n\n".join(s.text for s in segments)
    for s in segments:
        assert text[s.offset : s.offset + len(s.text)] == s.text


def test_an_overlong_title_is_a_paragraph():
    long = "word " * (MAX_HEADING_CHARS // 4)
    segments, title, _ = segments_from_blocks([Block("Title", long.strip())])
    assert title is None and segments[0].headings == ()


def test_table_html_becomes_rows():
    html = "<table><tr><th>Name</th><th>Size</th></tr><tr><td>a</td><td> 1 </td></tr></table>"
    assert _table_rows(html) == "Name | Size\na | 1"
