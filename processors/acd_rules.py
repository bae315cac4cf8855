"""The ACD's rules over time: admission to a queue, overflow, and what a `Tick` does.

**Admission** (`admit`): a queue outside its business hours fires its "closed" rule, a
queue holding `max_waiting` contacts its "full" rule (without a rule the contact ends
with reason "closed" or "full" and is never queued); otherwise the contact is queued
and, when no member is logged in, the "no_agents" rule fires. A callback takes its
caller's place: "closed" and "full" do not apply to it again.

**Overflow** (`fire`): action "queue" moves the contact to the target queue keeping its
place and wait; "voicemail" and "message" end it (reason "timed_out", or "closed" /
"full" when the rule fired on arrival); "callback" offers the caller a callback once per
queue stint (never to a callback contact) and the contact waits on. A chain of queue
moves longer than `MAX_OVERFLOW_HOPS` ends the contact, so a rule cycle cannot loop.

**Tick** (`on_tick`): offers past their ring deadline time out (RONA: the agent is set not
ready with reason "rona", or stays ready when the queue says so); wrap-ups past their
deadline (the queue's `wrap_up_s`, or later when extended) complete with disposition
"timeout" and the agent is ready again (or not ready, reason "wrap_up_timeout"; an agent
set not ready meanwhile, by RONA on another chat, stays not ready); "wait" rules whose
time has come fire; "no_agents" rules fire for queues nobody serves; then every queue
with waiting contacts is dispatched again, which is where relaxation steps, sticky waits
and shift schedules that changed with time take effect.
"""

from __future__ import annotations

from processors.acd_state import OFFERED, WAITING, Contact, Wrap
from processors.dispatch import Draft
from processors.schedule import is_open
from schemas.config import QueueDefined
from schemas.contact import (
    CallbackOffered,
    ContactEnded,
    ContactOverflowed,
    ContactQueued,
    OfferTimedOut,
    WrapUpCompleted,
)
from schemas.routing import OverflowRule, SkillLevel

__all__ = ["MAX_OVERFLOW_HOPS", "admit", "fire", "on_tick", "served", "wrap_deadline"]

MAX_OVERFLOW_HOPS = 8
_END_REASON = {"wait": "timed_out", "no_agents": "timed_out", "closed": "closed", "full": "full"}


def _rule(q: QueueDefined, when: str) -> OverflowRule | None:
    return next((r for r in q.overflow if r.when == when), None)


def _closed(d: Draft, q: QueueDefined) -> bool:
    s = d.t.schedules.get(q.hours) if q.hours else None
    return s is not None and not is_open(s.timezone, s.windows, s.holidays, d.now)


def served(d: Draft, queue_id: str) -> bool:
    """Some member of the queue is logged in (whatever its state)."""
    for aid in d.t.members.get(queue_id, ()):
        a = d.t.agents.get(aid)
        if a is not None and a.presence != "logged_out":
            return True
    return False


def admit(
    d: Draft,
    contact_id: str,
    queue_id: str,
    priority: int,
    skills: tuple[SkillLevel, ...],
    place: int = 0,
    waiting_since: int = 0,
    hops: int = 0,
    door: bool = True,
) -> None:
    """Queue a contact that has arrived (or was moved by a rule), applying the queue's rules.

    `door=False` takes the place of a contact already admitted (a callback): the "closed"
    and "full" rules, which only apply on entering the queue, do not apply again."""
    q = d.t.queues[queue_id]
    wait_ms = d.now - waiting_since if waiting_since else 0
    for when, applies in (
        ("closed", door and _closed(d, q)),
        ("full", door and 0 < q.max_waiting <= len(d.t.waiting.get(queue_id, ()))),
    ):
        if not applies:
            continue
        rule = _rule(q, when)
        if rule is None or rule.action == "callback" or hops >= MAX_OVERFLOW_HOPS:
            d.emit(ContactEnded(contact_id, queue_id, when, "system", "", wait_ms))
            return
        _move_or_end(d, contact_id, q, rule, when, priority, skills, place, waiting_since, hops)
        return
    d.emit(ContactQueued(contact_id, queue_id, priority, skills, place, waiting_since))
    d.dirty.add(queue_id)
    rule = _rule(q, "no_agents")
    if rule is not None and not served(d, queue_id):
        fire(d, d.t.contacts[contact_id], q, rule, hops)


