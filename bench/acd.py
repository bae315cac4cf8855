"""ACD routing benchmark: the indexed ACD against a scan of every agent, at growing sizes.

Prints numbers and asserts nothing, except that both ACDs decide the same. For each size
(100, 1,000 and 10,000 agents by default; 200 queues, 50 skills, about 2,000 waiting
contacts) the decider is driven directly, in process: no log, no serialization.

1. Setup, not measured, through the indexed ACD only: skills; queues (every strategy,
   ring-all in a few small hunt groups; 0-2 required skills at levels 1-3; half start at
   tier 0 and relax to tiers 1 and 2 and lower skill levels as a contact waits;
   priorities and aging; sticky callers; overflow to another queue after a wait; one
   queue in ten is chat, its agents take two chats at once); agents (2-4 queues at tiers
   0-2, 3-6 skills at levels 1-5, mostly trained for the skills their queues need); log-in.
   Every agent goes ready and one contact per agent arrives, then `--waiting` contacts
   arrive back to back and the simulation runs `--warmup-s` simulated seconds.
2. The measured stream: `--commands` commands of a contact center in a steady state,
   generated from `--seed` and from the ACD's own decisions. An offer is answered,
   declined or left to ring out; a connected contact may be held and resumed, then hangs
   up; wrap-up completes, the agent going ready (or on a break); waiting callers abandon;
   idle agents take breaks and come back; arrivals keep about `--waiting` contacts
   waiting; a `Tick` every simulated second. The clock (envelope `occurred_at`) advances
   with the simulation. The stream starts just after a Tick.
3. The indexed ACD (`ACD()`) decides the whole stream as it is generated. The scan
   baseline (`ACD(scan=True)`: every agent considered for every contact) then decides
   the same commands from the same starting state, until it has spent `--scan-seconds`
   deciding (or reached `--scan-commands`), and each command's outcome (its events, or
   its rejection) must equal the indexed one.

Only `decide` plus the `evolve` of each decided event is timed (`time.perf_counter_ns`),
per command, not the generation of the commands. How to read the numbers:

- commands/s: commands per second of decide+evolve time. decisions/s: routing decisions
  per second of that same time, a decision being a contact offered (`ContactOffered`;
  a ring-all offer to many agents counts once). RouteContact (a new contact finds an idle
  agent), CompleteWrapUp and SetAgentReady (an agent becomes ready and takes a waiting
  contact), DeclineOffer and Tick (ring no answer, relaxation) decide; the other commands
  count in commands/s only.
- p50/p99: latency of one command in µs (decide + evolve), over all commands, then per
  command type. A Tick re-dispatches every queue with waiting contacts and is the slowest
  command by far; RouteContact and CompleteWrapUp are the everyday decisions.
- The scan cannot get through the whole stream within its budget, so the indexed ACD is
  shown on the whole stream and on the same first K commands as the scan; the speedup is
  computed on those same K commands. The summary at the end shows the growth with size.
- "decisions identical: yes": every compared command decided the same in both. If not,
  the first difference is printed and the exit code is 1 (also after an ACD error).
- The default stream is shorter at 10,000 agents (`--commands 20000,20000,3000`), where
  the indexed ACD itself needs about 10 ms per command and a second per Tick.

    python bench/acd.py [--agents 100,1000,10000 --queues 200 --skills 50 --waiting 2000
                         --commands 20000,20000,3000 --scan-seconds 20 --seed 1]   (make bench-acd)
"""

from __future__ import annotations

import argparse
import gc
import heapq
import os
import platform
import random
import sys
import time
import traceback
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from progress_lines import Progress  # bench/progress_lines.py, beside this script

from processors.acd import ACD
from processors.acd_state import CONNECTED, HELD, OFFERED, WAITING, WRAP_UP, AcdState, TenantState
from processors.decider import Invalid, Rejected
from processors.strategies import STRATEGIES
from schemas.agent import AgentStateChanged
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    DefineSkill,
    HangUpContact,
    HoldContact,
    LogInAgent,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
)
from schemas.contact import ContactConnected, ContactOffered, ContactQueued, WrapUpStarted
from schemas.envelope import Envelope, Message, derive
from schemas.routing import Capacity, Membership, OverflowRule, RelaxStep, SkillLevel

