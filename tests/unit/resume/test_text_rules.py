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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mobile: +91 9112340675 | a@b.io", "+91 9112340675"),
        ("Phone 9823022320 email", "9823022320"),
        ("+15083303967", "+15083303967"),
        ("(+91) 8087996634", "(+91) 8087996634"),
        ("Tel (+358) 40 123 4567", "(+358) 40 123 4567"),
    ],
)
def test_phones_other_people_write(text, expected):
    assert phones(text) == [expected]


def test_no_phone_in_years_gpas_and_ids():
    assert phones("GPA 3.8/4.0 2015 2019; 2016 - 2019 and 2001-2005; order 12345") == []


def test_the_candidates_phone_is_the_one_next_to_their_email():
    from agents.resume.documents import extract_text
    from agents.resume.parsing import contact

    raw = (
        "Dear hiring manager, call our office on +1 (212) 555-0147 for references.\n"
        + "Cover letter text.\n" * 20
        + "Jane Roe\njane.roe@example.org | +44 20 7946 0958\n"
    )
    header = extract_text(raw).lines
    assert contact(header, raw)["phone"] == "+44 20 7946 0958"


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


def _tight_pdf(gap_thousandths: int = 280) -> bytes:
    """A one-line PDF typeset like TeX: no space glyphs, words apart by a TJ displacement."""
    stream = (
        f"BT /F1 10 Tf 72 720 Td [(Created) -{gap_thousandths} (RESTful) -{gap_thousandths} (apis)] TJ ET"
    ).encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer << /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_words_of_a_tex_made_pdf_are_not_glued():
    # 2 pt between words, no space glyph: pdfplumber's default x_tolerance (3) glued them
    got = extract(_tight_pdf(200), "cv.pdf", None, LayoutLimits())
    assert [line.text for line in got.lines] == ["Created RESTful apis"]


@pytest.mark.parametrize("glyph", ["❖", "\uf0b7", "➢", "•"])
def test_bullet_glyphs_of_word_and_design_tools(glyph):
    from agents.resume.documents import extract_text

    (line,) = extract_text(f"{glyph} Led a team of 5").lines
    assert line.bullet and line.text == "Led a team of 5"
    (joined,) = extract_text(f"{glyph}Led a team").lines
    assert joined.bullet == (glyph != "-")


def test_headings_other_people_use():
    from agents.resume.documents import extract_text
    from agents.resume.parsing import split_sections

    text = (
        "Jane Roe\nSelected Experience\nEngineer, Acme\nSKILL SET\nPython\n"
        "IT PROFICIENCY\nExcel\nWORKING EXP\nAnalyst, Initech\n"
        "EDUCATION B.Sc. Physics, University of Leeds\n"
    )
    parts = split_sections(extract_text(text).lines)
    assert parts.order == ["experience", "skills", "education"]
    assert [line.text for line in parts.sections["experience"]] == [
        "Engineer, Acme",
        "Analyst, Initech",
    ]
    assert [line.text for line in parts.sections["education"]] == [
        "B.Sc. Physics, University of Leeds"
    ]


def test_evaluation_says_when_the_parse_is_uncertain_instead_of_judging_it():
    from agents.resume.evaluation import section_findings, uncertain

    record = {
        "contact": {"name": "Jane Roe", "email": "j@r.io", "phone": None, "links": []},
        "text": "Jane Roe\nMobile 91-22-2345-678x\nWorked 2016 - 2019",
        "experience": [{"title": "Engineer", "company": "Acme", "start": "2016-01", "bullets": []}],
        "education": [],
        "skills": {"listed": []},
        "sections_found": ["experience"],
        "word_count": 20,
    }
    doubts = uncertain(record)
    assert any(d.startswith("phone:") for d in doubts)
    assert any("no bullet told apart" in d for d in doubts)
    findings = section_findings(record)
    assert "no phone found" not in findings["contact"]
    assert not any("bullet" in f for f in findings["experience"])
    record["text"] = "Jane Roe\nWorked 2016 - 2019"
    assert "no phone found" in section_findings(record)["contact"]


