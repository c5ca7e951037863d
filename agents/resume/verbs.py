"""Action-verb lexicon (base and past forms) for bullet checks."""

from __future__ import annotations

_BASE = """
accelerate achieve acquire adapt administer advise align analyze analyse architect arrange
assemble assess attain audit author automate boost build calculate champion coach
collaborate combine complete compose conceive conduct configure consolidate construct
consult control convert coordinate create cultivate cut debug decrease define deliver
deploy design detect develop devise diagnose direct discover document double drive
eliminate enable engineer enhance establish evaluate execute expand expedite facilitate
forecast formulate found generate grow guide halve identify implement improve increase
influence initiate innovate inspect install instrument integrate introduce invent
investigate launch lead lower maintain manage map maximize measure mentor migrate
minimize model modernize monitor motivate negotiate optimize orchestrate organize
overhaul own partner pilot pioneer plan prepare present prioritize produce program
propose prototype publish rebuild recruit redesign reduce refactor remodel replace
research resolve restructure revamp review revitalize run save scale schedule secure
ship simplify slash solve spearhead standardize streamline strengthen supervise
teach test train transform triple troubleshoot unify upgrade validate win write
"""
_IRREGULAR = {
    "build": "built",
    "cut": "cut",
    "drive": "drove",
    "grow": "grew",
    "lead": "led",
    "run": "ran",
    "teach": "taught",
    "win": "won",
    "write": "wrote",
    "found": "founded",
    "ship": "shipped",
    "plan": "planned",
    "map": "mapped",
    "slash": "slashed",
}
WEAK = {
    "help",
    "helped",
    "assist",
    "assisted",
    "work",
    "worked",
    "participate",
    "participated",
    "handle",
    "handled",
    "do",
    "did",
    "be",
    "was",
    "were",
    "is",
    "are",
    "responsible",
    "tasked",
    "involve",
    "involved",
    "contribute",
    "contributed",
    "use",
    "used",
    "utilize",
    "utilized",
    "try",
    "tried",
    "attend",
    "attended",
}


def past(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


BASE: set[str] = set(_BASE.split())
PAST_OF: dict[str, str] = {b: past(b) for b in BASE}
BASE_OF: dict[str, str] = {p: b for b, p in PAST_OF.items()}
PRESENT_3RD: dict[str, str] = {
    (
        b + "es"
        if b.endswith(("s", "sh", "ch", "x", "z"))
        else b[:-1] + "ies"
        if b.endswith("y") and b[-2:-1] not in "aeiou"
        else b + "s"
    ): b
    for b in BASE
}


def classify(word: str) -> tuple[str | None, str | None]:
    """(base form, tense) of a known action verb: tense `past` or `present`; else (None, None)."""
    w = word.lower()
    if w in BASE_OF and w in BASE:  # cut, set, put: the same form in both tenses
        return w, "either"
    if w in BASE_OF:
        return BASE_OF[w], "past"
    if w in BASE:
        return w, "present"
    if w in PRESENT_3RD:
        return PRESENT_3RD[w], "present"
    if w.endswith("ing") and (w[:-3] in BASE or w[:-3] + "e" in BASE):
        return (w[:-3] if w[:-3] in BASE else w[:-3] + "e"), "present"
    return None, None