TENANT = "bench"
START_MS = int(datetime(2025, 3, 3, 8, 0, tzinfo=UTC).timestamp() * 1000)  # a Monday morning

# The contact center's behaviour (seconds, probabilities).
RING_S = (1.0, 6.0)  # an agent answers or declines after this long ringing
P_DECLINE = 0.03  # of offers, declined
P_NO_ANSWER = 0.02  # of offers, left ringing until the queue's ring timeout (RONA, on a Tick)
TALK_MEAN_S = {"voice": 150.0, "chat": 300.0}  # exponential, plus TALK_MIN_S
TALK_MIN_S = 15.0
P_HOLD = 0.10  # of connected contacts, held for a while mid-call
WRAP_S = (5.0, 45.0)  # after-call work; longer than a queue's wrap_up_s ends on a Tick
P_BREAK_AFTER_WRAP = 0.04  # wrap-up completes into not ready
BREAK_S = (60.0, 600.0)
BACK_AFTER_RONA_S = (5.0, 30.0)
BREAKS_PER_AGENT_HOUR = 0.5  # idle agents going not ready by themselves
PATIENCE_MEAN_S = 1200.0  # waiting callers abandon after an exponential patience
FILL_AT_S = 10  # when the waiting contacts arrive, after the first contacts are answered
CYCLE_S = 3.5 + TALK_MIN_S + 150.0 + 25.0  # one voice contact's agent time, ring to wrap-up
P_CONTACT_SKILL = 0.15  # of contacts, asking for a higher level of one of the queue's skills


# --- configuration -------------------------------------------------------------------------


def _is_chat(queue_id: str) -> bool:
    return int(queue_id[1:]) % 10 == 3  # one queue in ten is a chat queue


def config(rng: random.Random, n_agents: int, n_queues: int, n_skills: int) -> list[object]:
    """DefineSkill, DefineQueue, DefineAgent and LogInAgent commands of one contact center."""
    skills = [f"sk{i:02d}" for i in range(n_skills)]
    out: list[object] = [DefineSkill(s, f"skill {i}") for i, s in enumerate(skills)]
    strategies = [s for s in STRATEGIES if s != "ring_all"]
    queues: list[DefineQueue] = []
    for i in range(n_queues):
        qid = f"q{i:03d}"
        strategy = "ring_all" if i % 40 == 7 else strategies[i % len(strategies)]
        required = tuple(
            SkillLevel(s, rng.randint(1, 3)) for s in rng.sample(skills, rng.choice((0, 1, 1, 2)))
        )
        tiered = rng.random() < 0.5
        relax = (RelaxStep(20, 1, 0), RelaxStep(rng.choice((60, 90, 120)), 2, 1)) if tiered else ()
        overflow: tuple[OverflowRule, ...] = ()
        targets = [j for j in range(i) if (j % 10 == 3) == (i % 10 == 3)]  # chat to chat, voice to voice
        if targets and rng.random() < 0.1:
            overflow = (OverflowRule("wait", "queue", f"q{rng.choice(targets):03d}", rng.choice((300, 600))),)
        q = DefineQueue(
            qid,
            f"queue {i}",
            sl_threshold_s=rng.choice((20, 30, 60)),
            ring_timeout_s=rng.choice((10, 15, 20)),
            wrap_up_s=rng.choice((30, 60, 120)),
            strategy=strategy,
            priority=rng.choice((0, 0, 0, 1, 2)),
            priority_aging_s=rng.choice((0, 0, 60)),
            required_skills=required,
            max_tier=0 if tiered else -1,
            relax=relax,
            overflow=overflow,
            sticky_s=20 if rng.random() < 0.1 else 0,
            rona_not_ready=rng.random() < 0.8,
        )
        queues.append(q)
    out += queues
    chat = {q.queue_id for q in queues if _is_chat(q.queue_id)}
    # Every agent's first queue is dealt from shuffled rounds of the queues (so each gets
    # members), its others are drawn; ring-all queues are hunt groups of a few agents.
    weights = [0.1 if q.strategy == "ring_all" else 1.0 for q in queues]
    firsts = [q for q in queues if q.strategy != "ring_all"] or queues
    deck: list[DefineQueue] = []
    for i in range(n_agents):
        k = min(rng.choice((2, 3, 3, 4)), n_queues)
        if not deck:
            deck = rng.sample(firsts, len(firsts))
        mine = [deck.pop()]
        while len(mine) < k:
            q = rng.choices(queues, weights)[0]
            if q not in mine:
                mine.append(q)
        memberships = tuple(
            Membership(q.queue_id, 0 if j == 0 else rng.choice((0, 0, 1, 2)), rng.randint(1, 5))
            for j, q in enumerate(mine)
        )
        levels: dict[str, int] = {}
        for q in mine:
            for s in q.required_skills:
                trained = rng.random() < 0.9  # else only after a relaxation step lowers the level
                level = min(5, s.level + rng.randint(0, 2)) if trained else max(1, s.level - 1)
                levels[s.skill] = max(levels.get(s.skill, 0), level)
        for extra in rng.sample(skills, min(len(skills), rng.randint(3, 6))):
            if len(levels) >= 6:
                break
            levels.setdefault(extra, rng.randint(1, 5))
        capacity = (
            (Capacity("voice", 1), Capacity("chat", 2)) if any(q.queue_id in chat for q in mine) else ()
        )
        aid = f"a{i:05d}"
        out.append(
            DefineAgent(
                aid,
                f"agent {i}",
                (),
                memberships,
                tuple(SkillLevel(s, v) for s, v in sorted(levels.items())),
                capacity,
            )
        )
    out += [LogInAgent(f"a{i:05d}") for i in range(n_agents)]
    return out


