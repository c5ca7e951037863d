"""unstructured runs offline: with every socket connection refused, it partitions PPTX, EML,
EPUB, ODT and text from pinned public samples, classifies titles with the packaged spaCy
model, and never tries the network (its telemetry and model download paths are closed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from enginedge_streams.documents.partition import available
from tests.support.document_corpus import coverage_samples

pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not available(), reason="the documents extra (unstructured) is not installed"
    ),
]


def test_partition_never_touches_the_network():
    # Up to three files per format: the first that partitions counts (pandoc refuses some of
    # Debian's live-manual EPUBs: "No entry on path", a per-file CORRUPT_DOCUMENT in the worker).
    picks: dict[str, list[str]] = {}
    for s in coverage_samples():
        if s.fmt in ("pptx", "eml", "epub", "odt") and len(picks.setdefault(s.fmt, [])) < 3:
            picks[s.fmt].append(str(s.path))
    assert set(picks) == {"pptx", "eml", "epub", "odt"}
    script = textwrap.dedent(
        f"""
        import json, socket, sys
        attempts = []
        def refuse(self, address):
            attempts.append(str(address))
            raise OSError("network refused by the test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = lambda self, address: attempts.append(str(address)) or 111
        from enginedge_streams.documents.partition import partition
        out = {{}}
        for fmt, paths in {picks!r}.items():
            out[fmt] = []
            for path in paths:
                try:
                    blocks = partition(fmt, open(path, "rb").read())
                except Exception:
                    continue
                out[fmt] = sorted({{b.category for b in blocks}})
                break
        text = "Installation\\n\\nRun the installer and follow the steps it shows on the screen."
        out["txt"] = [b.category for b in partition("txt", text)]
        print(json.dumps({{"attempts": attempts, "categories": out}}))
        """
    )
    env_clean = {k: v for k, v in __import__("os").environ.items()
                 if k not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=840, env=env_clean
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    cats = report["categories"]
    assert all(cats[f] for f in ("pptx", "eml", "epub", "odt"))
    assert cats["txt"] == ["Title", "NarrativeText"]  # the spaCy-based classification ran


def test_pptx_speaker_notes_are_text():
    import io

    from pptx import Presentation

    from enginedge_streams.documents.partition import partition

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Quarterly results"
    slide.notes_slide.notes_text_frame.text = "Mention the churn figure before the forecast."
    out = io.BytesIO()
    deck.save(out)
    texts = [b.text for b in partition("pptx", out.getvalue())]
    assert "Quarterly results" in texts
    assert any("churn figure" in t for t in texts), texts
