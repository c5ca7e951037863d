"""A small labelled retrieval set: documents on distinct topics and queries whose answer is
one known section. Queries are paraphrases (few shared words) so they test meaning, not
string matching. Used by the end-to-end test (hit@1, MRR) and the benchmark."""

from __future__ import annotations

DOCUMENTS: dict[str, tuple[str, str]] = {
    "kafka-ops.md": (
        "md",
        """# Running Kafka

## Partitions and ordering

A topic is split into partitions. Records with the same key always land in the same
partition, and a partition is an append-only log, so ordering is guaranteed per key.

## Consumer groups

Consumers that share a group id divide the partitions between them. When a member joins
or leaves, the group rebalances and partitions are reassigned.

## Retention

Brokers delete old log segments after the retention period, seven days by default, or
when a size limit is reached. Compacted topics keep the latest value for each key.
""",
    ),
    "security-policy.md": (
        "md",
        """# Security policy

## Passwords

Passwords must be at least fourteen characters long. A forgotten password is reset from
the sign-in page with a link sent by email, which expires after thirty minutes.

## Multi-factor authentication

Every employee enrols an authenticator app. Hardware keys are issued to administrators.

## Reporting incidents

Suspected phishing or a lost laptop is reported to the security team within one hour
through the incident hotline.
""",
    ),
    "travel.md": (
        "md",
        """# Travel and expenses

## Booking

Trains are preferred for journeys under four hours. Flights need approval from your
manager before booking.

## Reimbursement

Upload receipts to the finance portal within thirty days of the trip; payments arrive
with the next monthly salary.

## Per diem

Meals abroad are covered with a fixed daily allowance that depends on the country.
""",
    ),
    "kitchen.txt": (
        "txt",
        """Sourdough bread needs a lively starter, flour, water and salt. Mix, rest for an hour,
then fold the dough every thirty minutes for two hours.

Bake the loaf in a preheated cast iron pot at 250 degrees, lid on for twenty minutes, then
uncovered until the crust is deep brown.

Store bread in a linen bag; a plastic bag softens the crust within a day.""",
    ),
    "garden.html": (
        "html",
        """<html><head><title>Garden notes</title></head><body>
<nav><a href="/">Home</a></nav>
<main><h1>Garden notes</h1>
<h2>Watering</h2><p>Tomatoes want deep watering twice a week rather than a little every day;
water early in the morning so leaves dry before evening.</p>
<h2>Pests</h2><p>Aphids on roses are washed off with a strong jet of water, and ladybirds
eat them. Slugs are kept away from lettuce with copper tape.</p>
<h2>Compost</h2><p>Mix green kitchen scraps with brown cardboard and turn the heap monthly;
it is ready when it smells of forest soil.</p></main>
<footer>Garden club newsletter</footer></body></html>""",
    ),
    "onboarding.md": (
        "md",
        """# First week

## Laptop

IT hands out a laptop on the first morning. Enrol it in device management before
installing anything else.

## Accounts

Your manager requests access to the code repositories and the chat workspace.

## Buddy

Every newcomer is paired with a buddy from another team for lunch on Fridays.
""",
    ),
}

# (query, file the answer is in, a phrase of the answering chunk)
QUERIES: list[tuple[str, str, str]] = [
    ("how do I get a new password if I forgot mine", "security-policy.md", "reset from"),
    ("who should I tell when my notebook computer is stolen", "security-policy.md", "lost laptop"),
    ("does Kafka keep messages in order", "kafka-ops.md", "ordering is guaranteed"),
    ("what happens when a consumer leaves the group", "kafka-ops.md", "rebalances"),
    ("how long are old records kept before deletion", "kafka-ops.md", "retention period"),
    ("when must I submit my receipts for reimbursement", "travel.md", "finance portal"),
    ("can I take a plane for a business trip", "travel.md", "Flights need approval"),
    ("daily allowance for food when abroad", "travel.md", "daily allowance"),
    ("what temperature to bake sourdough", "kitchen.txt", "250 degrees"),
    ("how to keep the bread crust crisp", "kitchen.txt", "linen bag"),
    ("how often should tomato plants be watered", "garden.html", "twice a week"),
    ("getting rid of aphids on roses", "garden.html", "ladybirds"),
    ("when is my compost ready", "garden.html", "forest soil"),
    ("what do I do with my laptop on day one", "onboarding.md", "device management"),
    ("who gives me access to the repositories", "onboarding.md", "code repositories"),
    ("second factor login app", "security-policy.md", "authenticator app"),
]


def score(ranked: list[list[dict[str, object]]], doc_ids: dict[str, str]) -> dict[str, float]:
    """hit@1 and MRR of search results (one list per query, best first)."""
    hits = 0
    rr = 0.0
    for (_, name, phrase), results in zip(QUERIES, ranked, strict=True):
        for rank, r in enumerate(results, 1):
            text = " ".join(str(r["text"]).split())
            if r["document_id"] == doc_ids[name] and phrase in text:
                rr += 1 / rank
                hits += rank == 1
                break
    n = len(QUERIES)
    return {"hit@1": hits / n, "mrr": rr / n, "queries": n}