# --- the workload --------------------------------------------------------------------------


@dataclass(order=True)
class _Due:
    at: int
    seq: int
    kind: str = field(compare=False)
    args: tuple[str, ...] = field(compare=False, default=())


class Workload:
    """A deterministic contact center around the ACD: it proposes the next command from
    the current state and learns what happened from the events each command decided."""

    def __init__(self, seed: int, n_agents: int, n_queues: int, n_skills: int, waiting: int) -> None:
        self.rng = random.Random(f"{seed}/workload/{n_agents}")
        self.target = waiting
        self.now = START_MS
        self.n = 0
        self.seq = 0
        self.due: list[_Due] = []
        self.ready_due: set[str] = set()
        self.abandon_due: set[str] = set()
        self.contacts = 0
        self.agents = [f"a{i:05d}" for i in range(n_agents)]
        setup = config(random.Random(f"{seed}/config/{n_agents}"), n_agents, n_queues, n_skills)
        self.queue_defs = {q.queue_id: q for q in setup if isinstance(q, DefineQueue)}
        members = Counter(m.queue_id for a in setup if isinstance(a, DefineAgent) for m in a.memberships)
        self.queue_ids = list(self.queue_defs)
        self.queue_weights = [members[q] + 0.2 for q in self.queue_ids]
        self.chat = {qid for qid in self.queue_ids if _is_chat(qid)}
        # Every agent goes ready and the first contacts (one per agent) take them; once they
        # are answered, `waiting` more arrive back to back (FILL_AT_S) and arrivals go on
        # from there at the rate that keeps that many waiting.
        setup += [SetAgentReady(a) for a in self.rng.sample(self.agents, n_agents)]
        setup += [self._route() for _ in range(n_agents)]
        self.upfront = deque(setup)
        self.initial = True  # talk times drawn as the residual of a call in progress
        for j in range(waiting):
            self._at(FILL_AT_S * 1000 + j, "fill")
        self.filled_at = START_MS + FILL_AT_S * 1000 + waiting
        self._at(1000, "tick")
        self._at(self.filled_at - START_MS, "arrival")
        self._at(self._exp(3600 / (BREAKS_PER_AGENT_HOUR * max(n_agents, 1))), "break")

    # scheduling

    def _exp(self, mean_s: float) -> float:
        return self.rng.expovariate(1 / mean_s)

    def _at(self, after_ms: float, kind: str, *args: str) -> None:
        self.seq += 1
        heapq.heappush(self.due, _Due(self.now + int(after_ms), self.seq, kind, args))

    def _in(self, seconds: float, kind: str, *args: str) -> None:
        self._at(seconds * 1000, kind, *args)

    def _route(self) -> RouteContact:
        self.contacts += 1
        qid = self.rng.choices(self.queue_ids, self.queue_weights)[0]
        q = self.queue_defs[qid]
        skills: tuple[SkillLevel, ...] = ()
        if q.required_skills and self.rng.random() < P_CONTACT_SKILL:
            s = q.required_skills[0]
            skills = (SkillLevel(s.skill, min(5, s.level + 1)),)
        return RouteContact(
            f"c{self.contacts:07d}",
            qid,
            "chat" if qid in self.chat else "voice",
            1 if self.rng.random() < 0.1 else 0,
            f"+4930{self.rng.randrange(20 * len(self.agents) + 1000):08d}",
            f"+4980{qid[1:]}",
            skills,
        )

    # the next command

    def message(self, body: object, correlation: str) -> Message[Any]:
        self.n += 1
        return Message(Envelope(f"bench-{self.n:08d}", TENANT, self.now, correlation), body)

    def next(self, state: AcdState) -> Message[Any]:
        if self.upfront:
            body = self.upfront.popleft()
            return self.message(body, getattr(body, "contact_id", "") or getattr(body, "agent_id", "setup"))
        t = state.tenant(TENANT)
        while True:
            due = heapq.heappop(self.due)
            self.now = max(self.now, due.at)
            body = self._command(t, due)
            if body is not None:
                return self.message(body, due.args[0] if due.args else due.kind)

    def _command(self, t: TenantState, due: _Due) -> object | None:
        kind, args = due.kind, due.args
        if kind == "tick":
            self._in(1, "tick")
            return Tick()
        if kind == "fill":
            self.initial = False
            return self._route()
        if kind == "arrival":
            waiting = sum(len(w) for w in t.waiting.values())
            rate = len(self.agents) / CYCLE_S + waiting / PATIENCE_MEAN_S
            rate *= min(3.0, max(0.2, 1 + 2 * (self.target - waiting) / max(self.target, 1)))
            self._in(self.rng.expovariate(rate), "arrival")
            return self._route()
        if kind == "break":
            self._in(self._exp(3600 / (BREAKS_PER_AGENT_HOUR * len(self.agents))), "break")
            aid = self.rng.choice(self.agents)
            a = t.agents.get(aid)
            if a is None or a.presence != "available" or a.work:
                return None
            return SetAgentNotReady(aid, self.rng.choice(("break", "lunch", "training", "meeting")))
        if kind == "ready":
            (aid,) = args
            self.ready_due.discard(aid)
            a = t.agents.get(aid)
            return SetAgentReady(aid) if a is not None and a.presence == "not_ready" and not a.work else None
        cid = args[0]
        c = t.contacts.get(cid)
        if c is None:
            return None
        if kind == "abandon":
            self.abandon_due.discard(cid)
            return HangUpContact(cid, "caller") if c.phase == WAITING else None
        aid = args[1]
        if kind in ("accept", "decline"):
            if c.phase != OFFERED or aid not in c.offers:
                return None
            return AcceptOffer(cid, aid) if kind == "accept" else DeclineOffer(cid, aid)
        if c.agent_id != aid:
            return None
        if kind == "hold":
            return HoldContact(cid, aid) if c.phase == CONNECTED else None
        if kind == "resume":
            return ResumeContact(cid, aid) if c.phase == HELD else None
        if kind == "hangup":
            return (
                HangUpContact(cid, self.rng.choice(("caller", "caller", "agent")))
                if c.phase in (CONNECTED, HELD)
                else None
            )
        if kind == "wrapup":
            if c.phase != WRAP_UP:
                return None
            if self.rng.random() < P_BREAK_AFTER_WRAP:
                return CompleteWrapUp(cid, aid, "resolved", "", "not_ready", "break")
            return CompleteWrapUp(cid, aid, self.rng.choice(("resolved", "resolved", "follow_up", "sale")))
        raise AssertionError(kind)

    # what happened

    def observe(self, events: Sequence[object]) -> None:
        u = self.rng.uniform
        for e in events:
            match e:
                case ContactOffered(contact_id=cid, agent_id=aid):
                    r = self.rng.random()
                    if r < P_NO_ANSWER:
                        continue  # rings out: a Tick times it out
                    self._in(u(*RING_S), "decline" if r < P_NO_ANSWER + P_DECLINE else "accept", cid, aid)
                case ContactConnected(contact_id=cid, agent_id=aid):
                    channel = "chat" if e.queue_id in self.chat else "voice"
                    talk = TALK_MIN_S + self._exp(TALK_MEAN_S[channel])
                    if self.initial:  # in progress at the start: what is left of a call
                        talk = self.rng.random() * (
                            TALK_MIN_S + self.rng.gammavariate(2, TALK_MEAN_S[channel])
                        )
                    if self.rng.random() < P_HOLD:
                        self._in(talk * 0.3, "hold", cid, aid)
                        self._in(talk * 0.3 + u(10, 60), "resume", cid, aid)
                        talk += 60
                    self._in(talk, "hangup", cid, aid)
                case WrapUpStarted(contact_id=cid, agent_id=aid):
                    self._in(u(*WRAP_S), "wrapup", cid, aid)
                case ContactQueued(contact_id=cid) if cid not in self.abandon_due:
                    self.abandon_due.add(cid)
                    self._in(5 + self._exp(PATIENCE_MEAN_S), "abandon", cid)
                case AgentStateChanged(agent_id=aid, state="not_ready", reason=reason) if (
                    reason != "login" and aid not in self.ready_due
                ):
                    self.ready_due.add(aid)
                    self._in(u(*(BACK_AFTER_RONA_S if reason == "rona" else BREAK_S)), "ready", aid)


