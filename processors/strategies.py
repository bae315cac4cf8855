"""Routing strategies: how a queue orders the agents eligible for a contact.

`rank(strategy, ...)` takes the eligible agents of the best tier and returns them best
first, each with a score and a note an auditor can read. The strategies follow Asterisk's
`queues.conf` and Twilio TaskRouter / Amazon Connect routing:

| strategy | who wins | Asterisk |
| --- | --- | --- |
| `longest_idle` | the agent idle longest (since its last state change to idle) | `leastrecent` |
| `fewest_answered` | the agent who answered fewest contacts of this queue | `fewestcalls` |
| `round_robin` | the next agent in member order after the one offered last | `rrmemory` |
| `linear` | the first agent in member order (the order agents joined the queue) | `linear` |
| `random` | a uniform draw seeded from the command's event id | `random` |
| `weighted_random` | a draw weighted by the membership `weight` | `wrandom` |
| `ring_all` | every eligible agent is offered; the first to accept wins | `ringall` |
| `best_skill` | the highest summed level on the skills the contact needs | — (Connect proficiency) |

Ties always fall back to longest idle, then agent id, so a ranking is a total order.
Random draws come from `random.Random(seed)` with a string seed (hashed with SHA-512, so
the same in every process): replaying the log redraws the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from processors.acd_state import Agent, TenantState, answered_key
from schemas.routing import Membership

__all__ = ["STRATEGIES", "Pick", "rank"]

STRATEGIES = (
    "longest_idle",
    "fewest_answered",
    "round_robin",
    "linear",
    "random",
    "weighted_random",
    "ring_all",
    "best_skill",
)


@dataclass(frozen=True, slots=True)
class Pick:
    """One ranked candidate: the agent, its membership in the queue, score and note."""

    agent: Agent
    membership: Membership
    score: float
    note: str


def _idle_s(a: Agent, now: int) -> float:
    return (now - a.since) / 1000


def _idle_key(a: Agent) -> tuple[int, str]:
    return (a.since, a.agent_id)


def rank(
    strategy: str,
    t: TenantState,
    queue_id: str,
    contact_id: str,
    required: Mapping[str, int],
    candidates: list[tuple[Agent, Membership]],
    now: int,
    seed: str,
) -> list[Pick]:
    """`candidates` best first under `strategy` (all of them for `ring_all`)."""
    cands = sorted(candidates, key=lambda am: am[0].agent_id)
    if strategy in ("longest_idle", "ring_all"):
        ordered = sorted(cands, key=lambda am: _idle_key(am[0]))
        return [Pick(a, m, _idle_s(a, now), f"idle {_idle_s(a, now):.1f} s") for a, m in ordered]
    if strategy == "fewest_answered":
        counts = {a.agent_id: t.answered.get(answered_key(a.agent_id, queue_id), 0) for a, _ in cands}
        ordered = sorted(cands, key=lambda am: (counts[am[0].agent_id], *_idle_key(am[0])))
        return [
            Pick(
                a,
                m,
                counts[a.agent_id],
                f"answered {counts[a.agent_id]} in {queue_id}; idle {_idle_s(a, now):.1f} s",
            )
            for a, m in ordered
        ]
    if strategy in ("round_robin", "linear"):
        order = {aid: i for i, aid in enumerate(t.members.get(queue_id, ()))}
        n = max(len(order), 1)
        last = t.rr_last.get(queue_id, "") if strategy == "round_robin" else ""
        start = order[last] + 1 if last in order else 0

        def turn(am: tuple[Agent, Membership]) -> int:
            return (order.get(am[0].agent_id, n) - start) % n

        ordered = sorted(cands, key=lambda am: (turn(am), am[0].agent_id))
        what = f"turns after {last}" if last else "member order"
        return [Pick(a, m, turn((a, m)), f"{what}: {turn((a, m))}") for a, m in ordered]
    if strategy in ("random", "weighted_random"):
        rng = random.Random(f"{seed}|{contact_id}")
        draws: dict[str, float] = {}
        for a, m in cands:
            u = rng.random()
            # Efraimidis-Spirakis: sorting by u^(1/w) is a weighted draw without replacement.
            draws[a.agent_id] = u ** (1 / max(m.weight, 1)) if strategy == "weighted_random" else u
        ordered = sorted(cands, key=lambda am: (-draws[am[0].agent_id], am[0].agent_id))
        return [
            Pick(
                a,
                m,
                round(draws[a.agent_id], 6),
                f"draw {draws[a.agent_id]:.4f}"
                + (f" (weight {m.weight})" if strategy == "weighted_random" else ""),
            )
            for a, m in ordered
        ]
    if strategy == "best_skill":

        def fit(a: Agent) -> int:
            return sum(a.skills.get(s, 0) for s in required)

        ordered = sorted(cands, key=lambda am: (-fit(am[0]), *_idle_key(am[0])))
        return [Pick(a, m, fit(a), f"skill sum {fit(a)}; idle {_idle_s(a, now):.1f} s") for a, m in ordered]
    raise ValueError(f"unknown strategy {strategy!r}")