def _move_or_end(
    d: Draft,
    contact_id: str,
    q: QueueDefined,
    rule: OverflowRule,
    when: str,
    priority: int,
    skills: tuple[SkillLevel, ...],
    place: int,
    waiting_since: int,
    hops: int,
) -> None:
    to_queue = rule.target if rule.action == "queue" else ""
    d.emit(ContactOverflowed(contact_id, q.queue_id, to_queue, when, rule.action, rule.target))
    if to_queue and to_queue in d.t.queues and hops < MAX_OVERFLOW_HOPS:
        admit(d, contact_id, to_queue, priority, skills, place, waiting_since, hops + 1)
        return
    wait_ms = d.now - waiting_since if waiting_since else 0
    d.emit(ContactEnded(contact_id, q.queue_id, _END_REASON[when], "system", "", wait_ms))


def fire(d: Draft, c: Contact, q: QueueDefined, rule: OverflowRule, hops: int = 0) -> None:
    """Apply `rule` to a contact waiting in `q`."""
    if rule.action == "callback":
        if not c.callback_offered and c.channel != "callback":  # a callback is not offered a callback
            d.emit(CallbackOffered(c.contact_id, q.queue_id))
        return
    _move_or_end(d, c.contact_id, q, rule, rule.when, c.priority, c.skills, c.seq, c.queued_at, hops)


def _ring_out(d: Draft, c: Contact) -> None:
    q = d.t.queues.get(c.queue_id)
    for aid in c.offers:
        d.emit(OfferTimedOut(c.contact_id, aid))
        if q is None or q.rona_not_ready:
            d.presence(aid, "not_ready", "rona", c.contact_id)
        else:
            d.presence(aid, contact_id=c.contact_id)
    d.dirty.add(c.queue_id)


def wrap_deadline(w: Wrap, q: QueueDefined | None) -> int:
    """When the wrap-up `w` of a contact of queue `q` times out (ms)."""
    if q is None:
        return w.until or w.started_at
    return max(w.until, w.started_at + q.wrap_up_s * 1000)


def _wait_rules(d: Draft, c: Contact, q: QueueDefined) -> None:
    waited = d.now - c.entered_at
    for rule in sorted((r for r in q.overflow if r.when == "wait"), key=lambda r: r.after_s):
        if waited < rule.after_s * 1000:
            return
        if rule.action == "callback":
            if not c.callback_offered:
                fire(d, c, q, rule)
            continue
        fire(d, c, q, rule)
        return


def on_tick(d: Draft) -> None:
    """Everything time decides at `d.now`, then a dispatch of every waiting queue."""
    ringing: list[Contact] = []
    wrapping: list[Contact] = []
    for c in d.t.contacts.values():
        if c.phase == OFFERED and d.now >= c.expires_at:
            ringing.append(c)
        if c.wraps:
            wrapping.append(c)
    for c in sorted(ringing, key=lambda c: c.seq):
        _ring_out(d, c)
    for c in sorted(wrapping, key=lambda c: c.seq):
        q = d.t.queues.get(c.queue_id)
        for w in c.wraps:
            if d.now < wrap_deadline(w, q):
                continue
            d.emit(WrapUpCompleted(c.contact_id, w.agent_id, "timeout", ""))
            agent = d.t.agents.get(w.agent_id)
            if agent is not None and agent.presence == "not_ready":
                # Set not ready while wrapping up (RONA on another chat): the timeout of this
                # wrap-up does not make it ready again.
                d.presence(w.agent_id, contact_id=c.contact_id)
            elif q is None or q.auto_ready:
                d.presence(w.agent_id, "available")
            else:
                d.presence(w.agent_id, "not_ready", "wrap_up_timeout", c.contact_id)
    unserved: dict[str, bool] = {}
    for qid in sorted(d.t.waiting):
        q = d.t.queues.get(qid)
        if q is None or not q.overflow:
            continue
        no_agents = _rule(q, "no_agents")
        for _seq, cid in d.t.waiting.get(qid, ()):
            before = d.t.contacts.get(cid)
            if before is None or before.phase != WAITING:
                continue
            _wait_rules(d, before, q)
            after = d.t.contacts.get(cid)
            if after is None or after.phase != WAITING or after.queue_id != qid or no_agents is None:
                continue
            if qid not in unserved:
                unserved[qid] = not served(d, qid)
            if unserved[qid]:
                fire(d, after, q, no_agents)
    d.dirty.update(d.t.waiting)