# --- driving the decider -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refused:
    """A command's outcome when it decided no events: rejected, invalid, or an error."""

    kind: str
    code: str
    reason: str


Outcome = tuple[object, ...] | Refused


def decide(acd: ACD, state: AcdState, msg: Message[Any]) -> tuple[AcdState, Outcome, int, str]:
    """Decide one command and fold its events: (state, outcome, ns spent, traceback if it failed)."""
    t0 = time.perf_counter_ns()
    try:
        events = acd.decide(state, msg)
        new = state
        for i, body in enumerate(events):
            new = acd.evolve(new, derive(msg, body, i))
    except Rejected as e:
        return state, Refused("rejected", e.code, e.reason), time.perf_counter_ns() - t0, ""
    except Invalid as e:
        return state, Refused("invalid", "", e.reason), time.perf_counter_ns() - t0, ""
    except Exception as e:  # an ACD bug: report it, keep the state, go on
        spent = time.perf_counter_ns() - t0
        return state, Refused("error", type(e).__name__, str(e)), spent, traceback.format_exc()
    return new, tuple(events), time.perf_counter_ns() - t0, ""


def offers(outcome: Outcome) -> int:
    """Routing decisions: contacts offered (a ring-all offer to many agents is one decision)."""
    if isinstance(outcome, Refused):
        return 0
    return len({e.contact_id for e in outcome if isinstance(e, ContactOffered)})