def test_no_skill_taken_from_a_persons_or_places_name():
    from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer

    gazetteer = SpacySkillGazetteer(
        skills=["san", "redwood", "claire", "george", "red", "python", "spark", "excel"]
    )

    def found(text: str) -> list[str]:
        return [hit.skill for hit in gazetteer.find(text)]

    assert found("Lived in San Jose and Redwood City, worked at Red Robin.") == []
    assert found("References: Claire Smith, George Mason University") == []
    assert found("Built pipelines with Spark and Python at Acme.") == ["spark", "python"]


def test_posting_company_is_never_a_state_code_or_a_place():
    from agents.resume.postings import extract
    from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer

    text = "Senior Data Engineer\nAustin, TX\nWe build data pipelines in Python."
    entities = [
        {"text": "Austin", "label": "GPE"},
        {"text": "TX", "label": "ORG"},
        {"text": "Initech", "label": "ORG"},
    ]
    got = extract(text, gazetteer=SpacySkillGazetteer(skills=["python"]), entities=entities)
    assert got["company"] == "Initech"


def test_apache_products_are_one_skill_with_their_bare_name():
    from agents.resume.spacy_skill_gazetteer import SpacySkillGazetteer

    gazetteer = SpacySkillGazetteer(
        skills=["spark", "apache spark", "kafka", "apache kafka", "hive"]
    )

    def found(text: str) -> list[str]:
        return [h.skill for h in gazetteer.find(text)]

    assert found("Pipelines in Apache Spark on Apache Kafka.") == ["spark", "kafka"]
    assert found("Pipelines in Spark on Kafka.") == ["spark", "kafka"]
    assert found("Queries in Hive.") == ["hive"]


def test_name_from_a_label_column_and_never_an_address_or_a_cv_title():
    from agents.resume.contact import find_name
    from agents.resume.documents import Line

    labelled = [
        Line("Curriculum Vitae", 14.0),
        Line("Home Address", 10.0),
        Line("Name / Surname Pythagoras", 10.0, cells=["Name / Surname", "Pythagoras"]),
    ]
    assert find_name(labelled) == "Pythagoras"
    header = [Line("Curriculum Vitae", 14.0), Line("Philipp Maier", 12.0), Line("Home Address")]
    assert find_name(header) == "Philipp Maier"
    big = [
        Line("Ferndean House", 10.9),
        Line("Jane Eyre   www.jeyre.me.uk", 35.7, cells=["Jane Eyre", "www.jeyre.me.uk"]),
    ]
    assert find_name(big) == "Jane Eyre"


def test_a_number_in_no_numbering_plan_is_the_phone_only_in_the_contact_block():
    from agents.resume.contact import candidate_phone

    assert candidate_phone("Ferndean House\n009-87654321\njeyre@ferndean.me.uk") == "009-87654321"
    assert candidate_phone("Jane Roe\njane@example.com\nWorked 2016 - 2019") is None
    assert candidate_phone("Jane Roe\n" + "x" * 500 + "\nref 009-87654321") is None


def test_a_name_set_one_word_per_line_in_a_display_size_is_joined():
    from agents.resume.contact import find_name
    from agents.resume.documents import Line

    # cv4tw's simple layout: "Jules" / "<tagline in an unmapped font>  Verne", body 10 pt
    design = [
        Line("Jules", 24.8),
        Line("N\ue05f\ue066\ue055  Verne", 24.8, cells=["N\ue05f\ue066\ue055", "Verne"]),
        Line("jules.verne@voyages.ext", 10.0),
        Line("More than 50 novels written", 10.9),
    ]
    assert find_name(design) == "Jules Verne"
    # not a name: a heading or a job title in the display size, one font for everything,
    # words on lines that are not consecutive
    assert find_name([Line("Jules", 24.8), Line("Experience", 24.8), Line("x", 10.0)]) is None
    assert find_name([Line("Senior", 24.8), Line("Engineer", 24.8), Line("x", 10.0)]) is None
    assert find_name([Line("Jules", 10.0), Line("Verne", 10.0), Line("x", 10.0)]) is None
    spaced = [Line("Jules", 24.8), Line("2020", 10.0), Line("Verne", 24.8), Line("x", 10.0)]
    assert find_name(spaced) is None
    # a two-word name line in the same size still wins
    assert find_name([Line("Jane Eyre", 24.8), Line("Novelist", 24.8), Line("x", 10)]) == (
        "Jane Eyre"
    )


