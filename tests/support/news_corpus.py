"""News stories for the news worker's tests and benchmark (generated, deterministic).

``story(seed)`` writes a distinct story from sentence templates filled with
companies, people, places and figures; ``light_edit`` makes the kind of copy a
second outlet publishes (a reworded title, a few words changed, a sentence
dropped or added); ``labelled_set`` builds pairs labelled duplicate / not.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COMPANIES = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Holdings",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent Foods",
    "Cyberdyne Systems",
    "Tyrell Corporation",
    "Wonka Industries",
    "Massive Dynamic",
    "Aperture Science",
    "Oscorp",
    "Nakatomi Trading",
]
PEOPLE = [
    "Maria Lopez",
    "John Carter",
    "Aiko Tanaka",
    "Peter Novak",
    "Fatima Hassan",
    "Lars Eriksen",
    "Chen Wei",
    "Olivia Brown",
    "Rahul Mehta",
    "Sofia Rossi",
    "Daniel Kim",
    "Grace Okafor",
]
PLACES = [
    "Berlin",
    "Chicago",
    "Tokyo",
    "Nairobi",
    "Sao Paulo",
    "Toronto",
    "Madrid",
    "Singapore",
    "Oslo",
    "Mumbai",
    "Sydney",
    "Warsaw",
]
TEMPLATES = [
    "{c} said on {day} that it would {verb} its operations in {p}, a move analysts had expected for months.",
    "Chief executive {n} told reporters that the company was confident about demand for the rest of the year.",
    "Shares of {c} rose {x} percent in early trading after the announcement.",
    "The decision affects roughly {k} employees, according to a person familiar with the plans.",
    "{n} added that regulators in {p} had been briefed before the news became public.",
    "Competitors including {c2} have made similar changes over the past two quarters.",
    "The company reported revenue of {x} billion dollars for the quarter, above the forecasts of most analysts.",
    "Unions in {p} criticised the plan and asked for talks with management next week.",
    "Investors have pushed {c} to cut costs since a weak holiday season last year.",
    "A spokesperson for {c2} declined to comment on the report.",
    "The city of {p} said it welcomed the investment and would support new training programmes.",
    "Analysts at a large bank wrote in a note that the deal could close before the summer.",
    "{n} joined the company {k2} years ago and became chief executive in a reshuffle last spring.",
    "The new facility in {p} will produce batteries, sensors and control software for industrial customers.",
    "Officials said the project would be financed partly through public loans and partly by private capital.",
    "Critics warned that the timeline was ambitious given shortages of skilled workers and materials.",
    "The board is expected to vote on the proposal at its meeting in {p} later this month.",
    "Earlier this year {c} settled a long dispute with {c2} over patents for wireless charging.",
    "Environmental groups asked for an independent review of the water use of the planned site.",
    "{n} said the company would publish a detailed plan together with its annual results.",
    "Trading volumes were roughly {k2} times the daily average as investors digested the figures.",
    "The government of {p} said it was monitoring the situation closely and would protect jobs.",
]
VERBS = ["expand", "restructure", "review", "double", "relocate", "automate", "sell", "modernise"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
SYNONYMS = {
    "said": "stated",
    "rose": "climbed",
    "roughly": "about",
    "expected": "anticipated",
    "criticised": "condemned",
    "announcement": "news",
    "company": "firm",
    "plans": "plan",
    "investors": "shareholders",
    "warned": "cautioned",
    "detailed": "full",
    "asked": "called",
}


@dataclass(frozen=True)
class Story:
    title: str
    text: str
    company: str
    person: str
    place: str


def story(seed: int, *, company: str | None = None, sentences: int = 9) -> Story:
    rnd = random.Random(seed)
    c = company or rnd.choice(COMPANIES)
    c2 = rnd.choice([x for x in COMPANIES if x != c])
    n, p = rnd.choice(PEOPLE), rnd.choice(PLACES)
    fill = {
        "c": c,
        "c2": c2,
        "n": n,
        "p": p,
        "day": rnd.choice(DAYS),
        "verb": rnd.choice(VERBS),
        "x": rnd.randint(2, 19),
        "k": rnd.randint(200, 9000),
        "k2": rnd.randint(3, 15),
    }
    picked = rnd.sample(TEMPLATES, sentences)
    picked[0] = TEMPLATES[0]
    text = " ".join(t.format(**fill) for t in picked)
    title = f"{c} to {fill['verb']} operations in {p}, {n} says"
    return Story(title, text, c, n, p)


def light_edit(s: Story, seed: int) -> Story:
    """Another outlet's copy: reworded title, a few synonyms, one sentence dropped or added."""
    rnd = random.Random(seed)
    words = s.text.split(" ")
    swaps = 0
    for i, w in enumerate(words):
        key = w.strip(".,")
        if key in SYNONYMS and swaps < 3 and rnd.random() < 0.5:
            words[i] = w.replace(key, SYNONYMS[key])
            swaps += 1
    sentences = " ".join(words).split(". ")
    if rnd.random() < 0.5 and len(sentences) > 5:
        del sentences[rnd.randrange(2, len(sentences))]
    else:
        sentences.insert(
            len(sentences) // 2, "The report was first published by a regional newspaper"
        )
    text = ". ".join(sentences)
    return Story(
        f"{s.company} plans to {s.title.split(' to ', 1)[1]}", text, s.company, s.person, s.place
    )


def labelled_set(n_stories: int = 60, seed: int = 7) -> list[tuple[Story, int]]:
    """Stories in arrival order, each with its story id: copies of one story share the id.

    Every third story gets one or two light edits (copies); every fourth is about one of
    five companies, so many different stories share their main entity (not copies)."""
    rnd = random.Random(seed)
    items: list[tuple[Story, int]] = []
    for i in range(n_stories):
        company = COMPANIES[i % 5] if i % 4 == 0 else None
        base = story(seed * 1000 + i, company=company)
        items.append((base, i))
        if i % 3 == 0:
            for j in range(1 + (i % 2)):
                items.append((light_edit(base, seed * 7919 + i * 13 + j), i))
    rnd.shuffle(items)
    return items