@dataclass
class Timings:
    """Per command of a run: latency (ns), decisions and type."""

    label: str
    ns: list[int] = field(default_factory=list)
    decisions: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def add(self, msg: Message[Any], outcome: Outcome, ns: int) -> None:
        self.ns.append(ns)
        self.decisions.append(offers(outcome))
        self.types.append(msg.type)

    def head(self, k: int, label: str) -> Timings:
        return Timings(label, self.ns[:k], self.decisions[:k], self.types[:k])


@dataclass
class Problems:
    """Outcomes that are not plain decisions: rejections (expected to be rare) and errors."""

    rejected: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, Message[Any], str]] = field(default_factory=list)

    def note(self, i: int, msg: Message[Any], outcome: Outcome, tb: str) -> None:
        if isinstance(outcome, Refused):
            if outcome.kind == "error":
                self.errors.append((i, msg, tb))
            else:
                self.rejected[f"{msg.type}: {outcome.kind} {outcome.code}".strip()] += 1


def census(state: AcdState) -> str:
    t = state.tenant(TENANT)
    waiting = sum(len(w) for w in t.waiting.values())
    busy = idle = away = 0
    for a in t.agents.values():
        if a.work:
            busy += 1
        elif a.presence == "available":
            idle += 1
        elif a.presence == "not_ready":
            away += 1
    return f"{waiting:,} waiting · agents {busy:,} busy, {idle:,} available, {away:,} not ready"


