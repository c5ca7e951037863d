"""Terminal answers in a request and the log page counter the page limit is enforced with (no
TeX run; the limits against the real runner are tests/integration/latex/test_limits.py)."""

from __future__ import annotations

import pytest

from agents.latex.messages import CompileDocument
from agents.latex.tex_outcome import LogPages


def doc(body: str) -> str:
    return f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"


def test_terminal_input_is_one_line_per_answer():
    with pytest.raises(ValueError, match="one line"):
        CompileDocument(main=doc("x"), terminal_input=["a4paper\n\\input{/etc/passwd}"])


def test_the_log_page_counter_reads_a_growing_log_in_pieces(tmp_path):
    log = tmp_path / "main.log"
    text = (
        b"(./main.tex Applying: [2015/01/01] fix [1{/var/lib/texmf/fonts/map/pdftex.map}] [2] "
        + b"".join(b"[%d] " % n for n in range(3, 1001))
        + b"Overfull \\hbox []\\OT1/cmr/m/n/10 x [1001\n<img.png>] [1002.3] "
    )
    counter = LogPages(log)
    assert counter.update() == 0  # no log yet
    for end in range(0, len(text) + 997, 997):  # TeX's buffered writes, cut anywhere
        log.write_bytes(text[:end])
        counter.update()
    assert counter.update() == 1000  # the last bytes wait: a marker may be cut there
    log.write_bytes(text + b"\nOutput written on main.pdf (1002 pages, 123456 bytes).\n")
    assert counter.update() == 1002
    pad = b"\nTranscript written on main.log and some more text.\n"
    log.write_bytes(b"[1] [2] " + pad)  # the next engine pass rewrote the log
    assert counter.update() == 2
