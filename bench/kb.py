"""Knowledge-base search benchmark: query latency over N generated articles (10,000 default).

Prints numbers and asserts nothing. The articles are generated from `--seed`: each has a
title of 3-8 words and a body of 80-400 words drawn Zipf-like (`Words`) from a vocabulary
of contact-center words plus 20,000 rarer generated terms, 1-4 tags and one of 12
categories. They go through the real path: the kb decider (`WriteArticle`,
`PublishArticle`), the library fold (`processors.kb_search`) and `KbIndex.sync` (SQLite
FTS5, BM25); the build is timed as a whole. A tenth of the articles get ratings.

Then `--queries` queries, each 2-6 words drawn like the bodies (a third with a category
filter), are searched with `limit` 10, each timed alone (`time.perf_counter_ns`): p50, p90,
p99 and max in ms, and queries/s over their sum. One process, one thread.

    python bench/kb.py [--articles 10000 --queries 2000 --seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.kb_search import KbIndex
from processors.kb_search import KbLibrary
from processors.knowledge_base import kb_processor
from schemas.envelope import Envelope, Message
from schemas.kb_commands import PublishArticle, RateArticle, WriteArticle

WORDS = """card block blocked lost stolen pin reset forgot address change overdraft fee fees
interest transfer payment declined refund direct debit standing order account close open
statement balance limit contactless abroad travel currency exchange cash atm withdrawal deposit
loan mortgage rate credit score app phone login password locked unlock verify identity customer
branch appointment complaint compensation fraud phishing scam email letter tax certificate
savings bonus student youth joint power attorney bereavement inheritance business invoice
salary insurance claim cover chargeback dispute merchant subscription cancel renew""".split()  # noqa: SIM905
CATEGORIES = tuple(f"cat-{i}" for i in range(12))


class Words:
    """Words drawn Zipf-like: rank r (0-based) with weight 1 / (r + 10), over the contact-center
    words and 20,000 generated terms (shuffled), so the commonest word is about 1.3 % of a
    text, as a frequent content word is (stop words aside), and most words are rare."""

    def __init__(self, rng: random.Random) -> None:
        vocab = WORDS + [f"term{i}" for i in range(20_000)]
        rng.shuffle(vocab)
        self.vocab = vocab
        total, self.cum = 0.0, []
        for r in range(len(vocab)):
            total += 1 / (r + 10)
            self.cum.append(total)

    def draw(self, rng: random.Random, k: int) -> str:
        return " ".join(rng.choices(self.vocab, cum_weights=self.cum, k=k))


def generate(n: int, seed: int) -> tuple[list[WriteArticle], Words]:
    rng = random.Random(seed)
    words = Words(rng)
    articles = []
    for i in range(n):
        title = words.draw(rng, rng.randint(3, 8)).capitalize()
        body = words.draw(rng, rng.randint(80, 400))
        tags = tuple(dict.fromkeys(rng.choice(WORDS) for _ in range(rng.randint(1, 4))))
        articles.append(WriteArticle(f"kb-{i:05d}", title, body, rng.choice(CATEGORIES), tags))
    return articles, words


def percentile(sorted_ns: list[int], p: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(p / 100 * len(sorted_ns)))] / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    print(
        f"KB search benchmark · {platform.platform()} · {platform.python_implementation()} "
        f"{platform.python_version()} · SQLite {sqlite3.sqlite_version} · {os.cpu_count()} CPUs · "
        f"{platform.processor() or platform.machine()} · load average {os.getloadavg()[0]:.2f}"
    )
    print(f"articles {a.articles:,} · queries {a.queries:,} · limit 10 · seed {a.seed}")

    writes, words = generate(a.articles, a.seed)
    rng = random.Random(a.seed + 1)
    kb, lib = kb_processor(), KbLibrary()
    kb_state, library = kb.initial_state(), lib.initial_state()
    t0 = time.perf_counter()
    n = 0
    for w in writes:
        commands: list[object] = [w, PublishArticle(w.article_id)]
        if rng.random() < 0.1:
            commands.append(RateArticle(w.article_id, rng.random() < 0.8, f"agent-{rng.randint(1, 50)}"))
        for c in commands:
            n += 1
            kb_state, outs = kb.process(kb_state, Message(Envelope(f"e{n}", "bench", n, f"c{n}"), c))
            for out in outs:
                library, _ = lib.process(library, out)
    t1 = time.perf_counter()
    index = KbIndex("bench")
    index.sync(library)
    t2 = time.perf_counter()
    print(
        f"build: decide+fold {n:,} commands {t1 - t0:.2f} s · index {len(index):,} articles "
        f"{t2 - t1:.2f} s ({len(index) / max(t2 - t1, 1e-9):,.0f} articles/s)"
    )

    queries = [
        (words.draw(rng, rng.randint(2, 6)), rng.choice(CATEGORIES) if rng.random() < 1 / 3 else None)
        for _ in range(a.queries)
    ]
    index.search("warm up", limit=10)
    times: list[int] = []
    found = 0
    for q, category in queries:
        s = time.perf_counter_ns()
        hits = index.search(q, category=category, limit=10)
        times.append(time.perf_counter_ns() - s)
        found += bool(hits)
    times.sort()
    total_s = sum(times) / 1e9
    head = ("search", "queries", "found", "queries/s", "p50 ms", "p90 ms", "p99 ms", "max ms")
    print()
    print(f"{head[0]:<8}" + "".join(f" {h:>9}" for h in head[1:]))
    row = (
        f"{len(times):,}",
        f"{found:,}",
        f"{len(times) / total_s:,.0f}",
        *(f"{percentile(times, p):.2f}" for p in (50, 90, 99)),
        f"{times[-1] / 1e6:.2f}",
    )
    print(f"{'all':<8}" + "".join(f" {c:>9}" for c in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
