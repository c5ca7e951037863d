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
    assert err.value.code == "UNREADABLE_DOCUMENT"


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
