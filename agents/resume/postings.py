# ruff: noqa: RUF001  (resumes and postings really use en/em dashes and curly quotes)
"""Job postings (text or HTML) -> structured fields (pure functions over the text)."""

from __future__ import annotations

import re
from typing import Any

from agents.resume.ports import SkillGazetteer

SECTION_KINDS: dict[str, tuple[str, ...]] = {
    "required": (
        "requirements",
        "required",
        "required skills",
        "required qualifications",
        "qualifications",
        "minimum qualifications",
        "must have",
        "must-have",
        "must haves",
        "what you bring",
        "what you'll bring",
        "what we're looking for",
        "what we are looking for",
        "you have",
        "skills",
        "basic qualifications",
        "who you are",
    ),
    "preferred": (
        "nice to have",
        "nice-to-have",
        "nice to haves",
        "preferred",
        "preferred qualifications",
        "preferred skills",
        "bonus",
        "bonus points",
        "pluses",
        "plus",
        "good to have",
        "desired",
        "desirable",
        "extra credit",
    ),
    "responsibilities": (
        "responsibilities",
        "what you'll do",
        "what you will do",
        "the role",
        "your role",
        "duties",
        "key responsibilities",
        "in this role you will",
        "day to day",
        "your impact",
    ),
    "about": ("about us", "about the company", "who we are", "company"),
    "benefits": ("benefits", "perks", "what we offer", "compensation", "salary"),
}
_KIND_OF = {name: kind for kind, names in SECTION_KINDS.items() for name in names}
SENIORITY = [
    ("intern", r"\b(intern|internship)\b"),
    ("principal", r"\b(principal|distinguished)\b"),
    ("staff", r"\bstaff\b"),
    ("director", r"\b(director|head of|vp|vice president)\b"),
    ("lead", r"\b(lead|tech lead|team lead)\b"),
    ("senior", r"\b(senior|sr\.?)\b"),
    ("junior", r"\b(junior|jr\.?|entry[- ]level|graduate)\b"),
    ("manager", r"\bmanager\b"),
    ("mid", r"\b(mid[- ]level|intermediate)\b|\b(engineer|developer) ii\b"),
]
EMPLOYMENT = [
    ("internship", r"\b(internship|intern)\b"),
    ("contract", r"\b(contract|contractor|freelance|fixed[- ]term)\b"),
    ("part-time", r"\bpart[- ]time\b"),
    ("temporary", r"\b(temporary|temp)\b"),
    ("full-time", r"\b(full[- ]time|permanent)\b"),
]
CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
PERIOD_FACTOR = {"year": 1.0, "month": 12.0, "week": 52.0, "day": 260.0, "hour": 2080.0}
_AMOUNT = r"(\d{1,3}(?:[,.\s]\d{3})+|\d+(?:\.\d+)?)\s*([kKmM])?"
SALARY_RE = re.compile(
    rf"(?P<cur1>[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD|CHF|INR)\b)?\s*{_AMOUNT.replace('(', '(?P<a>', 1)}"
    rf"\s*(?:-|–|—|to)\s*(?P<cur2>[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD|CHF|INR)\b)?\s*"
    rf"(?P<b>\d{{1,3}}(?:[,.\s]\d{{3}})+|\d+(?:\.\d+)?)\s*(?P<kb>[kKmM])?\s*"
    rf"(?P<cur3>\b(?:USD|EUR|GBP|CAD|AUD|CHF|INR)\b)?"
    rf"(?:\s*(?:/|per|an|a)\s*(?P<period>year|yr|annum|annual|month|mo|week|wk|day|hour|hr))?",
    re.IGNORECASE,
)
YEARS_RE = re.compile(
    r"(?P<min>\d{1,2})\s*(?:\+|-\s*(?P<max>\d{1,2})|–\s*(?P<max2>\d{1,2})|to\s*(?P<max3>\d{1,2}))?"
    r"\s*\+?\s*years?(?:'|’)?\s*(?:of\s+)?(?:\w+\s+){0,4}?(?:experience|exp\b)",
    re.IGNORECASE,
)
EDUCATION_RE = re.compile(
    r"\b(ph\.?d\.?|doctorate|master'?s?(?: degree)?|m\.?s\.?c?\b|mba|bachelor'?s?(?: degree)?|"
    r"b\.?s\.?c?\b|b\.?a\.?\b|associate'?s? degree|high school|degree)\b[^.;\n]*",
    re.IGNORECASE,
)
EDU_LEVEL = [
    ("phd", r"ph\.?d|doctorate"),
    ("master", r"master|m\.?s\.?c?\b|mba"),
    ("bachelor", r"bachelor|b\.?s\.?c?\b|b\.?a\.?\b"),
    ("associate", r"associate"),
    ("high_school", r"high school"),
    ("degree", r"degree"),
]


