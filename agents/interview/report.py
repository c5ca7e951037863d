"""The interview report: per-question and per-phase scores, evidence, and its PDF forms."""

from __future__ import annotations

import asyncio
import io
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from agents.interview import scoring
from agents.interview.grade_validation import DEFAULT_MAX_DEVIATION, GradeCheck, check_grade
from agents.interview.model import Question, Session
from agents.interview.ports import AnswerGrader
from agents.latex.escaping import escape

#: What ``auto`` means when no grader model is chosen (``INTERVIEW_LLM_MODEL`` empty): the path
#: that measured better with the local default model on our evaluation set
#: (``python -m bench.interview_grading``; figures in docs/benchmarks.md).
AUTO_OFFLINE = "rules"


@dataclass(frozen=True)
class ReportPolicy:
    rule_weights: dict[str, float]
    evaluator: str = "auto"  # auto | llm | rules
    max_deviation: int = DEFAULT_MAX_DEVIATION
    llm_model: str = ""  # a chosen grader model: ``auto`` asks it (validated)

    def auto_asks_llm(self) -> bool:
        return bool(self.llm_model) or AUTO_OFFLINE == "llm"


def answers_by_question(session: Session) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in session.transcript:
        if e.kind == "answer" and e.question_id:
            out.setdefault(e.question_id, []).append(e.model_dump())
    return out


def outcome_of(session: Session, question_id: str) -> str:
    for e in session.transcript:
        if e.question_id == question_id and e.kind == "skip":
            return "skipped"
    for e in session.transcript:
        if e.kind == "phase_timeout" and question_id in (e.text or "").split(","):
            return "timed_out"
    asked = any(e.question_id == question_id and e.kind == "question" for e in session.transcript)
    return "unanswered" if asked else "not_reached"


async def grade_with_llm(
    grader: AnswerGrader,
    question: Question,
    answer: str,
    rules: dict[str, Any],
    *,
    max_deviation: int = DEFAULT_MAX_DEVIATION,
) -> GradeCheck:
    """The model's grade, validated against the answer and the rule score (see
    :mod:`agents.interview.grade_validation`); a failed call is ``LLM_UNAVAILABLE``."""
    try:
        raw = await grader.grade(scoring.grading_prompt(question, answer))
    except Exception as exc:  # the rule-based score stands in; the reason is reported
        return GradeCheck(None, "LLM_UNAVAILABLE", f"{type(exc).__name__}: {exc}")
    return check_grade(raw, question, answer, rules, max_deviation=max_deviation)


def apply_check(item: dict[str, Any], check: GradeCheck) -> None:
    """Use a valid verdict, or keep the rule score and say why (``fallback_reason``)."""
    verdict = check.verdict
    if verdict is None:
        item["fallback_reason"] = check.reason
        item["fallback_detail"] = check.detail
        if check.llm_score is not None:
            item["llm_score"] = check.llm_score
        if check.reason == "LLM_UNAVAILABLE":
            item["llm_error"] = check.detail
        return
    item["score"] = verdict["score"]
    item["evaluator"] = "llm"
    item["evidence"] = [
        verdict["evidence"],
        *(e for e in item["evidence"] if e != verdict["evidence"]),
    ][:2]
    item["feedback"] = verdict["improvements"] or item["feedback"]
    item["strengths"] = verdict["strengths"]
    if verdict["justification"]:
        item["justification"] = verdict["justification"]


async def build(
    session: Session,
    questions: dict[str, Question],
    *,
    grader: AnswerGrader | None,
    policy: ReportPolicy,
    evaluator: str,
) -> dict[str, Any]:
    use_llm = evaluator == "llm" or (
        evaluator == "auto"
        and policy.auto_asks_llm()
        and grader is not None
        and await grader.available()
    )
    answers = answers_by_question(session)
    items: list[dict[str, Any]] = []
    jobs = []
    for plan in session.phases:
        for qid in plan.question_ids:
            q = questions[qid]
            given = answers.get(qid, [])
            text = " ".join(a["text"] for a in given).strip()
            spoken = any(a.get("source") == "audio" for a in given)
            speech = next((a.get("speech") for a in reversed(given) if a.get("speech")), None)
            item: dict[str, Any] = {"question_id": qid, "phase": plan.phase, "question": q.text}
            if not text:
                item.update(
                    score=0,
                    outcome=outcome_of(session, qid),
                    evaluator="none",
                    evidence=[],
                    feedback=["no answer"],
                )
                items.append(item)
                continue
            rules = scoring.rule_score(q, text, speech, spoken=spoken, weights=policy.rule_weights)
            item.update(
                outcome="answered",
                source="audio" if spoken else "text",
                score=rules["score"],
                evaluator="rules",
                rule_score=rules["score"],
                criteria=rules["criteria"],
                concepts_found=rules["concepts_found"],
                concepts_missing=rules["concepts_missing"],
                evidence=scoring.evidence(q, text),
                speech=speech,
                feedback=[f"cover: {', '.join(rules['concepts_missing'])}"]
                if rules["concepts_missing"]
                else [],
            )
            items.append(item)
            if use_llm and grader is not None:
                jobs.append((item, q, text, rules))
    if jobs:
        assert grader is not None
        checks = await asyncio.gather(
            *(
                grade_with_llm(grader, q, t, r, max_deviation=policy.max_deviation)
                for _, q, t, r in jobs
            )
        )
        for (item, _, _, _), check in zip(jobs, checks, strict=True):
            apply_check(item, check)
    phases = []
    rubric = session.template.rubric
    for plan in session.phases:
        mine = [i for i in items if i["phase"] == plan.phase]
        score = round(sum(i["score"] for i in mine) / len(mine)) if mine else 0
        phases.append(
            {
                "phase": plan.phase,
                "score": score,
                "weight": rubric.get(plan.phase, 0.0),
                "status": plan.status,
                "questions": len(mine),
                "answered": sum(i["outcome"] == "answered" for i in mine),
            }
        )
    total_w = sum(p["weight"] for p in phases) or 1.0
    overall = round(sum(p["score"] * p["weight"] for p in phases) / total_w)
    evaluators = sorted({i["evaluator"] for i in items if i["evaluator"] != "none"})
    return {
        "session_id": session.session_id,
        "candidate": session.candidate.model_dump(),
        "template_id": session.template_id,
        "template_name": session.template.name,
        "overall_score": overall,
        "phases": phases,
        "questions": items,
        "evaluator": "+".join(evaluators) or "none",
        "llm_requested": use_llm,
        "end_reason": session.end_reason,
        "generated_at": time.time(),
        "rubric": dict(rubric),
    }


