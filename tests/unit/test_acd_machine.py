"""The full ACD rule set under random commands and ticks (hypothesis state machine).

Five queues (ring_all, random, and three drawn from every strategy) with required skill
levels, tiers, relaxation steps, priorities with aging, business hours, a shift schedule,
`max_waiting`, overflow rules (full, wait, closed, no_agents; to queues, voicemail,
messages and callback offers), sticky routing and blocked numbers; six agents with tiered
memberships, skill levels and voice or chat capacity. Commands are routing, presence, the
agents' natural next steps (accept, decline, hold, hang up, wrap up, extend), callers
leaving, calling again (sticky) or asking for a callback, ticks, redefinitions of agents and
queues, and noise that must be rejected.

An independent oracle (`World`, written here: it calls nothing of `processors.dispatch`)
follows the decided events and checks:

- every offer when it is made: to a logged-in, available member of the queue with room for
  the channel, in the allowed tiers (relaxation in force) and the lowest such tier, with
  the required skill levels (lowered by the relaxation), not excluded, the known agent
  only while a sticky contact waits for it; ring-all rings every such agent, the other
  deterministic strategies choose the agent their rule names;
- service order: when a contact is offered, no contact before it in the same queue
  (higher effective priority, or the same and an earlier place) that an agent could take
  still waits;
- after every command, no agent holds more than its capacity (voice blocks everything);
  the ACD's own view of agents' work and presence matches the oracle's;
- after every `Tick`, dispatch is work-conserving: no waiting contact has an eligible
  available agent; in runs where time passes only on ticks (as in production), after every
  command;
- `ACD(scan=True)` decides every command exactly as `ACD()`; replaying the commands into a
  fresh ACD gives the same decisions, and folding the events gives the same state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from processors.acd import ACD
from processors.acd_state import AcdState
from processors.decider import Invalid, Rejected
from schemas.agent import AgentStateChanged
from schemas.commands import (
    AcceptOffer,
    BlockNumber,
    CompleteWrapUp,
    DeclineOffer,
    DefineAgent,
    DefineQueue,
    DefineSchedule,
    DefineSkill,
    ExtendWrapUp,
    HangUpContact,
    HoldContact,
    LogInAgent,
    LogOutAgent,
    RequestCallback,
    ResumeContact,
    RouteContact,
    SetAgentNotReady,
    SetAgentReady,
    Tick,
    UnblockNumber,
)
from schemas.config import AgentDefined, QueueDefined, ScheduleDefined
from schemas.contact import (
    ContactArrived,
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactQueued,
    ContactResumed,
    OfferDeclined,
    OfferTimedOut,
    OfferWithdrawn,
    WrapUpCompleted,
)
from schemas.envelope import Envelope, Message, derive
from schemas.routing import Capacity, Membership, OverflowRule, RelaxStep, SkillLevel, Window

QUEUES = ("qa", "qb", "qc", "qd", "qe")
AGENTS = ("a1", "a2", "a3", "a4", "a5", "a6")
SKILLS = ("es", "fr", "de")
ANIS = ("", "+1", "+2", "+3", "+666")
ALL_STRATEGIES = (
    "longest_idle",
    "fewest_answered",
    "round_robin",
    "linear",
    "random",
    "weighted_random",
    "ring_all",
    "best_skill",
)
VOICE_LIKE = ("voice", "callback")
# Monday 2024-01-01 08:59:30 UTC: the business hours open at 09:00 UTC, the shift at 09:01.
T0 = int(datetime(2024, 1, 1, 8, 59, 30, tzinfo=UTC).timestamp() * 1000)


# --- the oracle -----------------------------------------------------------------------


@dataclass
class AgentView:
    memberships: dict[str, Membership] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=lambda: {"voice": 1})
    presence: str = "logged_out"
    since: int = 0
    work: dict[str, str] = field(default_factory=dict)  # contact -> channel


@dataclass
class ContactView:
    contact_id: str
    channel: str
    ani: str
    queue: str = ""
    priority: int = 0
    skills: tuple[SkillLevel, ...] = ()
    seq: int = 0
    queued_at: int = 0
    entered_at: int = 0
    phase: str = "arrived"
    agent: str = ""
    offers: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    sticky: str = ""


def schedule_open(s: ScheduleDefined, now: int) -> bool:
    local = datetime.fromtimestamp(now / 1000, tz=ZoneInfo(s.timezone))
    if local.date().isoformat() in s.holidays:
        return False
    minute = local.hour * 60 + local.minute
    return any(w.day == local.weekday() and w.start_min <= minute < w.end_min for w in s.windows)


class World:
    """The routing world as the decided events describe it, and what the rules allow in it."""

    def __init__(self) -> None:
        self.queues: dict[str, QueueDefined] = {}
        self.schedules: dict[str, ScheduleDefined] = {}
        self.agents: dict[str, AgentView] = {}
        self.members: dict[str, list[str]] = {}
        self.contacts: dict[str, ContactView] = {}
        self.last_agent: dict[str, str] = {}
        self.answered: Counter[tuple[str, str]] = Counter()
        self.rr_last: dict[str, str] = {}
        self.seq = 0
        self.ring_all: dict[str, tuple[list[str], set[str]]] = {}  # this command's ring-all batches

    # -- the rules, as the documentation states them --

    def room(self, a: AgentView, channel: str) -> bool:
        held = list(a.work.values())
        if any(ch in VOICE_LIKE for ch in held):
            return False
        if channel in VOICE_LIKE:
            return a.capacity.get("voice", 0) >= 1 and not held
        return held.count(channel) < a.capacity.get(channel, 0)

    def relaxed(self, c: ContactView, now: int) -> tuple[int, dict[str, int]]:
        """(allowed max tier or -1, needed skill levels) for `c` now."""
        q = self.queues[c.queue]
        max_tier, drop = q.max_tier, 0
        for step in sorted(q.relax, key=lambda s: s.after_s):
            if now - c.entered_at >= step.after_s * 1000:
                max_tier, drop = step.max_tier, step.skill_drop
        need: dict[str, int] = {}
        for s in (*q.required_skills, *c.skills):
            need[s.skill] = max(need.get(s.skill, 0), s.level)
        return max_tier, {k: max(1, v - drop) for k, v in need.items()}

    def known_agent(self, c: ContactView, now: int) -> str:
        q = self.queues[c.queue]
        a = self.agents.get(c.sticky)
        if (
            q.sticky_s > 0
            and a is not None
            and now - c.entered_at < q.sticky_s * 1000
            and a.presence != "logged_out"
            and c.queue in a.memberships
            and c.sticky not in c.excluded
        ):
            return c.sticky
        return ""

    def eligible(self, c: ContactView, now: int) -> list[str]:
        """The agents that may be offered `c` now: of the lowest tier among those qualified."""
        max_tier, need = self.relaxed(c, now)
        known = self.known_agent(c, now)
        found: list[tuple[int, str]] = []
        for aid, a in sorted(self.agents.items()):
            m = a.memberships.get(c.queue)
            if (
                m is None
                or a.presence != "available"
                or aid in c.excluded
                or aid in c.offers
                or (known and aid != known)
                or (max_tier >= 0 and m.tier > max_tier)
                or (m.schedule and not schedule_open(self.schedules[m.schedule], now))
                or not self.room(a, c.channel)
                or any(a.skills.get(s, 0) < level for s, level in need.items())
            ):
                continue
            found.append((m.tier, aid))
        low = min((tier for tier, _ in found), default=0)
        return [aid for tier, aid in found if tier == low]

    def effective_priority(self, c: ContactView, now: int) -> int:
        q = self.queues[c.queue]
        aged = (now - c.queued_at) // (q.priority_aging_s * 1000) if q.priority_aging_s else 0
        return c.priority + q.priority + aged

    def chosen_by_rule(self, q: QueueDefined, c: ContactView, cands: list[str], now: int) -> str | None:
        """The agent a deterministic strategy must choose (None for random draws)."""
        a = self.agents
        order = self.members.get(q.queue_id, [])
        if q.strategy == "longest_idle":
            return min(cands, key=lambda x: (a[x].since, x))
        if q.strategy == "fewest_answered":
            return min(cands, key=lambda x: (self.answered[x, q.queue_id], a[x].since, x))
        if q.strategy == "linear":
            return min(cands, key=lambda x: (order.index(x), x))
        if q.strategy == "round_robin":
            last = self.rr_last.get(q.queue_id, "")
            start = order.index(last) + 1 if last in order else 0
            return min(cands, key=lambda x: ((order.index(x) - start) % len(order), x))
        if q.strategy == "best_skill":
            _, need = self.relaxed(c, now)
            return min(cands, key=lambda x: (-sum(a[x].skills.get(s, 0) for s in need), a[x].since, x))
        return None

    # -- checks when an offer is made --

    def check_offer(self, e: ContactOffered, now: int) -> None:
        c = self.contacts[e.contact_id]
        q = self.queues[c.queue]
        assert e.queue_id == c.queue and e.strategy == q.strategy, e
        assert e.expires_at == now + q.ring_timeout_s * 1000, e
        if c.phase == "offered":  # a further ring-all offer of the same decision
            assert e.contact_id in self.ring_all, f"{e.contact_id} offered twice"
            allowed, rung = self.ring_all[e.contact_id]
            assert e.agent_id in allowed and e.agent_id not in rung, (e, allowed, rung)
            rung.add(e.agent_id)
            return
        assert c.phase == "waiting", f"offer of {c.contact_id} while {c.phase}"
        cands = self.eligible(c, now)
        assert e.agent_id in cands, f"{e.agent_id} is not eligible for {c} (eligible: {cands})"
        mine = (-self.effective_priority(c, now), c.seq)
        for other in self.contacts.values():
            if other.phase != "waiting" or other.queue != c.queue or other is c:
                continue
            if (-self.effective_priority(other, now), other.seq) < mine:
                assert not self.eligible(other, now), (
                    f"{c.contact_id} offered to {e.agent_id} while earlier {other.contact_id} "
                    f"could be served by {self.eligible(other, now)}"
                )
        if q.strategy == "ring_all":
            self.ring_all[e.contact_id] = (cands, {e.agent_id})
            return
        best = self.chosen_by_rule(q, c, cands, now)
        assert best is None or best == e.agent_id, f"{q.strategy} should choose {best}, not {e.agent_id}"

    def end_of_command(self) -> None:
        for cid, (allowed, rung) in self.ring_all.items():
            assert rung == set(allowed), f"ring all of {cid} rang {rung}, not every one of {allowed}"
        self.ring_all = {}

    # -- following the events --

    def see(self, e: object, now: int) -> None:
        match e:
            case QueueDefined(queue_id=qid):
                self.queues[qid] = e
            case ScheduleDefined(schedule_id=sid):
                self.schedules[sid] = e
            case AgentDefined(agent_id=aid):
                a = self.agents.setdefault(aid, AgentView())
                old = list(a.memberships)
                a.memberships = {m.queue_id: m for m in e.memberships}
                for qid in e.queues:
                    a.memberships.setdefault(qid, Membership(qid))
                a.skills = {s.skill: s.level for s in e.skills}
                a.capacity = {c.channel: c.max for c in e.capacity} or {"voice": 1}
                for qid in old:
                    if qid not in a.memberships:
                        self.members[qid].remove(aid)
                for qid in a.memberships:
                    if aid not in self.members.setdefault(qid, []):
                        self.members[qid].append(aid)
            case AgentStateChanged(agent_id=aid):
                a = self.agents[aid]
                a.presence = e.presence or (e.state if e.state in ("available", "not_ready") else a.presence)
                a.since = now
            case ContactArrived(contact_id=cid, channel=channel, ani=ani):
                self.contacts[cid] = ContactView(cid, channel, ani)
            case ContactQueued(contact_id=cid):
                c = self.contacts[cid]
                if not e.place:
                    self.seq += 1
                c.queue, c.priority, c.skills = e.queue_id, e.priority, tuple(e.skills)
                c.seq = e.place or self.seq
                c.queued_at = e.waiting_since or now
                c.entered_at = now
                c.phase, c.offers, c.excluded = "waiting", set(), set()
                c.sticky = self.last_agent.get(c.ani, "") if c.ani else ""
            case ContactOffered(contact_id=cid, agent_id=aid):
                self.check_offer(e, now)
                c = self.contacts[cid]
                c.phase = "offered"
                c.offers.add(aid)
                self.agents[aid].work[cid] = c.channel
                self.rr_last[e.queue_id] = aid
            case OfferDeclined(contact_id=cid, agent_id=aid) | OfferTimedOut(contact_id=cid, agent_id=aid):
                self._offer_over(cid, aid, exclude=True)
            case OfferWithdrawn(contact_id=cid, agent_id=aid):
                self._offer_over(cid, aid, exclude=False)
            case ContactConnected(contact_id=cid, queue_id=qid, agent_id=aid):
                c = self.contacts[cid]
                assert c.phase == "offered" and aid in c.offers, (e, c)
                c.phase, c.agent = "connected", aid
                c.offers.discard(aid)
                self.answered[aid, qid] += 1
                if c.ani:
                    self.last_agent[c.ani] = aid
            case ContactHeld(contact_id=cid):
                self.contacts[cid].phase = "held"
            case ContactResumed(contact_id=cid):
                self.contacts[cid].phase = "connected"
            case ContactEnded(contact_id=cid, agent_id=aid):
                c = self.contacts[cid]
                if aid:
                    c.phase = "wrap_up"
                    return
                for ringing in c.offers:
                    del self.agents[ringing].work[cid]
                del self.contacts[cid]
            case WrapUpCompleted(contact_id=cid, agent_id=aid):
                del self.agents[aid].work[cid]
                del self.contacts[cid]

    def _offer_over(self, cid: str, aid: str, exclude: bool) -> None:
        c = self.contacts[cid]
        del self.agents[aid].work[cid]
        c.offers.discard(aid)
        if exclude:
            c.excluded.add(aid)
        if c.phase == "offered" and not c.offers:
            c.phase = "waiting"

    # -- invariants of a state --

    def check_capacity(self) -> None:
        for aid, a in self.agents.items():
            held = Counter(a.work.values())
            voice = sum(n for ch, n in held.items() if ch in VOICE_LIKE)
            if voice:
                assert voice == 1 and len(a.work) == 1, f"{aid} holds {a.work}: voice blocks the rest"
            for ch, n in held.items():
                limit = a.capacity.get("voice" if ch in VOICE_LIKE else ch, 0)
                assert n <= limit, f"{aid} holds {n} {ch} contacts, capacity {limit}"
            if a.work:
                assert a.presence != "logged_out", f"{aid} is logged out holding {a.work}"

    def check_work_conserving(self, now: int) -> None:
        for c in self.contacts.values():
            if c.phase == "waiting":
                assert not self.eligible(c, now), (
                    f"{c.contact_id} waits while {self.eligible(c, now)} could take it"
                )


# --- the machine ------------------------------------------------------------------------

MEMBERSHIP = st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from(("", "", "shift")))
AGENT_SPEC = st.fixed_dictionaries(
    {
        "memberships": st.dictionaries(st.sampled_from(QUEUES), MEMBERSHIP, min_size=1, max_size=4),
        "skills": st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3),
        "voice": st.sampled_from((1, 1, 0)),
        "chat": st.sampled_from((0, 0, 2, 3)),
    }
)


def define_agent(aid: str, spec: dict[str, Any]) -> DefineAgent:
    memberships = tuple(
        Membership(q, tier, weight, schedule)
        for q, (tier, weight, schedule) in sorted(spec["memberships"].items())
    )
    capacity = tuple(
        Capacity(ch, n) for ch, n in (("voice", spec["voice"]), ("chat", spec["chat"])) if n
    ) or (Capacity("voice", 1),)
    skills = tuple(SkillLevel(s, level) for s, level in sorted(spec["skills"].items()))
    return DefineAgent(aid, aid.upper(), (), memberships, skills, capacity)


def outcome(acd: ACD, state: AcdState, msg: Message[Any]) -> tuple[AcdState, list[object] | str]:
    try:
        bodies = list(acd.decide(state, msg))
    except (Rejected, Invalid) as e:
        return state, repr(e)
    for i, body in enumerate(bodies):
        state = acd.evolve(state, derive(msg, body, i))
    return state, bodies


class AcdRulesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd, self.scan = ACD(), ACD(scan=True)
        self.state = self.acd.initial_state()
        self.scan_state = self.scan.initial_state()
        self.now = T0
        self.log: list[Message[Any]] = []
        self.outcomes: list[list[object] | str] = []
        self.events: list[Message[Any]] = []
        self.world = World()
        self.specs: dict[str, dict[str, Any]] = {}
        self.routed = 0
        self.tick_driven = False

    def run(self, body: object, dt: int = 0) -> list[object] | str:
        if self.tick_driven and not isinstance(body, Tick):
            dt = 0  # time passes only on ticks, as in production (one tick a second)
        self.now += dt
        msg = Message(Envelope(f"cmd-{len(self.log)}", "t1", self.now, "corr"), body)
        self.log.append(msg)
        before = self.state
        self.state, result = outcome(self.acd, self.state, msg)
        self.scan_state, scanned = outcome(self.scan, self.scan_state, msg)
        assert scanned == result, f"ACD(scan=True) decided {scanned}, the index {result}"
        self.outcomes.append(result)
        if isinstance(result, list):
            self.events += [derive(msg, b, i) for i, b in enumerate(result)]
            for b in result:
                self.world.see(b, self.now)
            self.world.end_of_command()
        else:
            assert self.state is before
        self.world.check_capacity()
        if isinstance(body, Tick) or self.tick_driven:
            # With time frozen since the last tick (which dispatched every queue), every
            # command must leave no contact waiting that an agent could take.
            self.world.check_work_conserving(self.now)
        return result

    def must(self, body: object, dt: int = 0) -> None:
        result = self.run(body, dt)
        assert isinstance(result, list), f"{body} was refused: {result}"

    # -- setup --

    @initialize(
        strategies=st.tuples(*(st.sampled_from(ALL_STRATEGIES) for _ in range(3))),
        flags=st.tuples(*(st.booleans() for _ in range(4))),
        agents=st.tuples(*(AGENT_SPEC for _ in AGENTS)),
        tick_driven=st.booleans(),
    )
    def setup(
        self,
        strategies: tuple[str, ...],
        flags: tuple[bool, ...],
        agents: tuple[dict[str, Any], ...],
        tick_driven: bool,
    ) -> None:
        self.tick_driven = tick_driven
        for s in SKILLS:
            self.must(DefineSkill(s, s.upper()))
        self.must(DefineSchedule("hours", "Hours", "Europe/Berlin", (Window(0, 600, 1380),), ("2024-01-02",)))
        self.must(DefineSchedule("shift", "Shift", "UTC", (Window(0, 541, 546), Window(0, 550, 1440))))
        self.must(
            DefineQueue(
                "qa",
                "A",
                ring_timeout_s=8,
                wrap_up_s=10,
                strategy="ring_all",
                sticky_s=30,
                rona_not_ready=flags[0],
                auto_ready=flags[1],
            )
        )
        relax_b = (RelaxStep(15, max_tier=1, skill_drop=1), RelaxStep(30, max_tier=-1, skill_drop=2))
        self.must(
            DefineQueue(
                "qb",
                "B",
                ring_timeout_s=10,
                wrap_up_s=15,
                strategy="random",
                priority=1,
                required_skills=(SkillLevel("es", 3),),
                max_tier=0,
                relax=relax_b,
            )
        )
        self.must(
            DefineQueue(
                "qd",
                "D",
                ring_timeout_s=10,
                wrap_up_s=5,
                strategy=strategies[0],
                hours="hours",
                priority_aging_s=5,
                sticky_s=40,
                overflow=(OverflowRule("closed", "message", "closed-msg"),),
            )
        )
        overflow_c = (
            OverflowRule("full", "queue", "qd"),
            OverflowRule("wait", "callback", after_s=20),
            OverflowRule("wait", "voicemail", "vm-c", after_s=45),
            OverflowRule("no_agents", "queue", "qa"),
        )
        self.must(
            DefineQueue(
                "qc",
                "C",
                ring_timeout_s=12,
                wrap_up_s=20,
                strategy=strategies[1],
                priority_aging_s=10,
                max_waiting=3,
                overflow=overflow_c,
                rona_not_ready=flags[2],
            )
        )
        self.must(
            DefineQueue(
                "qe",
                "E",
                ring_timeout_s=10,
                wrap_up_s=8,
                strategy=strategies[2],
                sticky_s=30,
                required_skills=(SkillLevel("fr", 1),),
                max_tier=1,
                relax=(RelaxStep(25, max_tier=2),),
                auto_ready=flags[3],
                overflow=(OverflowRule("wait", "queue", "qc", after_s=30),),
            )
        )
        self.must(BlockNumber("+666", "fraud"))
        for aid, spec in zip(AGENTS, agents, strict=True):
            self.specs[aid] = spec
            self.must(define_agent(aid, spec))
            self.must(LogInAgent(aid))
            if aid != "a6":
                self.must(SetAgentReady(aid))

    # -- callers --

    @rule(
        q=st.sampled_from(QUEUES),
        chat=st.booleans(),
        priority=st.integers(0, 3),
        ani=st.sampled_from(ANIS),
        skill=st.sampled_from(
            ((), (), (SkillLevel("fr", 2),), (SkillLevel("es", 1),), (SkillLevel("de", 4),))
        ),
        dt=st.integers(0, 3_000),
    )
    def route(
        self, q: str, chat: bool, priority: int, ani: str, skill: tuple[SkillLevel, ...], dt: int
    ) -> None:
        self.routed += 1
        channel = "chat" if chat else "voice"
        self.run(RouteContact(f"c{self.routed}", q, channel, priority, ani, "100", skill), dt)

    @rule(
        q=st.sampled_from(QUEUES),
        channels=st.lists(st.booleans(), min_size=2, max_size=4),
        priority=st.integers(0, 2),
    )
    def route_burst(self, q: str, channels: list[bool], priority: int) -> None:
        """Several contacts at once (a queue builds up; FIFO and priority get tested)."""
        for chat in channels:
            self.route(q, chat, priority, "", (), 0)

    @precondition(lambda self: self.world.last_agent)
    @rule(i=st.integers(0, 99), chat=st.booleans(), dt=st.integers(0, 3_000))
    def caller_returns(self, i: int, chat: bool, dt: int) -> None:
        """A caller an agent served calls again, into a sticky queue that agent serves."""
        idle = [x for x, a in self.world.last_agent.items() if not self.world.agents[a].work]
        anis = sorted(idle or self.world.last_agent)
        ani = anis[i % len(anis)]
        served_by = self.world.agents[self.world.last_agent[ani]]
        sticky = [q for q in ("qa", "qd", "qe") if q in served_by.memberships] or ["qa"]
        self.route(sticky[i % len(sticky)], chat, 0, ani, (), dt)

    def contacts_in(self, *phases: str) -> list[str]:
        return sorted(cid for cid, c in self.world.contacts.items() if c.phase in phases)

    @precondition(lambda self: self.contacts_in("waiting", "offered", "connected", "held"))
    @rule(i=st.integers(0, 99), dt=st.integers(0, 10_000))
    def caller_hangs_up(self, i: int, dt: int) -> None:
        found = self.contacts_in("waiting", "offered", "connected", "held")
        self.run(HangUpContact(found[i % len(found)], "caller"), dt)

    @precondition(lambda self: self.contacts_in("waiting"))
    @rule(i=st.integers(0, 99), number=st.sampled_from(("", "+5")), dt=st.integers(0, 5_000))
    def request_callback(self, i: int, number: str, dt: int) -> None:
        found = self.contacts_in("waiting")
        self.run(RequestCallback(found[i % len(found)], number), dt)

    # -- agents --

    def busy_agents(self) -> list[str]:
        return sorted(aid for aid, a in self.world.agents.items() if a.work)

    @precondition(lambda self: self.busy_agents())
    @rule(i=st.integers(0, 99), choice=st.integers(0, 9), dt=st.integers(0, 4_000))
    def busy_agent_step(self, i: int, choice: int, dt: int) -> None:
        busy = self.busy_agents()
        self.agent_step(busy[i % len(busy)], choice, dt)

    @rule(a=st.sampled_from(AGENTS), choice=st.integers(0, 9), dt=st.integers(0, 4_000))
    def agent_step(self, a: str, choice: int, dt: int) -> None:
        """The agent's natural next step, so contacts flow through their whole life."""
        view = self.world.agents[a]
        if view.presence == "logged_out":
            self.run(LogInAgent(a), dt)
            return
        if not view.work:
            if view.presence == "not_ready":
                self.run(LogOutAgent(a) if choice == 9 else SetAgentReady(a), dt)
            else:
                self.run(SetAgentNotReady(a, "break") if choice == 0 else Tick(), dt)
            return
        cid = sorted(view.work)[choice % len(view.work)]
        c = self.world.contacts[cid]
        match c.phase:
            case "offered":
                self.run(AcceptOffer(cid, a) if choice < 7 else DeclineOffer(cid, a), dt)
            case "connected":
                self.run(HoldContact(cid, a) if choice >= 7 else HangUpContact(cid, "agent"), dt)
            case "held":
                self.run(ResumeContact(cid, a) if choice >= 3 else HangUpContact(cid, "agent"), dt)
            case "wrap_up":
                if choice == 1:
                    self.run(ExtendWrapUp(cid, a, 5), dt)
                else:
                    next_state = "not_ready" if choice == 0 else "ready"
                    self.run(CompleteWrapUp(cid, a, "done", "", next_state, "break"), dt)

    @rule(a=st.sampled_from(AGENTS), kind=st.sampled_from(("ready", "not_ready", "login", "logout")))
    def presence(self, a: str, kind: str) -> None:
        cmd = {
            "ready": SetAgentReady(a),
            "not_ready": SetAgentNotReady(a, "lunch"),
            "login": LogInAgent(a),
            "logout": LogOutAgent(a),
        }[kind]
        self.run(cmd)

    @rule(
        a=st.sampled_from(AGENTS),
        memberships=st.dictionaries(st.sampled_from(QUEUES), MEMBERSHIP, min_size=1),
    )
    def redefine_agent(self, a: str, memberships: dict[str, tuple[int, int, str]]) -> None:
        spec = dict(self.specs[a], memberships=memberships)  # same skills and capacity
        self.specs[a] = spec
        self.must(define_agent(a, spec))

    @rule(q=st.sampled_from(QUEUES), strategy=st.sampled_from(ALL_STRATEGIES), priority=st.integers(0, 2))
    def redefine_queue(self, q: str, strategy: str, priority: int) -> None:
        """A supervisor changes a queue's strategy and priority while contacts wait or ring."""
        current = self.world.queues[q]
        fields = {
            f: getattr(current, f) for f in DefineQueue.__dataclass_fields__ if f not in ("queue_id", "name")
        }
        self.must(DefineQueue(q, current.name, **dict(fields, strategy=strategy, priority=priority)))

    @rule(
        kind=st.sampled_from("ADHRWXCBU"),
        i=st.integers(0, 99),
        a=st.sampled_from((*AGENTS, "a9")),
        dt=st.integers(0, 2_000),
    )
    def noise(self, kind: str, i: int, a: str, dt: int) -> None:
        """Commands a real edge may send at the wrong moment: they must be refused cleanly."""
        cid = f"c{i % (self.routed + 1)}"
        cmd = {
            "A": AcceptOffer(cid, a),
            "D": DeclineOffer(cid, a),
            "H": HoldContact(cid, a),
            "R": ResumeContact(cid, a),
            "W": CompleteWrapUp(cid, a, "x"),
            "X": ExtendWrapUp(cid, a, 3),
            "C": RequestCallback(cid),
            "B": BlockNumber("+3", "test"),
            "U": UnblockNumber("+3"),
        }[kind]
        self.run(cmd, dt)

    # -- time --

    @rule(dt=st.integers(0, 20_000))
    def tick(self, dt: int) -> None:
        self.run(Tick(), dt)

    # -- invariants --

    @invariant()
    def acd_agrees_with_the_oracle(self) -> None:
        t = self.state.tenant("t1")
        for aid, view in self.world.agents.items():
            a = t.agents[aid]
            assert {w.contact_id: w.channel for w in a.work} == view.work, (aid, a.work, view.work)
            assert a.presence == view.presence, (aid, a.presence, view.presence)
        assert set(t.contacts) == set(self.world.contacts)

    def teardown(self) -> None:
        replayed = self.acd.initial_state()
        for event in self.events:
            replayed = self.acd.evolve(replayed, event)
        assert replayed == self.state, "folding the decided events must reproduce the state"
        fresh, state = ACD(), ACD().initial_state()
        for msg, expected in zip(self.log, self.outcomes, strict=True):
            state, got = outcome(fresh, state, msg)
            assert got == expected, f"replay of {msg.body} decided {got}, first {expected}"


TestAcdRulesMachine = AcdRulesMachine.TestCase
TestAcdRulesMachine.settings = settings(
    max_examples=250,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
