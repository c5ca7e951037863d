"""Normalisation: canonical URLs, UTC dates, plain text, language, content hashes."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html

# Query parameters that only track the reader (campaigns, click ids, share sources).
TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "pk_", "mtm_", "ga_", "hmb_", "oly_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "spm",
        "smid",
        "sr_share",
        "ito",
        "ncid",
        "at_medium",
        "at_campaign",
        "s_cid",
        "icid",
        "trk",
        "soc_src",
        "soc_trk",
        "_ga",
        "_gl",
        "vero_id",
        "wt.mc_id",
        "ocid",
        "outputtype",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking(name: str) -> bool:
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, fragment or tracking parameters;
    remaining query parameters sorted; an empty path becomes ``/``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)
    ]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_key(url: str) -> str:
    return hashlib.sha256(canonical_url(url).encode()).hexdigest()[:32]


def feed_id_for(url: str) -> str:
    return "f" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:15]


def article_id_for(canonical: str) -> str:
    return "a" + hashlib.sha256(canonical.encode()).hexdigest()[:23]


def to_utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC struct_times."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def published_time(parsed: time.struct_time | None, fetched_at: datetime) -> tuple[datetime, bool]:
    """The UTC publication time and whether it was estimated (missing or in the future)."""
    at = to_utc(parsed)
    if at is None or at > fetched_at + timedelta(hours=1):
        return fetched_at, True
    return at, False


_WS = re.compile(r"\s+")


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (block elements become line breaks)."""
    if not fragment or "<" not in fragment:
        return _plain(html.unescape(fragment or ""))
    try:
        doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several types on broken markup; fall back to a tag strip
        return _plain(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for block in doc.xpath("//p|//br|//div|//li|//h1|//h2|//h3|//h4|//tr"):
        block.tail = "\n" + (block.tail or "")
    text = unicodedata.normalize("NFC", _unescape_left(doc.text_content()))
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _plain(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


#: A named or numeric character reference left in decoded text (double-escaped markup
#: such as ``&amp;nbsp;``): decoded once more, so no ``&nbsp;`` reaches stored text.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescape_left(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text


def clean_title(title: str, *, is_html: bool = True) -> str:
    """One line of plain text: markup removed when the title is HTML, entities decoded."""
    if is_html:
        return _WS.sub(" ", html_to_text(title)).strip()
    return _plain(_unescape_left(title))


_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    return [
        w.lower().replace("\u2019", "'") for w in _WORD.findall(unicodedata.normalize("NFKC", text))
    ]


def content_hash(title: str, text: str) -> str:
    """Hash of the words of title and text: equal for copies that differ only in markup,
    case, punctuation or spacing."""
    return hashlib.sha256(" ".join(words(title + "\n" + text)).encode()).hexdigest()


def language_tag(value: str | None) -> str | None:
    """``en-US`` -> ``en``; None for anything that is not a language tag."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def detect_language(text: str) -> str:
    """ISO 639-1 code detected by py3langid (its model ships in the package); ``und`` when
    the text is too short to tell."""
    sample = text[:2000]
    if len(words(sample)) < 4:
        return "und"
    import py3langid

    lang, _ = py3langid.classify(sample)
    return str(lang)


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