# -- PDF ------------------------------------------------------------------------------------


def _latin1(ch: str) -> str:
    """A character pdflatex prints with T1 fonts: Latin-1 as is, others by their base letters
    (``Dvořák`` -> ``Dvorak``), ``?`` when there are none."""
    if ord(ch) < 0x100:
        return ch
    base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
    return "".join(c for c in base if c.isprintable()) or "?"


def tex(text: Any) -> str:
    """Text for the report's LaTeX: the LaTeX worker's escaping (specials, control characters,
    white space) after the letters T1 fonts lack are replaced."""
    raw = "".join(ch if ch.isprintable() or ch.isspace() else "" for ch in str(text))
    return escape("".join(_latin1(ch) for ch in raw))


def latex_source(report: dict[str, Any]) -> str:
    rows = "\n".join(
        f"{tex(p['phase'].replace('_', ' '))} & {p['score']} & {p['weight']:.2f} & "
        f"{p['answered']}/{p['questions']} \\\\"
        for p in report["phases"]
    )
    qs = []
    for q in report["questions"]:
        quotes = "".join(f"\\item ``{tex(e)}''\n" for e in q.get("evidence", []))
        feedback = "; ".join(tex(f) for f in q.get("feedback", []))
        qs.append(
            f"\\subsection*{{{tex(q['phase'].replace('_', ' ').title())}: {q['score']}/100 "
            f"({tex(q['outcome'])}, {tex(q['evaluator'])})}}\n{tex(q['question'])}\n"
            + (f"\\begin{{itemize}}\n{quotes}\\end{{itemize}}\n" if quotes else "")
            + (f"\\textit{{Feedback:}} {feedback}\n" if feedback else "")
        )
    return (
        "\\documentclass[11pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
        "\\usepackage[margin=2cm]{geometry}\n"
        "\\begin{document}\n"
        f"\\section*{{Interview report: {tex(report['candidate']['name'])}}}\n"
        f"Template: {tex(report['template_name'])}. Overall score: "
        f"\\textbf{{{report['overall_score']}/100}} (evaluator: {tex(report['evaluator'])}).\n\n"
        "\\begin{tabular}{lrrr}\nPhase & Score & Weight & Answered \\\\\n\\hline\n"
        f"{rows}\n\\end{{tabular}}\n" + "\n".join(qs) + "\\end{document}\n"
    )


def reportlab_pdf(report: dict[str, Any]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Interview report")
    flow: list[Any] = [
        Paragraph(escape(f"Interview report: {report['candidate']['name']}"), styles["Title"]),
        Paragraph(
            escape(
                f"Template: {report['template_name']}. Overall score: "
                f"{report['overall_score']}/100 (evaluator: {report['evaluator']})."
            ),
            styles["Normal"],
        ),
        Spacer(1, 10),
        Table(
            [["Phase", "Score", "Weight", "Answered"]]
            + [
                [
                    p["phase"].replace("_", " "),
                    p["score"],
                    f"{p['weight']:.2f}",
                    f"{p['answered']}/{p['questions']}",
                ]
                for p in report["phases"]
            ]
        ),
    ]
    for q in report["questions"]:
        flow.append(Spacer(1, 8))
        flow.append(
            Paragraph(
                escape(
                    f"{q['phase'].replace('_', ' ').title()}: {q['score']}/100 "
                    f"({q['outcome']}, {q['evaluator']})"
                ),
                styles["Heading3"],
            )
        )
        flow.append(Paragraph(escape(q["question"]), styles["Normal"]))
        for quote in q.get("evidence", []):
            flow.append(Paragraph(escape(f"\u201c{quote}\u201d"), styles["Italic"]))
        if q.get("feedback"):
            flow.append(
                Paragraph(escape("Feedback: " + "; ".join(q["feedback"])), styles["Normal"])
            )
    doc.build(flow)
    return buf.getvalue()