def test_docx_grid_rows_soft_breaks_and_entries_without_bullets_between_them():
    """LibreOffice's CV templates as DOCX: a label | content grid is read row by row, a soft
    line break starts a line, and "Title / Company, Co. / dates" entries follow each other."""
    import io

    import docx

    from agents.resume.parsing import education, experience

    document = docx.Document()
    document.add_paragraph("Curriculum Vitae")
    rows = [("Name", "Joe Bloggs"), ("Email", "j.bloggs@example.com"), ("Experience", "")]
    rows += [("Jun. 2008 - present", "Lorem ipsum dolor sit amet")]
    table = document.add_table(rows=len(rows), cols=2)
    for i, (label, value) in enumerate(rows):
        table.cell(i, 0).text = label
        table.cell(i, 1).text = value
    para = document.add_paragraph("Egg Inspector")
    para.runs[0].add_break()
    para.add_run("Eggs and Ham, Co.")
    buf = io.BytesIO()
    document.save(buf)
    got = extract(buf.getvalue(), "cv.docx", None, LayoutLimits())
    texts = [line.text for line in got.lines if line.text]
    assert texts == [
        "Curriculum Vitae",
        "Name Joe Bloggs",
        "Email j.bloggs@example.com",
        "Experience",
        "Jun. 2008 - present Lorem ipsum dolor sit amet",
        "Egg Inspector",
        "Eggs and Ham, Co.",
    ]
    assert got.lines[1].cells == ["Name", "Joe Bloggs"]

    from agents.resume.documents import Line

    jobs = experience(
        [
            Line(t)
            for t in [
                "Egg Inspector",
                "Eggs and Ham, Co.",
                "Jan 2013 – Mar 2014",
                "Ham Inspector",
                "Ham and Eggs, Co.",
                "Jun 2011 – Nov 2013",
            ]
        ]
    )
    assert [(j["title"], j["company"], j["start"], j["end"]) for j in jobs] == [
        ("Egg Inspector", "Eggs and Ham, Co.", "2013-01", "2014-03"),
        ("Ham Inspector", "Ham and Eggs, Co.", "2011-06", "2013-11"),
    ]
    degrees = education(
        [
            Line(t)
            for t in [
                "PhD in Egg Engineering",
                "University of Eggington, May 2010",
                "Cumulative GPA: 2.89",
                "BS in Hamology",
                "Hammsworth College, May 2007",
            ]
        ]
    )
    assert [(d["institution"], d["end"]) for d in degrees] == [
        ("University of Eggington", "2010-05"),
        ("Hammsworth College", "2007-05"),
    ]


async def test_a_labelled_name_below_an_about_me_heading():
    from agents.resume.documents import Extracted, Line
    from agents.resume.fakes import InProcessNlpClient
    from agents.resume.resume import parse

    class NoSkills:
        def find(self, text, *, lenient=False):
            return []

    lines = [Line("Curriculum Vitae", 16.0), Line("About me", 12.0)]
    lines += [Line("Name Joe Bloggs", cells=["Name", "Joe Bloggs"]), Line("Phone 3208578573")]
    record = await parse(Extracted("docx", lines), gazetteer=NoSkills(), nlp=InProcessNlpClient())
    assert record["contact"]["name"] == "Joe Bloggs"


def test_a_company_line_after_a_job_without_bullets_opens_the_next_job():
    from agents.resume.documents import Line
    from agents.resume.parsing import experience

    def line(*cells: str) -> Line:
        return Line(" ".join(cells), cells=list(cells))

    jobs = experience(
        [
            line("Danggeun Market Inc.", "Seoul, S.Korea"),
            line("Site Reliability Engineer", "Feb. 2021 - Mar. 2021"),
            line("Kasa", "Seoul, S.Korea"),
            line("Founding Member & Director", "Jun. 2018 - Jan. 2021"),
        ]
    )
    assert [(j["company"], j["start"]) for j in jobs] == [
        ("Danggeun Market Inc.", "2021-02"),
        ("Kasa", "2018-06"),
    ]
    # a description line of the job above stays there
    jobs = experience(
        [
            line("Teaching"),
            line("Teacher, Lowood School, Lowood.", "1844–1846"),
            line("Teaching all grades."),
            line("Governess, Thornfield Hall.", "1846–1847"),
        ]
    )
    assert [(j["title"], j["start"]) for j in jobs] == [("Teacher", "1844"), ("Governess", "1846")]
