"""`ccx up`'s demo CRM: customer profiles for the simulator's repeat callers, a few open
tickets, and a knowledge base, so the agent desktop's screen pop and search show something.

Everything goes in as ordinary commands (`DefineCustomer`, `CreateTicket`, `WriteArticle`,
`PublishArticle`) decided by the CRM runners, like any edge's. Names, languages and VIP
flags are a pure function of the caller's number, so two runs define the same profiles.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

from schemas.customer_commands import CustomerAttribute, DefineCustomer
from schemas.envelope import Envelope, Message
from schemas.kb_commands import PublishArticle, WriteArticle
from schemas.ticket_commands import CreateTicket

__all__ = ["demo_crm_commands", "demo_articles"]

_FIRST = (
    "Anna",
    "Ben",
    "Chiara",
    "David",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
)
_LAST = (
    "Adler",
    "Berg",
    "Costa",
    "Dahl",
    "Engel",
    "Fischer",
    "Graf",
    "Hahn",
    "Ivanova",
    "Jung",
    "Kraus",
    "Lang",
)
_TICKETS = (
    ("Card blocked after wrong PINs", "cards", "P2", "cards"),
    ("Transfer not arrived", "payments", "P1", "payments"),
    ("Statement copy for tax office", "accounts", "P4", "back-office"),
)


def demo_articles() -> list[dict[str, Any]]:
    """The demo knowledge base (also the KB search tests' corpus)."""
    text = resources.files("ccx").joinpath("demo/kb_articles.json").read_text()
    return list(json.loads(text))


def _pick(number: str, salt: str, n: int) -> int:
    return int(hashlib.sha256(f"{salt}:{number}".encode()).hexdigest()[:8], 16) % n


def demo_crm_commands(
    numbers: tuple[str, ...], tenant: str, at_ms: int, *, tickets_every: int = 25
) -> list[Message[Any]]:
    """Profiles for `numbers`, an open ticket for every `tickets_every`-th, and the articles."""
    bodies: list[object] = []
    for i, number in enumerate(numbers):
        cid = f"cust-{i + 1:04d}"
        first, last = _FIRST[_pick(number, "first", len(_FIRST))], _LAST[_pick(number, "last", len(_LAST))]
        bodies.append(
            DefineCustomer(
                cid,
                (f"{first} {last}",),
                (number,),
                (f"{first}.{last}.{i + 1}@example.com".lower(),),
                vip=_pick(number, "vip", 7) == 0,
                language=("en", "de", "fr")[_pick(number, "lang", 3)],
                segment=("retail", "premium", "business")[_pick(number, "segment", 3)],
                attributes=(CustomerAttribute("since", str(2010 + _pick(number, "since", 15))),),
            )
        )
        if i % tickets_every == 0:
            title, category, priority, department = _TICKETS[(i // tickets_every) % len(_TICKETS)]
            bodies.append(CreateTicket(f"T-{i + 1:04d}", title, "", category, priority, department, cid))
    for article in demo_articles():
        bodies.append(
            WriteArticle(
                article["id"], article["title"], article["body"], article["category"], tuple(article["tags"])
            )
        )
        bodies.append(PublishArticle(article["id"]))
    return [
        Message(
            Envelope(f"ccx-up-crm:{tenant}:{at_ms}:{n}", tenant, at_ms, tenant, None, "system:ccx-up"), body
        )
        for n, body in enumerate(bodies)
    ]
