"""Dispatch: match waiting contacts to eligible agents, and explain every offer.

**Service order.** Waiting (un-offered) contacts are served by effective priority, higher
first (the contact's priority + its queue's priority + one per `priority_aging_s` waited),
then by place (arrival order, kept across overflow and callback): FIFO within a queue
and priority.

**Eligibility** of an agent for a contact in queue Q (`candidates`): present as available;
room for the contact's channel (`can_take`: voice blocks every other channel, other
channels up to their capacity); a member of Q whose membership schedule is open; tier at
most the relaxation step's `max_tier`; every required skill (the queue's and the
contact's, lowered by the step's `skill_drop`, never below 1) at or above its level; not
excluded (declined or let it ring out) and not already ringing. While a sticky contact
waits for the agent who last served its caller (logged in, a member, and not the one who
declined it or let it ring out), only that agent is eligible. Of the
eligible agents only the lowest tier present is offered (Asterisk penalties), ranked by
the queue's strategy (`processors.strategies`).

**Work conservation.** After every command no waiting contact has an eligible agent (as of
the last `Tick`, which re-dispatches every queue: relaxation steps, sticky waits and shift
schedules change with time).
So a command only needs to look at the queues whose contacts or agents it changed
(`Draft.dirty`); dispatch walks those queues' waiting contacts in service order and uses
the membership index instead of every agent. `Draft(scan=True)` instead scans every agent
for every contact it considers: the same decisions (a property test compares them), kept
as the baseline `bench/acd.py` measures against.

`Draft` accumulates one command's events while folding them into a working state, so the
later steps of a command (and dispatch) see the effects of the earlier ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from processors.acd_state import WAITING, Agent, Contact, TenantState, apply, summary_state
from processors.schedule import is_open
from processors.strategies import Pick, rank
from schemas.agent import AgentStateChanged
from schemas.config import QueueDefined
from schemas.contact import Candidate, ContactOffered
from schemas.envelope import iso_ms
from schemas.routing import Membership

__all__ = [
    "LISTED_CANDIDATES",
    "Draft",
    "Requirement",
    "can_take",
    "candidates",
    "effective_priority",
    "requirement",
]

LISTED_CANDIDATES = 10  # candidates an offer lists (the reason gives the total)
VOICE_LIKE = ("voice", "callback")


def can_take(agent: Agent, channel: str) -> bool:
    """Room for one more contact of `channel` (voice and callbacks block everything else)."""
    cap_channel = "voice" if channel in VOICE_LIKE else channel
    if agent.capacity.get(cap_channel, 0) <= 0:
        return False
    if any(w.channel in VOICE_LIKE for w in agent.work):
        return False
    if cap_channel == "voice":
        return not agent.work
    return sum(1 for w in agent.work if w.channel == channel) < agent.capacity[cap_channel]


def _has_room(agent: Agent) -> bool:
    """Present as available with room on some channel (the common busy cases answered first)."""
    if agent.presence != "available":
        return False
    if not agent.work:
        return any(n > 0 for n in agent.capacity.values())
    if any(w.channel in VOICE_LIKE for w in agent.work):
        return False
    return any(can_take(agent, ch) for ch in agent.capacity)


def effective_priority(q: QueueDefined, c: Contact, now: int) -> int:
    aging = (now - c.queued_at) // (q.priority_aging_s * 1000) if q.priority_aging_s > 0 else 0
    return c.priority + q.priority + aging


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a contact needs of an agent right now (after relaxation)."""

    max_tier: int
    skill_drop: int
    skills: dict[str, int]
    sticky: str


def requirement(t: TenantState, q: QueueDefined, c: Contact, now: int) -> Requirement:
    waited = now - c.entered_at
    max_tier, drop = q.max_tier, 0
    for step in sorted(q.relax, key=lambda s: s.after_s):
        if waited >= step.after_s * 1000:
            max_tier, drop = step.max_tier, step.skill_drop
    skills: dict[str, int] = {}
    for s in (*q.required_skills, *c.skills):
        skills[s.skill] = max(skills.get(s.skill, 0), s.level)
    if drop:
        skills = {k: max(1, v - drop) for k, v in skills.items()}
    sticky = ""
    if q.sticky_s > 0 and c.sticky_agent and waited < q.sticky_s * 1000:
        a = t.agents.get(c.sticky_agent)
        if (
            a is not None
            and a.presence != "logged_out"
            and q.queue_id in a.memberships
            and a.agent_id not in c.excluded  # it declined or let it ring out: wait no longer
        ):
            sticky = a.agent_id
    return Requirement(max_tier, drop, skills, sticky)