@dataclass
class Size:
    """Everything measured at one size."""

    agents: int
    commands: int
    setup_s: float
    setup_commands: int
    sim_s: float
    before: str
    after: str
    indexed: Timings
    scan: Timings
    compared: int
    differences: int
    first_difference: str
    problems: Problems
    scan_problems: Problems
    setup_problems: Problems


def run_size(a: argparse.Namespace, n_agents: int, n_commands: int, progress: Progress) -> Size:
    wl = Workload(a.seed, n_agents, a.queues, a.skills, a.waiting)
    indexed, scan = ACD(), ACD(scan=True)
    state = indexed.initial_state()
    gc.collect()

    # setup and warm-up: the indexed ACD only, not measured
    t0 = time.perf_counter()
    # the stream starts just after a Tick, so a short scan prefix is not one slow Tick
    warm_end = wl.filled_at + int(a.warmup_s * 1000)
    warm_end += 1001 - (warm_end - START_MS) % 1000
    setup_problems = Problems()
    n_setup = 0
    while True:
        msg = wl.next(state)
        if msg.envelope.occurred_at >= warm_end:
            break
        state, outcome, _, tb = decide(indexed, state, msg)
        setup_problems.note(n_setup, msg, outcome, tb)
        n_setup += 1
        if not isinstance(outcome, Refused):
            wl.observe(outcome)
        progress(f"{n_agents:,} agents · setup and warm-up: {n_setup:,} commands")
    setup_s = time.perf_counter() - t0

    # the measured stream, decided by the indexed ACD as it is generated
    start, stream, outcomes = state, [msg], []
    problems = Problems()
    timed = Timings("indexed")
    gc.collect()
    for i in range(n_commands):
        if i:
            msg = wl.next(state)
            stream.append(msg)
        state, outcome, ns, tb = decide(indexed, state, msg)
        timed.add(msg, outcome, ns)
        outcomes.append(outcome)
        problems.note(i, msg, outcome, tb)
        if not isinstance(outcome, Refused):
            wl.observe(outcome)
        progress(f"{n_agents:,} agents · indexed: {i + 1:,}/{n_commands:,} commands")
    sim_s = (stream[-1].envelope.occurred_at - stream[0].envelope.occurred_at) / 1000
    after = census(state)
    del state

    # the same stream from the same state, decided by the scan baseline
    scan_timed = Timings("scan")
    scan_problems = Problems()
    differences, first = 0, ""
    state = start
    budget_ns = int(a.scan_seconds * 1e9)
    cap = a.scan_commands or n_commands
    spent = 0
    gc.collect()
    for i, msg in enumerate(stream[:cap]):
        if spent >= budget_ns:
            break
        state, outcome, ns, tb = decide(scan, state, msg)
        spent += ns
        scan_timed.add(msg, outcome, ns)
        scan_problems.note(i, msg, outcome, tb)
        if outcome != outcomes[i]:
            differences += 1
            if not first:
                first = describe_difference(i, msg, outcomes[i], outcome)
        progress(f"{n_agents:,} agents · scan: {i + 1:,} commands, {spent / 1e9:.0f}/{a.scan_seconds:g} s")
    return Size(
        n_agents,
        n_commands,
        setup_s,
        n_setup,
        sim_s,
        census(start),
        after,
        timed,
        scan_timed,
        len(scan_timed.ns),
        differences,
        first,
        problems,
        scan_problems,
        setup_problems,
    )


def describe_difference(i: int, msg: Message[Any], indexed: Outcome, scan: Outcome) -> str:
    def lines(outcome: Outcome) -> list[str]:
        return [repr(outcome)] if isinstance(outcome, Refused) else [repr(e) for e in outcome]

    return "\n".join(
        [
            f"first difference at measured command #{i} ({msg.envelope.event_id}, "
            f"at {msg.envelope.occurred_at} ms): {msg.body!r}",
            "  indexed decided:",
            *(f"    {line}" for line in lines(indexed)),
            "  scan decided:",
            *(f"    {line}" for line in lines(scan)),
        ]
    )


# --- numbers -------------------------------------------------------------------------------


