"""Screen-pop benchmark: look up callers in a customer directory of a million customers.

Prints numbers and asserts nothing. In process, no log, no serialization:

1. Generate `--customers` profiles from `--seed` (1-2 German mobile numbers each, an email,
   a tenth VIP), `--contacts` past contacts (ContactArrived, ContactEnded, WrapUpCompleted
   from a customer's number, a tenth from unknown numbers) and `--tickets` tickets, as the
   events the customers processor, the ACD and the tickets processor write.
2. Fold them into `processors.customer_directory` exactly as its runner does (`fold`, one
   event at a time, persistent state): the build rate is printed, not part of the lookups.
3. Time `--lookups` `screen_pop(state, tenant, ani)` calls (`time.perf_counter_ns`, each
   call alone): the caller's number given as E.164, in national format ("0151 …", with the
   directory's region DE) or with an international prefix ("0049 …"); by email; and unknown
   numbers. p50/p90/p99/max per kind and overall, in µs.

    python bench/customers.py [--customers 1000000 --contacts 300000 --tickets 50000
                               --lookups 20000 --last 5 --seed 1]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from processors.customer_directory import DirectoryState, fold, screen_pop
from schemas.contact import ContactArrived, ContactEnded, WrapUpCompleted
from schemas.customers import CustomerDefined
from schemas.envelope import Envelope, Message
from schemas.tickets import TicketCreated

TENANT = "bench"
REGION = "DE"
START_MS = 1_767_600_000_000
PREFIXES = (
    "151",
    "152",
    "157",
    "159",
    "160",
    "162",
    "163",
    "170",
    "171",
    "172",
    "175",
    "176",
    "177",
    "178",
    "179",
)


def _number(rng: random.Random) -> tuple[str, str]:
    """(E.164, national digits after the 0) of a German mobile number."""
    national = rng.choice(PREFIXES) + f"{rng.randrange(10**7, 10**8)}"
    return "+49" + national, national


def _msg(n: int, at: int, body: object) -> Message[Any]:
    return Message(Envelope(f"e{n}", TENANT, at, f"x{n}"), body)


def events(a: argparse.Namespace, rng: random.Random, numbers: list[str]) -> Iterator[Message[Any]]:
    n = 0
    seen: set[str] = set()
    for i in range(a.customers):
        phones = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            e164, _national = _number(rng)
            if e164 not in seen:
                seen.add(e164)
                phones.append(e164)
        numbers.extend(phones)
        n += 1
        body = CustomerDefined(
            f"cust{i:07d}",
            (f"Customer {i}",),
            tuple(phones),
            (f"customer{i}@example.com",),
            rng.random() < 0.1,
            rng.choice(("de", "en", "tr", "")),
            rng.choice(("retail", "business", "")),
            (),
            1,
        )
        yield _msg(n, START_MS, body)
    for k in range(a.contacts):
        ani = rng.choice(numbers) if rng.random() < 0.9 else _number(rng)[0]
        at = START_MS + k * 1000
        cid = f"k{k:07d}"
        for body in (
            ContactArrived(cid, "voice", ani, "+4930100"),
            ContactEnded(cid, "q1", "completed", "caller", "a1", 5_000),
            WrapUpCompleted(cid, "a1", rng.choice(("billing", "sales", "tech", "other")), ""),
        ):
            n += 1
            yield _msg(n, at, body)
    for j in range(a.tickets):
        n += 1
        customer = f"cust{rng.randrange(a.customers):07d}"
        body = TicketCreated(f"T{j:06d}", "ticket", "", "billing", "normal", "support", customer, "", 0, 0)
        yield _msg(n, START_MS + j, body)


def pct(values: Sequence[int], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000 if s else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=300_000)
    ap.add_argument("--tickets", type=int, default=50_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--last", type=int, default=5, help="contacts per screen pop")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    rng = random.Random(f"{a.seed}/customers")

    print(
        f"Screen-pop benchmark · {platform.platform()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
        f" · load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{a.customers:,} customers · {a.contacts:,} contacts · {a.tickets:,} tickets · "
        f"{a.lookups:,} lookups · last {a.last} · region {REGION} · seed {a.seed}"
    )
    numbers: list[str] = []
    state = DirectoryState()
    t0 = time.perf_counter()
    count = 0
    for m in events(a, rng, numbers):
        state = fold(state, m, REGION)
        count += 1
    build_s = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"build: {count:,} events folded in {build_s:.1f} s ({count / build_s:,.0f} events/s)"
        f" · max RSS {rss_mb:,.0f} MB"
    )

    kinds = ("e164", "national", "intl-00", "email", "unknown")
    lrng = random.Random(f"{a.seed}/lookups")
    queries: list[tuple[str, str, str]] = []
    for _ in range(a.lookups):
        kind = lrng.choices(kinds, (35, 25, 10, 10, 20))[0]
        number = lrng.choice(numbers) if numbers else "+4915100000000"
        national = number[3:]
        if kind == "e164":
            queries.append((kind, number, ""))
        elif kind == "national":
            queries.append((kind, f"0{national[:3]} {national[3:]}", ""))
        elif kind == "intl-00":
            queries.append((kind, f"0049{national}", ""))
        elif kind == "email":
            queries.append((kind, "", f"Customer{lrng.randrange(max(a.customers, 1))}@Example.com"))
        else:
            queries.append((kind, _number(lrng)[0], ""))
    times: dict[str, list[int]] = {k: [] for k in kinds}
    found = 0
    gc.collect()
    gc.disable()
    try:
        for kind, ani, email in queries:
            t = time.perf_counter_ns()
            pop = screen_pop(state, TENANT, ani, email=email, region=REGION, last=a.last)
            times[kind].append(time.perf_counter_ns() - t)
            found += pop["customer"] is not None
    finally:
        gc.enable()
    print(f"found {found:,} of {len(queries):,} callers ({found / max(len(queries), 1):.0%})")
    print(f"{'lookup':<10} {'count':>8} {'p50 µs':>9} {'p90 µs':>9} {'p99 µs':>9} {'max µs':>9}")
    every = [x for k in kinds for x in times[k]]
    for label, values in (*((k, times[k]) for k in kinds), ("all", every)):
        if values:
            print(
                f"{label:<10} {len(values):>8,} {pct(values, 0.5):>9.1f} {pct(values, 0.9):>9.1f} "
                f"{pct(values, 0.99):>9.1f} {max(values) / 1000:>9.1f}"
            )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