class _Schedules:
    """Open/closed per schedule at one moment, computed once per command."""

    def __init__(self, t: TenantState, now: int) -> None:
        self.t, self.now = t, now
        self.known: dict[str, bool] = {}

    def open(self, schedule_id: str) -> bool:
        if not schedule_id:
            return True
        found = self.known.get(schedule_id)
        if found is None:
            s = self.t.schedules.get(schedule_id)
            found = s is None or is_open(s.timezone, s.windows, s.holidays, self.now)
            self.known[schedule_id] = found
        return found


def candidates(
    t: TenantState, q: QueueDefined, c: Contact, req: Requirement, pool: Iterable[str], schedules: _Schedules
) -> list[tuple[Agent, Membership]]:
    """The eligible agents of `pool` for `c`, reduced to the lowest tier present."""
    out: list[tuple[Agent, Membership]] = []
    qid = q.queue_id
    for aid in pool:
        a = t.agents.get(aid)
        if a is None or a.presence != "available" or aid in c.excluded or aid in c.offers:
            continue
        if req.sticky and aid != req.sticky:
            continue
        m = a.memberships.get(qid)
        if m is None or (req.max_tier >= 0 and m.tier > req.max_tier) or not schedules.open(m.schedule):
            continue
        if not can_take(a, c.channel):
            continue
        if any(a.skills.get(s, 0) < level for s, level in req.skills.items()):
            continue
        out.append((a, m))
    if len(out) > 1:
        low = min(m.tier for _, m in out)
        out = [am for am in out if am[1].tier == low]
    return out


def _explain(
    q: QueueDefined, c: Contact, req: Requirement, picks: list[Pick], winners: list[Pick], now: int
) -> str:
    n = len(picks)
    best = winners[0].agent
    eligible = f"{n} eligible agent{'s' if n != 1 else ''}"
    match q.strategy:
        case "longest_idle":
            idle = f"{(now - best.since) / 1000:.1f} s"
            head = f"longest idle among {eligible}: {best.agent_id} idle since {iso_ms(best.since)} ({idle})"
        case "ring_all":
            head = f"ring all {eligible}: {', '.join(w.agent.agent_id for w in winners)}"
        case strategy:
            head = f"{strategy.replace('_', ' ')} among {eligible}: {best.agent_id} ({winners[0].note})"
    parts = [head]
    tier = winners[0].membership.tier
    if tier:
        parts.append(f"tier {tier} (no agent of a lower tier was available)")
    if req.sticky:
        parts.append(f"sticky: {req.sticky} last served caller {c.ani}")
    if req.max_tier >= 0 or req.skill_drop:
        waited = (now - c.entered_at) / 1000
        tiers = req.max_tier if req.max_tier >= 0 else "any"
        parts.append(
            f"after {waited:.0f} s waiting: tiers up to {tiers}, skill levels lowered by {req.skill_drop}"
        )
    if req.skills:
        parts.append("needs " + ", ".join(f"{s}>={lvl}" for s, lvl in sorted(req.skills.items())))
    if c.excluded:
        parts.append(f"excluded after decline or no answer: {', '.join(c.excluded)}")
    if n > LISTED_CANDIDATES:
        parts.append(f"best {LISTED_CANDIDATES} of {n} listed")
    return "; ".join(parts)


