"""E-mail normalisation: one account per mailbox, however the address is typed."""

from __future__ import annotations

import re
import unicodedata

from enginedge_streams.errors import ValidationError

_LOCAL = re.compile(r"^[^\s@]{1,64}$")


def normalise_email(raw: str) -> str:
    """NFKC, trimmed, case-folded local part, IDNA (punycode) lower-case domain.

    Provider-specific aliasing (Gmail dots, ``+tags``) is deliberately not
    collapsed: those are distinct addresses under RFC 5321.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    local, sep, domain = text.rpartition("@")
    if not sep or not _LOCAL.match(local) or not domain or "." not in domain.strip("."):
        raise ValidationError("not a valid e-mail address", code="INVALID_EMAIL")
    try:
        ascii_domain = domain.strip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationError("not a valid e-mail domain", code="INVALID_EMAIL") from None
    return f"{local.casefold()}@{ascii_domain}"
