"""Suggested fixes for the diagnostics' kinds (and which package defines what)."""

from __future__ import annotations

from collections.abc import Mapping

#: Well-known commands/environments and the package that defines them.
PACKAGE_OF = {
    "\\includegraphics": "graphicx",
    "\\url": "url (or hyperref)",
    "\\href": "hyperref",
    "\\mathbb": "amssymb",
    "\\mathfrak": "amssymb",
    "\\text": "amsmath",
    "\\eqref": "amsmath",
    "\\DeclareMathOperator": "amsmath",
    "\\SI": "siunitx",
    "\\si": "siunitx",
    "\\textcolor": "xcolor",
    "\\color": "xcolor",
    "\\definecolor": "xcolor",
    "\\toprule": "booktabs",
    "\\midrule": "booktabs",
    "\\bottomrule": "booktabs",
    "\\multirow": "multirow",
    "\\lipsum": "lipsum",
    "\\sout": "ulem",
    "\\hl": "soul",
    "\\cref": "cleveref",
    "\\Cref": "cleveref",
    "\\num": "siunitx",
    "\\tikz": "tikz",
    "\\qty": "siunitx",
    "\\ding": "pifont",
    "\\euro": "eurosym",
    "align": "amsmath",
    "align*": "amsmath",
    "gather": "amsmath",
    "multline": "amsmath",
    "pmatrix": "amsmath",
    "bmatrix": "amsmath",
    "cases": "amsmath",
    "tikzpicture": "tikz",
    "longtable": "longtable",
    "subfigure": "subcaption",
    "lstlisting": "listings",
    "minted": "minted (needs shell escape, which is disabled: use listings)",
}


STATIC_SUGGESTIONS = {
    "missing_font": "This font is not installed on the server: choose another font (or upload "
    "the .otf/.ttf file with the document and load it by file name with xelatex/lualatex).",
    "file_access_denied": "A document may only read and write files in its own compile "
    "directory (the main file and `files`): absolute paths and `..` are refused.",
    "shell_escape_blocked": "This worker never runs shell commands (\\write18 is always off): "
    "produce that material beforehand and send it with the document in `files`.",
    "missing_dollar": "A math-only character or command (_ ^ \\alpha ...) is used in text: put "
    "the formula in $...$, or escape the character (\\_ for an underscore).",
    "missing_begin_document": "Text or a typesetting command appears before \\begin{document}: "
    "move it after \\begin{document} (only definitions and \\usepackage belong in the preamble).",
    "mismatched_environment": "Each \\begin{x} needs a matching \\end{x}: check the nesting of "
    "your environments.",
    "unsupported_unicode": "pdflatex cannot typeset this character: compile with xelatex or "
    "lualatex, or replace it with a LaTeX command.",
    "unbalanced_braces": "Braces { } are unbalanced here: count the opening and closing braces "
    "on this line.",
    "alignment": "`&` separates table/alignment columns: escape a literal ampersand as \\&, or "
    "check the column count.",
    "double_script": "Two ^ (or _) apply to the same base: group them, e.g. x^{a^b} or {x^a}^b.",
    "missing_number": "A length or number was expected here (e.g. 2cm, 0.5\\textwidth).",
    "capacity_exceeded": "The document recursed or grew without end (e.g. a macro that calls "
    "itself): check recent definitions.",
    "missing_end_document": "The file ended without \\end{document}: add it at the end of the "
    "main file.",
    "multiply_defined_label": "Two \\label commands use the same key: make the keys unique.",
    "preamble_only": "This command may only be used before \\begin{document}: move it into the "
    "preamble.",
    "no_line_to_end": "\\\\ (or \\newline) is used where no line exists (e.g. after a blank "
    "line): remove it.",
    "missing_item": "A list environment (itemize/enumerate) contains text before its first \\item.",
    "overfull_box": "Text sticks out into the margin: rephrase, allow hyphenation, or use "
    "\\sloppy locally.",
    "terminal_input": "Give the answers in `terminal_input` (one string per question, in "
    "order), or write the value into the source instead of asking for it (e.g. replace "
    "\\typein[\\papertype]{...} by \\def\\papertype{a4paper}).",
    "page_limit": "The document produced more pages than this worker allows (MAX_PAGES): "
    "check for a loop that keeps emitting pages, or split the document.",
    "bibtex_error": "BibTeX could not read the bibliography: check the .bib file near this line.",
}


def _needs_package(name: str, what: str) -> str | None:
    pkg = PACKAGE_OF.get(name)
    if pkg is None:
        return None
    return f"{what} needs the {pkg} package: add \\usepackage{{{pkg.split()[0]}}} to the preamble."


def _suggest_missing_file(extra: Mapping[str, str]) -> str:
    name = extra.get("missing", "the file")
    if name.endswith((".sty", ".cls")):
        return (
            f"{name} is not installed here (TeX Live from Debian: latex-base, "
            f"latex-recommended, latex-extra): remove or replace the package, or upload "
            f"{name} as an extra file."
        )
    return f"{name} was not sent with the document: add it to `files` (relative to the main file)."


def suggest(kind: str, extra: Mapping[str, str]) -> str | None:
    """The suggested fix for a diagnostic of ``kind`` with its facts (``Diagnostic.extra``)."""
    cs = extra.get("command", "")
    key = extra.get("key", "")
    if kind == "undefined_control_sequence":
        return _needs_package(cs, cs) or (
            f"{cs or 'The command'} is not defined: check its spelling, or load the package "
            "that defines it with \\usepackage{...} in the preamble."
        )
    if kind == "undefined_environment":
        env = extra.get("environment", "")
        return _needs_package(env, f"The {env} environment") or (
            f"The {env or 'environment'} is not defined: check its name or load its package."
        )
    dynamic = {
        "missing_file": lambda: _suggest_missing_file(extra),
        "runaway_argument": lambda: (
            f"The argument of {cs or 'a command'} is missing its closing brace `}}`: close the "
            "brace before the end of the paragraph."
        ),
        "undefined_reference": lambda: (
            f"No \\label{{{key}}} exists: add the label after the numbered item (section, "
            "figure, equation) or fix the key."
        ),
        "undefined_citation": lambda: (
            f"No bibliography entry `{key}`: add it to the .bib file sent with the document, "
            "check \\bibliography{...}, or fix the key."
        ),
    }
    if kind in dynamic:
        return dynamic[kind]()
    return STATIC_SUGGESTIONS.get(kind)