class Draft:
    """The events decided so far for one command and the tenant state they lead to.

    `seed` (the command's event id) seeds random strategies; `dirty` are the queues whose
    waiting contacts may now have an eligible agent; `scan` selects the baseline dispatch.
    """

    def __init__(self, t: TenantState, now: int, seed: str = "", scan: bool = False) -> None:
        self.t = t
        self.now = now
        self.seed = seed
        self.scan = scan
        self.events: list[object] = []
        self.dirty: set[str] = set()

    def emit(self, *bodies: object) -> None:
        for body in bodies:
            self.t = apply(self.t, body, self.now)
            self.events.append(body)

    def presence(
        self,
        agent_id: str,
        presence: str | None = None,
        reason: str | None = None,
        contact_id: str = "",
        force: bool = False,
    ) -> None:
        """Emit the agent's state change after its work or presence changed: none when
        nothing an observer sees changed, unless `force` (an explicit presence command).
        An agent present as available gets its queues marked dirty."""
        a = self.t.agents.get(agent_id)
        if a is None:
            return
        new_presence = presence or a.presence
        state = summary_state(new_presence, a.work)
        if reason is None:  # a not-ready agent keeps its reason while its work changes
            reason = a.reason if new_presence == "not_ready" and a.presence == "not_ready" else ""
        if state == new_presence:  # not busy: the event is about no contact
            contact_id = ""
        if force or (state, new_presence, reason) != (a.state, a.presence, a.reason):
            self.emit(AgentStateChanged(agent_id, state, a.state, reason, contact_id, new_presence))
        after = self.t.agents[agent_id]
        if _has_room(after):  # only more room can give a waiting contact an agent
            self.wake_agent(agent_id)

    def wake_agent(self, agent_id: str) -> None:
        a = self.t.agents.get(agent_id)
        if a is not None:
            self.dirty.update(a.memberships)

    def dispatch(self) -> None:
        """Offer every waiting contact of the dirty queues that has an eligible agent."""
        queues = sorted(q for q in self.dirty if q in self.t.waiting)
        self.dirty = set()
        t, now = self.t, self.now
        waiting: list[tuple[int, int, str]] = []
        for qid in queues:
            q = t.queues.get(qid)
            for seq, cid in t.waiting.get(qid, ()):
                c = t.contacts.get(cid)
                if q is not None and c is not None:
                    waiting.append((-effective_priority(q, c, now), seq, cid))
        if not waiting:
            return
        waiting.sort()
        schedules = _Schedules(t, now)
        # Per queue, the members with room now (found once per dispatch, then kept current
        # as offers fill agents up): most agents are busy, so a contact looks at few.
        free: dict[str, list[str]] = {}
        for _prio, _seq, cid in waiting:
            c = self.t.contacts.get(cid)
            if c is None or c.phase != WAITING:
                continue
            q = self.t.queues[c.queue_id]
            if self.scan:
                pool: Iterable[str] = self.t.agents
            else:
                pool = free[q.queue_id] if q.queue_id in free else self._free(q.queue_id, free)
                if not pool:
                    continue
            req = requirement(self.t, q, c, now)
            found = candidates(self.t, q, c, req, pool, schedules)
            if found:
                for aid in self._offer(q, c, req, found):
                    if not _has_room(self.t.agents[aid]):
                        for members in free.values():
                            if aid in members:
                                members.remove(aid)

    def _free(self, queue_id: str, free: dict[str, list[str]]) -> list[str]:
        found = []
        for aid in self.t.members.get(queue_id, ()):
            a = self.t.agents.get(aid)
            if a is not None and _has_room(a):
                found.append(aid)
        free[queue_id] = found
        return found

    def _offer(
        self, q: QueueDefined, c: Contact, req: Requirement, found: list[tuple[Agent, Membership]]
    ) -> list[str]:
        """Offer `c` to the best of `found` (all of them for ring-all); the agents offered."""
        picks = rank(q.strategy, self.t, q.queue_id, c.contact_id, req.skills, found, self.now, self.seed)
        winners = picks if q.strategy == "ring_all" else picks[:1]
        chosen = {w.agent.agent_id for w in winners}
        listed = tuple(
            Candidate(
                p.agent.agent_id, float(p.score), p.note + ("; chosen" if p.agent.agent_id in chosen else "")
            )
            for p in picks[:LISTED_CANDIDATES]
        )
        reason = _explain(q, c, req, picks, winners, self.now)
        expires_at = self.now + q.ring_timeout_s * 1000
        for w in winners:
            aid = w.agent.agent_id
            self.emit(
                ContactOffered(
                    c.contact_id, q.queue_id, aid, q.strategy, q.rule_version, listed, reason, expires_at
                )
            )
            self.presence(aid, contact_id=c.contact_id)
        return [w.agent.agent_id for w in winners]