def pct(values: Sequence[int], q: float) -> float:
    """Nearest-rank percentile of ns values, in µs."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-int(q * len(s) * 1000) // 1000) - 1))] / 1000


@dataclass(frozen=True)
class Stats:
    commands: int
    decisions: int
    seconds: float
    p50: float
    p99: float

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.seconds if self.seconds else float("nan")

    @property
    def decisions_per_s(self) -> float:
        return self.decisions / self.seconds if self.seconds else float("nan")


def stats(t: Timings) -> Stats:
    return Stats(len(t.ns), sum(t.decisions), sum(t.ns) / 1e9, pct(t.ns, 0.50), pct(t.ns, 0.99))


def us(value: float) -> str:
    """µs, with a decimal below 100 µs."""
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def row(label: str, s: Stats) -> str:
    return (
        f"{label:<24}{s.commands:>10,}{s.decisions:>11,}{s.commands_per_s:>13,.0f}"
        f"{s.decisions_per_s:>13,.0f}{us(s.p50):>12}{us(s.p99):>12}"
    )


def latencies(t: Timings, name: str) -> list[int]:
    return [v for v, kind in zip(t.ns, t.types, strict=True) if kind == name]


def ratio(x: float, y: float) -> str:
    return f"x{x / y:,.1f}" if y and x == x and y == y else "n/a"


def by_type(runs: Sequence[Timings]) -> list[str]:
    order = ("RouteContact", "CompleteWrapUp", "AcceptOffer", "HangUpContact", "Tick")
    seen = Counter(t for r in runs for t in r.types)
    names = [n for n in order if n in seen] + sorted(n for n in seen if n not in order)
    head = f"{'latency by command, µs':<24}" + "".join(f"{r.label:>31}" for r in runs)
    out = [head, f"{'':<24}" + f"{'n':>9}{'p50':>11}{'p99':>11}" * len(runs)]
    for name in names:
        cells = ""
        for r in runs:
            ns = latencies(r, name)
            cells += f"{len(ns):>9,}{us(pct(ns, 0.5)):>11}{us(pct(ns, 0.99)):>11}" if ns else f"{'-':>31}"
        out.append(f"{name:<24}{cells}")
    return out


def report(s: Size, a: argparse.Namespace) -> list[str]:
    k = s.compared
    prefix = s.indexed.head(k, f"indexed, first {k:,}")
    label = f"scan, first {k:,}" if k < s.commands else "scan"
    scan = Timings(label, s.scan.ns, s.scan.decisions, s.scan.types)
    si, sp, ss = stats(s.indexed), stats(prefix), stats(scan)
    out = [
        "",
        f"== {s.agents:,} agents · {a.queues} queues · {a.skills} skills · {a.waiting:,} waiting contacts ==",
        f"setup, fill and {a.warmup_s:g} s warm-up (not measured): {s.setup_commands:,} commands, "
        f"{s.setup_s:.1f} s",
        f"measured stream: {s.commands:,} commands over {s.sim_s:,.0f} simulated s",
        f"  at its start:  {s.before}",
        f"  at its end:    {s.after}",
        f"{'run':<24}{'commands':>10}{'decisions':>11}{'commands/s':>13}{'decisions/s':>13}"
        f"{'p50 µs':>12}{'p99 µs':>12}",
        row("indexed", si),
    ]
    if k < s.commands:
        out.append(row(prefix.label, sp))
    out.append(row(scan.label, ss))
    out.append(
        f"speedup indexed/scan on the same {k:,} commands: {ratio(sp.commands_per_s, ss.commands_per_s)} "
        f"commands/s · p50 {ratio(ss.p50, sp.p50)} · p99 {ratio(ss.p99, sp.p99)}"
    )
    out += by_type([s.indexed, prefix, scan] if k < s.commands else [s.indexed, scan])
    for label, p in (("setup", s.setup_problems), ("indexed", s.problems), ("scan", s.scan_problems)):
        for what, n in sorted(p.rejected.items()):
            out.append(f"{label}: {n:,} times {what}")
        for i, msg, tb in p.errors[:1]:
            out.append(f"{label}: ACD ERROR on command #{i} {msg.body!r} ({len(p.errors)} in all):")
            out += ["    " + line for line in tb.rstrip().splitlines()[-6:]]
    if s.differences:
        out.append(f"decisions identical: NO ({s.differences:,} of {k:,} commands differ)")
        out.append(s.first_difference)
    else:
        out.append(f"decisions identical: yes ({k:,} commands compared, {ss.decisions:,} decisions)")
    return out


def summary(sizes: Sequence[Size]) -> list[str]:
    out = [
        "",
        "== growth with size: indexed on its whole stream, scan on its first K commands,",
        "   speedup on the same K commands ==",
        f"{'agents':>8}{'indexed cmd/s':>15}{'dec/s':>8}{'p50 µs':>9}{'p99 µs':>10}"
        f"{'scan cmd/s':>12}{'dec/s':>7}{'p50 µs':>10}{'p99 µs':>11}{'K':>8}{'speedup':>9}",
    ]
    for s in sizes:
        si, ss = stats(s.indexed), stats(s.scan)
        sp = stats(s.indexed.head(s.compared, ""))
        out.append(
            f"{s.agents:>8,}{si.commands_per_s:>15,.0f}{si.decisions_per_s:>8,.0f}{us(si.p50):>9}"
            f"{us(si.p99):>10}{ss.commands_per_s:>12,.0f}{ss.decisions_per_s:>7,.0f}{us(ss.p50):>10}"
            f"{us(ss.p99):>11}{s.compared:>8,}{ratio(sp.commands_per_s, ss.commands_per_s):>9}"
        )
    out += [
        "",
        "== growth with size by command: latency p50 / p99 in µs (a Tick re-dispatches every queue) ==",
        f"{'agents':>8}  {'command':<16}{'indexed':>30}{'scan':>30}",
    ]
    for s in sizes:
        for name in ("RouteContact", "CompleteWrapUp", "Tick"):
            cells = ""
            for t in (s.indexed, s.scan):
                ns = latencies(t, name)
                cell = f"{us(pct(ns, 0.5))} / {us(pct(ns, 0.99))} (n={len(ns):,})" if ns else "-"
                cells += f"{cell:>30}"
            out.append(f"{s.agents:>8,}  {name:<16}{cells}")
    return out


def per_size(text: str, sizes: int) -> list[int]:
    values = [int(v.replace("_", "")) for v in text.split(",")]
    if len(values) == 1:
        return values * sizes
    if len(values) != sizes:
        raise SystemExit(f"give one value or one per size ({sizes}), not {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", default="100,1000,10000", help="sizes, comma separated")
    ap.add_argument("--queues", type=int, default=200)
    ap.add_argument("--skills", type=int, default=50)
    ap.add_argument("--waiting", type=int, default=2000, help="contacts kept waiting")
    ap.add_argument(
        "--commands", default="20000,20000,3000", help="measured commands: one value, or one per size"
    )
    ap.add_argument("--warmup-s", type=float, default=10, help="simulated seconds after setup, not measured")
    ap.add_argument("--scan-seconds", type=float, default=20, help="decide time the scan gets per size")
    ap.add_argument("--scan-commands", type=int, default=0, help="cap on the scan's commands (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = ap.parse_args(argv)
    agents = per_size(a.agents, len(a.agents.split(",")))
    commands = per_size(a.commands, len(agents))
    progress = Progress("acd", a.quiet)

    print(
        f"ACD routing benchmark · {platform.platform()} · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
        f" · load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"agents {', '.join(f'{n:,}' for n in agents)} · {a.queues} queues · {a.skills} skills · "
        f"{a.waiting:,} waiting · {', '.join(f'{n:,}' for n in commands)} commands · scan budget "
        f"{a.scan_seconds:g} s"
        + (f" or {a.scan_commands:,} commands" if a.scan_commands else "")
        + f" · seed {a.seed}"
    )
    sizes = []
    for n, c in zip(agents, commands, strict=True):
        t0 = time.perf_counter()
        size = run_size(a, n, c, progress)
        sizes.append(size)
        print("\n".join(report(size, a)), flush=True)
        progress(f"{n:,} agents done in {time.perf_counter() - t0:.0f} s", force=True)
    print("\n".join(summary(sizes)))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    different = [s for s in sizes if s.differences]
    errors = any(s.setup_problems.errors or s.problems.errors or s.scan_problems.errors for s in sizes)
    if different:
        print(f"decisions identical: NO (at {', '.join(f'{s.agents:,}' for s in different)} agents)")
    else:
        print(f"decisions identical: yes ({sum(s.compared for s in sizes):,} commands compared)")
    if errors:
        print("ACD errors: see above")
    return 1 if different or errors else 0


if __name__ == "__main__":
    sys.exit(main())
