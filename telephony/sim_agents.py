"""How simulated callers and agents react to the ACD's events, and the guards that keep
stale actions quiet.

`AgentBehaviour.observe` turns an ACD event into scheduled actions (answer an offer, put
on hold, hang up, finish wrap-up, come back from a break or a RONA). Each action is a
closure that, when due, checks the small per-contact / per-agent state first and returns
None if the world moved on (the contact ended, the offer went elsewhere, the ACD forced
wrap-up): a stale action never produces a command that is wrong in the current state.
The state is also updated when a command is *sent* (a hung-up contact is forgotten at
once), so a batch never holds two commands that contradict each other (say a caller's
hang-up and the agent's answer), and every contact leaves the state by its own hang-up
or by `ContactEnded`, whichever comes first.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas.agent import AgentStateChanged
from schemas.commands import (
    AcceptOffer,
    CompleteWrapUp,
    DeclineOffer,
    HangUpContact,
    HoldContact,
    ResumeContact,
    SetAgentReady,
)
from schemas.contact import (
    ContactConnected,
    ContactEnded,
    ContactHeld,
    ContactOffered,
    ContactResumed,
    OfferAccepted,
    OfferDeclined,
    OfferTimedOut,
    WrapUpCompleted,
    WrapUpStarted,
)
from schemas.envelope import Message
from schemas.system import CommandRejected
from telephony.sim_config import SimConfig
from telephony.sim_random import lognormal_ms, seconds_ms, weighted
from telephony.sim_schedule import Schedule, Scheduled

__all__ = ["Action", "AgentBehaviour", "Emit", "SimAgent", "SimContact"]

Action = Callable[[int], "Message[Any] | None"]
"""A scheduled action: called with its due time, returns the command or None if stale."""
Emit = Callable[[int, object, str, str], "Message[Any]"]
"""(time, body, correlation id, actor) -> the enveloped command."""


@dataclass(slots=True)
class SimContact:
    """A simulated caller still in the call. `status`: waiting, offered or connected."""

    contact_id: str
    queue_id: str
    talk_ms: int
    status: str = "waiting"
    agent_id: str = ""
    held: bool = False
    pending: list[Scheduled[Action]] = field(default_factory=list)

    def cancel_pending(self) -> None:
        for item in self.pending:
            item.cancelled = True
        self.pending.clear()


@dataclass(slots=True)
class SimAgent:
    """A simulated agent as last seen: ACD state, the offer ringing, the wrap-up running."""

    agent_id: str
    state: str = "logged_out"
    offer: str = ""
    wrap_contact: str = ""
    ready: Scheduled[Action] | None = None


class AgentBehaviour:
    """Schedules callers' and agents' reactions to the ACD's events."""

    def __init__(
        self,
        config: SimConfig,
        rng: random.Random,
        schedule: Schedule[Action],
        contacts: dict[str, SimContact],
        agents: dict[str, SimAgent],
        emit: Emit,
        clock: Callable[[], int],
    ) -> None:
        self._cfg, self._rng, self._schedule = config, rng, schedule
        self._contacts, self._agents = contacts, agents
        self._emit, self._clock = emit, clock
        self._breaks = {b.reason: b for b in config.breaks}
        self.rejected = 0

    def wrapping(self) -> int:
        """How many agents are in wrap-up of a simulated contact."""
        return sum(1 for a in self._agents.values() if a.wrap_contact)

    def observe(self, body: object, t: int) -> None:
        contacts, agents = self._contacts, self._agents
        match body:
            case ContactOffered() if body.contact_id in contacts and body.agent_id in agents:
                self._offered(body, t)
            case OfferAccepted() | OfferDeclined() | OfferTimedOut() if body.agent_id in agents:
                agent = agents[body.agent_id]
                agent.offer = "" if agent.offer == body.contact_id else agent.offer
                contact = contacts.get(body.contact_id)
                if contact and contact.status == "offered" and not isinstance(body, OfferAccepted):
                    contact.status = "waiting"
            case ContactConnected() if body.contact_id in contacts:
                self._connected(contacts[body.contact_id], body.agent_id, t)
            case ContactHeld() | ContactResumed() if body.contact_id in contacts:
                contacts[body.contact_id].held = isinstance(body, ContactHeld)
            case ContactEnded():
                if body.contact_id in contacts:
                    contacts.pop(body.contact_id).cancel_pending()
                if body.agent_id in agents and agents[body.agent_id].offer == body.contact_id:
                    agents[body.agent_id].offer = ""
            case WrapUpStarted() if body.agent_id in agents:
                self._wrap_up(agents[body.agent_id], body.contact_id, t)
            case WrapUpCompleted() if body.agent_id in agents:
                agent = agents[body.agent_id]
                agent.wrap_contact = "" if agent.wrap_contact == body.contact_id else agent.wrap_contact
            case AgentStateChanged() if body.agent_id in agents:
                self._state_changed(agents[body.agent_id], body, t)
            case CommandRejected():
                self.rejected += 1

    # -- reactions --------------------------------------------------------------------------

    def _at(self, t: int, delay_ms: int) -> int:
        """`delay_ms` after the event, but never before the simulator's current time."""
        return max(t + delay_ms, self._clock())

    def _offered(self, offer: ContactOffered, t: int) -> None:
        contact, agent = self._contacts[offer.contact_id], self._agents[offer.agent_id]
        contact.status, contact.agent_id, agent.offer = "offered", offer.agent_id, offer.contact_id
        cfg, rng = self._cfg, self._rng
        u = rng.random()
        due = self._at(t, seconds_ms(rng.uniform(*cfg.answer_delay_s)))
        if u < cfg.no_answer_probability or due >= offer.expires_at:
            return  # let it ring: the ACD's tick at expires_at makes it a RONA
        accept = u >= cfg.no_answer_probability + cfg.decline_probability
        action = self._answer(offer.agent_id, offer.contact_id, offer.expires_at, accept)
        contact.pending.append(self._schedule.push(due, action))

    def _connected(self, contact: SimContact, agent_id: str, t: int) -> None:
        contact.cancel_pending()  # the caller no longer abandons, no answer is pending
        contact.status, contact.agent_id = "connected", agent_id
        cfg, rng = self._cfg, self._rng
        party = "agent" if rng.random() < cfg.agent_hangs_up_probability else "caller"
        hold_ms = 0
        if rng.random() < cfg.hold_probability:
            hold_ms = lognormal_ms(rng, cfg.hold_mean_s, cfg.hold_sigma)
            hold_at = self._at(t, round(contact.talk_ms * rng.uniform(0.2, 0.6)))
            contact.pending.append(self._schedule.push(hold_at, self._hold(contact.contact_id, True)))
            resume = self._hold(contact.contact_id, False)
            contact.pending.append(self._schedule.push(hold_at + hold_ms, resume))
        end = self._at(t, contact.talk_ms + hold_ms)
        contact.pending.append(self._schedule.push(end, self._hang_up(contact.contact_id, party)))

    def _wrap_up(self, agent: SimAgent, contact_id: str, t: int) -> None:
        cfg, rng = self._cfg, self._rng
        agent.wrap_contact = contact_id
        wrap_ms = lognormal_ms(rng, cfg.wrap_up_mean_s, cfg.wrap_up_sigma)
        disposition = weighted(rng, cfg.dispositions)
        reason = ""
        if rng.random() < cfg.break_probability:
            reason = weighted(rng, [(b.reason, b.weight) for b in cfg.breaks])
        body = CompleteWrapUp(
            contact_id, agent.agent_id, disposition, "", "not_ready" if reason else "ready", reason
        )
        self._schedule.push(self._at(t, wrap_ms), self._complete(agent, body))

    def _state_changed(self, agent: SimAgent, change: AgentStateChanged, t: int) -> None:
        # The offer is NOT cleared here: offers end by their own events (accepted, declined,
        # timed out, contact ended), and a reader of several topics may see this agent's
        # state change after the offer that followed it.
        agent.state = change.state
        Schedule.cancel(agent.ready)  # whatever we planned for the previous state is moot
        agent.ready = None
        if change.state != "not_ready":
            return
        rng = self._rng
        if change.reason == "rona":
            delay_s = self._cfg.rona_recovery_s * rng.uniform(0.5, 1.5)
        elif change.reason in self._breaks:
            delay_s = self._breaks[change.reason].mean_s * rng.uniform(0.5, 1.5)
        else:
            return  # "login" (setup already asked for ready) or a supervisor's reason
        agent.ready = self._schedule.push(self._at(t, seconds_ms(delay_s)), self._ready(agent))

    def _forget(self, contact: SimContact) -> None:
        """The hang-up is sent: nothing more happens to this contact but the agent's wrap-up."""
        contact.cancel_pending()
        del self._contacts[contact.contact_id]

    # -- actions (guarded when due) -----------------------------------------------------------

    def abandon(self, contact_id: str) -> Action:
        """The caller's patience runs out while waiting or ringing."""

        def act(t: int) -> Message[Any] | None:
            contact = self._contacts.get(contact_id)
            if contact is None or contact.status not in ("waiting", "offered"):
                return None
            self._forget(contact)
            return self._emit(t, HangUpContact(contact_id, "caller"), contact_id, "simulator")

        return act

    def _answer(self, agent_id: str, contact_id: str, expires_at: int, accept: bool) -> Action:
        def act(t: int) -> Message[Any] | None:
            agent, contact = self._agents[agent_id], self._contacts.get(contact_id)
            if agent.offer != contact_id or contact is None or contact.status != "offered" or t >= expires_at:
                return None
            agent.offer = ""
            body = AcceptOffer(contact_id, agent_id) if accept else DeclineOffer(contact_id, agent_id)
            return self._emit(t, body, contact_id, f"agent:{agent_id}")

        return act

    def _hold(self, contact_id: str, hold: bool) -> Action:
        def act(t: int) -> Message[Any] | None:
            contact = self._contacts.get(contact_id)
            if contact is None or contact.status != "connected" or contact.held == hold:
                return None
            contact.held = hold  # optimistic; ContactHeld / ContactResumed confirm it
            cls = HoldContact if hold else ResumeContact
            return self._emit(t, cls(contact_id, contact.agent_id), contact_id, f"agent:{contact.agent_id}")

        return act

    def _hang_up(self, contact_id: str, party: str) -> Action:
        def act(t: int) -> Message[Any] | None:
            contact = self._contacts.get(contact_id)
            if contact is None or contact.status != "connected":
                return None
            self._forget(contact)
            actor = f"agent:{contact.agent_id}" if party == "agent" else "simulator"
            return self._emit(t, HangUpContact(contact_id, party), contact_id, actor)

        return act

    def _complete(self, agent: SimAgent, body: CompleteWrapUp) -> Action:
        def act(t: int) -> Message[Any] | None:
            if agent.wrap_contact != body.contact_id:
                return None  # the ACD forced the wrap-up to an end already
            agent.wrap_contact = ""
            return self._emit(t, body, body.contact_id, f"agent:{agent.agent_id}")

        return act

    def _ready(self, agent: SimAgent) -> Action:
        def act(t: int) -> Message[Any] | None:
            agent.ready = None
            if agent.state != "not_ready":
                return None
            return self._emit(t, SetAgentReady(agent.agent_id), agent.agent_id, f"agent:{agent.agent_id}")

        return act
