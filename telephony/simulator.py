"""The traffic simulator: callers and agents of a simulated contact center, as commands.

`Simulator` is a seeded discrete-event simulation. It never reads a clock: the caller
drives time with `advance(until_ms)` (real time or fast-forward), hands it what the ACD
decided with `observe(message)`, and appends the commands it returns to `cc.commands`.
Same seed, same calls, same observed events => the same commands, byte for byte.

A driver loop, in short::

    sim = Simulator(SimConfig(), seed=7, start_ms=t0)
    append(sim.setup())
    while running:
        for command in sim.advance(now_ms):      # due callers' and agents' actions
            append(command)
        for event in new_acd_events():           # ContactOffered, ContactEnded, ...
            sim.observe(event)

The closer the loop follows `next_due_ms()` (or the 1 s ticks), the closer the simulated
reaction times are to the drawn ones: a reaction is never scheduled before the
simulator's current time.

**Common random numbers.** Arrivals and everything about a caller (queue, priority, ANI,
patience, talk time) come from one random stream consumed only at arrivals, and agents'
behaviour from another. So the same seed offers the *same traffic* to two ACD strategies
however differently they route it, which makes their comparison much sharper.

**IVR** (`ivr=flow`, `ccx simulate --ivr FLOW.yaml`): each caller first walks the flow with
seeded keypresses (`telephony.sim_ivr.walk`, from a random stream of its own, so the
traffic is the same as without the IVR); the flow's events are emitted at their times (to
`cc.ivr-events`), and a caller whose flow routes it (a route or callback node) is routed
when the flow says, to its drawn queue (the flow's queue names and skills are the flow's
own, not the simulation's), with the flow's priority; the caller's patience starts then.
Callers the flow keeps (voicemail, hang-up nodes, hanging up) are never routed. Without a
flow nothing changes, byte for byte.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.commands import (
    DefineAgent,
    DefineQueue,
    LogInAgent,
    RequestCallback,
    RouteContact,
    SetAgentReady,
)
from schemas.envelope import Envelope, Message, derive_event_id
from schemas.ivr import IvrEnded
from telephony.ivr.messages import Contact
from telephony.ivr.model import Flow
from telephony.sim_agents import Action, AgentBehaviour, SimAgent, SimContact
from telephony.sim_config import AgentSpec, BreakSpec, QueueSpec, SimConfig, parse_duration, parse_rate
from telephony.sim_ivr import walk
from telephony.sim_random import CallerPool, exponential_ms, lognormal_ms
from telephony.sim_schedule import Schedule

__all__ = [
    "AgentSpec",
    "BreakSpec",
    "QueueSpec",
    "SimConfig",
    "SimStats",
    "Simulator",
    "parse_duration",
    "parse_rate",
]

_MS_PER_HOUR = 3_600_000


@dataclass(frozen=True, slots=True)
class SimStats:
    """Progress of a run: simulated time, contacts, and commands sent by type."""

    now_ms: int
    contacts: int
    active_contacts: int
    rejected: int
    commands: dict[str, int]

    def summary(self) -> str:
        kinds = " ".join(f"{k}={v}" for k, v in sorted(self.commands.items()))
        return (
            f"contacts={self.contacts} active={self.active_contacts} "
            f"rejected={self.rejected} commands={sum(self.commands.values())} ({kinds})"
        )


class Simulator:
    """Seeded callers and agents reacting to the ACD; time only through the arguments."""

    def __init__(self, config: SimConfig, seed: int, start_ms: int, ivr: Flow | None = None) -> None:
        self.config = config
        self._ivr = ivr
        self._ivr_rng = random.Random(f"ivr:{seed}")
        self._in_ivr = 0
        self.seed = seed
        self._ns = f"sim:{seed}"
        self._n = 0
        self._now = start_ms
        self._start_ms = start_ms
        self._counts: Counter[str] = Counter()
        self._routed = 0
        self._arrivals_open = True
        master = random.Random(seed)
        self._traffic = random.Random(master.getrandbits(64))
        behaviour_rng = random.Random(master.getrandbits(64))
        self._callers = CallerPool(random.Random(master.getrandbits(64)), config)
        self._schedule: Schedule[Action] = Schedule()
        self._queues = config.queue_specs
        self._agent_specs = config.agent_specs
        self._contacts: dict[str, SimContact] = {}
        agents = {spec.agent_id: SimAgent(spec.agent_id) for spec in self._agent_specs}
        self._behaviour = AgentBehaviour(
            config, behaviour_rng, self._schedule, self._contacts, agents, self._emit, self.now_ms
        )
        self._per_queue_ms = (
            len(self._queues) * _MS_PER_HOUR / config.arrival_rate_per_hour
            if config.arrival_rate_per_hour > 0
            else 0.0
        )
        for queue in self._queues:
            self._schedule_arrival(queue, float(start_ms))

    # -- the driver's API ---------------------------------------------------------------

    def now_ms(self) -> int:
        """The simulator's clock: the latest time it has advanced to."""
        return self._now

    def repeat_callers(self) -> tuple[str, ...]:
        """The numbers of the callers who call again (E.164)."""
        return self._callers.repeat_callers

    def setup(self) -> list[Message[Any]]:
        """Queues, agents, and every agent logged in and ready, all at the start time."""
        t = self._start_ms
        out = [self._emit(t, DefineQueue(q.queue_id, q.name), q.queue_id, "simulator") for q in self._queues]
        out += [
            self._emit(t, DefineAgent(a.agent_id, a.name, a.queues), a.agent_id, "simulator")
            for a in self._agent_specs
        ]
        for body in (LogInAgent, SetAgentReady):
            out += [
                self._emit(t, body(a.agent_id), a.agent_id, f"agent:{a.agent_id}") for a in self._agent_specs
            ]
        return out

    def next_due_ms(self) -> int | None:
        """When the next scheduled action is due (None if nothing is scheduled)."""
        return self._schedule.next_due_ms()

    def advance(self, until_ms: int) -> list[Message[Any]]:
        """Every command due at or before `until_ms`, in time order; the clock moves there."""
        out: list[Message[Any]] = []
        while (item := self._schedule.pop_due(until_ms)) is not None:
            self._now = max(self._now, item.due_ms)
            message = item.action(self._now)
            if message is not None:
                out.append(message)
        self._now = max(self._now, until_ms)
        return out

    def observe(self, message: Message[Any]) -> None:
        """React to an ACD event (other tenants' and unknown events are ignored)."""
        if message.envelope.tenant == self.config.tenant:
            self._behaviour.observe(message.body, message.envelope.occurred_at)

    def close_arrivals(self) -> None:
        """No new callers from now on; those in the system go on until they are done."""
        self._arrivals_open = False

    def busy(self) -> bool:
        """Whether any simulated contact is still waiting, talking, or in its agent's wrap-up."""
        return bool(self._contacts) or self._behaviour.wrapping() > 0 or self._in_ivr > 0

    def stats(self) -> SimStats:
        return SimStats(
            now_ms=self._now,
            contacts=self._routed,
            active_contacts=len(self._contacts),
            rejected=self._behaviour.rejected,
            commands=dict(self._counts),
        )

    # -- callers --------------------------------------------------------------------------

    def _schedule_arrival(self, queue: QueueSpec, after_ms: float) -> None:
        """A Poisson stream per queue; exact float times, so rounding never biases the rate."""
        if not self._per_queue_ms:
            return
        at = after_ms + self._traffic.expovariate(1.0 / self._per_queue_ms)
        self._schedule.push(round(at), lambda t: self._arrive(queue, at, t))

    def _arrive(self, queue: QueueSpec, exact_ms: float, t: int) -> Message[Any] | None:
        if not self._arrivals_open:
            return None
        self._schedule_arrival(queue, exact_ms)
        cfg, rng = self.config, self._traffic
        contact_id = derive_event_id(f"{self._ns}:contact", self._routed)
        self._routed += 1
        priority = 1 if rng.random() < cfg.priority_probability else 0
        ani = self._callers.ani(rng)
        patience_ms = exponential_ms(rng, cfg.patience_mean_s)
        talk_ms = lognormal_ms(rng, cfg.talk_mean_s, cfg.talk_sigma)
        if self._ivr is not None:
            self._enter_ivr(self._ivr, queue, contact_id, ani, patience_ms, talk_ms, t)
            return None
        contact = SimContact(contact_id, queue.queue_id, talk_ms)
        self._contacts[contact_id] = contact
        contact.pending.append(self._schedule.push(t + patience_ms, self._behaviour.abandon(contact_id)))
        body = RouteContact(contact_id, queue.queue_id, "voice", priority, ani, queue.dnis)
        return self._emit(t, body, contact_id, "simulator")

    def _enter_ivr(
        self, flow: Flow, queue: QueueSpec, contact_id: str, ani: str, patience_ms: int, talk_ms: int, t: int
    ) -> None:
        """Schedule the caller's walk through the flow: its events at their times, then the
        routing (when the flow routes) as `_arrive` does it."""
        self._in_ivr += 1
        for at, body in walk(flow, Contact(contact_id, ani, queue.dnis), self._ivr_rng, t):
            if isinstance(body, RouteContact):
                route = RouteContact(contact_id, queue.queue_id, "voice", body.priority, ani, queue.dnis)
                self._schedule.push(at, self._route_after_ivr(route, patience_ms, talk_ms))
            elif not isinstance(body, RequestCallback):  # a callback waits in the queue as a call
                self._schedule.push(at, self._ivr_event(body, contact_id))

    def _ivr_event(self, body: object, contact_id: str) -> Callable[[int], Message[Any]]:
        def act(t: int) -> Message[Any]:
            if isinstance(body, IvrEnded):
                self._in_ivr -= 1
            return self._emit(t, body, contact_id, "ivr")

        return act

    def _route_after_ivr(
        self, route: RouteContact, patience_ms: int, talk_ms: int
    ) -> Callable[[int], Message[Any]]:
        def act(t: int) -> Message[Any]:
            contact = SimContact(route.contact_id, route.queue_id, talk_ms)
            self._contacts[route.contact_id] = contact
            contact.pending.append(
                self._schedule.push(t + patience_ms, self._behaviour.abandon(route.contact_id))
            )
            return self._emit(t, route, route.contact_id, "simulator")

        return act

    # -- envelopes ------------------------------------------------------------------------

    def _emit(self, t: int, body: object, correlation_id: str, actor: str) -> Message[Any]:
        envelope = Envelope(
            event_id=derive_event_id(self._ns, self._n),
            tenant=self.config.tenant,
            occurred_at=t,
            correlation_id=correlation_id,
            causation_id=None,
            actor=actor,
        )
        self._n += 1
        self._counts[type(body).__name__] += 1
        return Message(envelope, body)