def html_to_text(html: str) -> str:
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # not parseable: strip tags by hand
        return re.sub(r"<[^>]+>", " ", html)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for li in root.xpath("//li"):
        li.text = "• " + (li.text or "")
    for el in root.xpath("//br|//p|//div|//li|//h1|//h2|//h3|//h4|//h5|//h6|//tr|//ul|//ol"):
        el.tail = "\n" + (el.tail or "")
        if el.tag in {"h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "li"}:
            el.text = "\n" + (el.text or "")
    text = root.text_content()
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _heading_kind(line: str) -> str | None:
    key = re.sub(r"[^a-z' -]", "", line.lower().replace("’", "'")).strip(" -")
    if len(key.split()) > 7:
        return None
    if key in _KIND_OF:
        return _KIND_OF[key]
    if line.rstrip().endswith(":") or line.isupper():
        for name, kind in _KIND_OF.items():
            if key.startswith(name):
                return kind
    return None


def _bullet(line: str) -> str:
    return re.sub(r"^[•●▪■◦‣∙·*\-–—>»]\s*", "", line).strip()


def sections(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"intro": []}
    current = "intro"
    for line in lines:
        kind = _heading_kind(line)
        if kind is not None:
            current = kind
            out.setdefault(kind, [])
            continue
        out.setdefault(current, []).append(_bullet(line))
    return out


def _amount(value: str, suffix: str | None) -> float:
    v = value.strip()
    if re.fullmatch(r"\d{1,3}(?:[,.\s]\d{3})+", v):
        number = float(re.sub(r"[,.\s]", "", v))
    else:
        number = float(v)
    if suffix and suffix.lower() == "k":
        number *= 1_000
    elif suffix and suffix.lower() == "m":
        number *= 1_000_000
    return number


def salary(text: str) -> dict[str, Any] | None:
    for m in SALARY_RE.finditer(text):
        cur = m.group("cur1") or m.group("cur2") or m.group("cur3")
        if cur is None and not m.group("kb"):
            continue  # "3-5" years etc.: a salary has a currency or a k
        suffix_b = m.group("kb")
        a_suffix = re.search(rf"{re.escape(m.group('a'))}\s*([kKmM])", m.group(0))
        low = _amount(m.group("a"), a_suffix.group(1) if a_suffix else suffix_b)
        high = _amount(m.group("b"), suffix_b)
        if high < low or high <= 0:
            continue
        period_raw = (m.group("period") or "").lower()
        period = {
            "yr": "year",
            "annum": "year",
            "annual": "year",
            "mo": "month",
            "wk": "week",
            "hr": "hour",
        }.get(period_raw, period_raw) or ("hour" if high < 500 else "year")
        currency = CURRENCY.get(cur or "$", (cur or "USD").upper())
        factor = PERIOD_FACTOR.get(period, 1.0)
        return {
            "min": low,
            "max": high,
            "currency": currency,
            "period": period,
            "annual_min": round(low * factor),
            "annual_max": round(high * factor),
            "text": m.group(0).strip(),
        }
    return None


def years(text: str) -> dict[str, Any] | None:
    m = YEARS_RE.search(text)
    if not m:
        return None
    mx = m.group("max") or m.group("max2") or m.group("max3")
    return {"min": int(m.group("min")), "max": int(mx) if mx else None, "text": m.group(0)}


def education(text: str) -> dict[str, Any] | None:
    m = EDUCATION_RE.search(text)
    if not m:
        return None
    phrase = m.group(0).strip()
    level = next((name for name, rx in EDU_LEVEL if re.search(rx, phrase, re.IGNORECASE)), None)
    return {"level": level, "text": phrase}


def first_match(options: list[tuple[str, str]], text: str) -> str | None:
    for name, rx in options:
        if re.search(rx, text, re.IGNORECASE):
            return name
    return None


def labelled(lines: list[str], *labels: str) -> str | None:
    for line in lines:
        m = re.match(rf"^\s*(?:{'|'.join(labels)})\s*[:\-–]\s*(.+)$", line, re.IGNORECASE)
        if m:
            return m.group(1).strip()
    return None


def remote_mode(text: str) -> str | None:
    low = text.lower()
    if re.search(r"\bhybrid\b", low):
        return "hybrid"
    if re.search(r"\b(fully remote|remote[- ]first|100% remote|remote)\b", low) and not re.search(
        r"\bno(?:t)? remote\b", low
    ):
        return "remote"
    if re.search(r"\b(on[- ]?site|in[- ]office|in person)\b", low):
        return "on-site"
    return None


def extract(
    text: str, *, gazetteer: SkillGazetteer, entities: list[dict[str, Any]]
) -> dict[str, Any]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    secs = sections(lines)
    title = labelled(lines, "job title", "title", "position", "role") or next(
        (ln for ln in lines if _heading_kind(ln) is None and len(ln.split()) <= 10), None
    )
    if title:
        title = re.split(r"\s+(?:at|@|[-–|])\s+[A-Z]", title)[0].strip()
    company = labelled(lines, "company", "employer", "organization", "organisation")
    if company is None:
        for line in lines[:3]:
            m = re.search(r"\b(?:at|join)\s+([A-Z][\w&.]*(?:[ \t]+[A-Z][\w&.]*){0,3})", line)
            if m:
                company = m.group(1).rstrip(".,")
                break
    if company is None:
        gpes = {e["text"] for e in entities if e.get("label") == "GPE"}
        # NER tags state codes ("TX") and places as organisations: never a company
        orgs = [
            e["text"]
            for e in entities
            if e.get("label") == "ORG"
            and e["text"] not in gpes
            and not re.fullmatch(r"[A-Z]{2}", e["text"].strip())
        ]
        company = orgs[0] if orgs else None
    location = labelled(lines, "location", "based in", "office")
    if location is None:
        places = [e["text"] for e in entities if e.get("label") == "GPE"]
        location = ", ".join(dict.fromkeys(places[:2])) or None
    required_text = "\n".join(secs.get("required", []))
    preferred_text = "\n".join(secs.get("preferred", []))
    required = [h.skill for h in gazetteer.find(required_text, lenient=True)]
    preferred = [h.skill for h in gazetteer.find(preferred_text, lenient=True)]
    if not required and not preferred:  # no sections: every skill named is required
        required = [h.skill for h in gazetteer.find(text)]
    required = list(dict.fromkeys(required))
    preferred = [s for s in dict.fromkeys(preferred) if s not in required]
    title_text = title or ""
    return {
        "title": title,
        "seniority": first_match(SENIORITY, title_text) or first_match(SENIORITY, text[:400]),
        "company": company,
        "location": location,
        "remote": remote_mode(text),
        "employment_type": first_match(EMPLOYMENT, text),
        "salary": salary(text),
        "required_skills": required,
        "preferred_skills": preferred,
        "years_experience": years(required_text or text),
        "education": education(required_text or text),
        "responsibilities": secs.get("responsibilities", []),
        "requirements": secs.get("required", []),
        "nice_to_have": secs.get("preferred", []),
    }
