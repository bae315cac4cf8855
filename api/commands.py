"""`/v1` commands: what agents, supervisors and admins ask, as a round trip through the ACD.

Each endpoint checks who may ask (`api.auth`), builds one command of `schemas.commands`,
and answers with its outcome (`api.gateway`): 200 and the events it caused, 409 and the
decider's code and reason for a state conflict, 422 for input the decider refused as
invalid (or FastAPI's own validation, naming the field), 504 when no ACD decided it in
time. The composition root attaches `app.state.gateway` (a `CommandGateway`) and
`app.state.acd` (a callable returning the ACD's current state, for scope checks).
"""

from __future__ import annotations

import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.requests import HTTPConnection

from api.auth import Principal, authorize_agent, require
from api.gateway import CommandGateway, event_json
from schemas import commands as c

__all__ = ["Name", "body_model", "router", "send"]

router = APIRouter(tags=["commands"])

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*$")]
"""A path or body identifier: printable, non-empty, bounded."""

ROUND_TRIP_TIMEOUT_S = 10.0

AgentActor = Annotated[Principal, Depends(require("agent", "supervisor", "admin"))]
Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def _tenant_state(request: HTTPConnection, tenant: str) -> Any | None:
    source = getattr(request.app.state, "acd", None)
    return source().tenant(tenant) if source is not None else None


def agent_team(request: HTTPConnection, tenant: str, agent_id: str) -> str | None:
    """The agent's team as the ACD knows it ("" for none), None for an unknown agent."""
    t = _tenant_state(request, tenant)
    agent = t.agents.get(agent_id) if t is not None else None
    return None if agent is None else str(getattr(agent, "team", ""))


def contact_agent(request: Request, tenant: str, contact_id: str) -> str:
    t = _tenant_state(request, tenant)
    contact = t.contacts.get(contact_id) if t is not None else None
    return "" if contact is None else str(contact.agent_id)


def check_agent(request: Request, principal: Principal, agent_id: str) -> None:
    authorize_agent(principal, agent_id, agent_team(request, principal.tenant, agent_id))


async def send(request: Request, principal: Principal, body: object) -> dict[str, Any]:
    """Round-trip one command for the principal; the HTTP answer of its outcome."""
    gateway: CommandGateway | None = getattr(request.app.state, "gateway", None)
    if gateway is None:
        raise HTTPException(503, "this API process appends no commands (no log attached)")
    try:
        outcome = await gateway.round_trip(
            principal.tenant, principal.actor, body, timeout_s=ROUND_TRIP_TIMEOUT_S
        )
    except ValueError as e:
        raise HTTPException(422, {"code": "invalid", "reason": str(e)}) from None
    except TimeoutError:
        raise HTTPException(
            504,
            f"no ACD decided the {type(body).__name__} within {ROUND_TRIP_TIMEOUT_S:g} s; is one running?",
        ) from None
    if outcome.invalid is not None:
        raise HTTPException(
            422, {"code": "invalid", "reason": outcome.invalid, "command_id": outcome.command_id}
        )
    if outcome.rejected is not None:
        r = outcome.rejected
        raise HTTPException(409, {"code": r.code, "reason": r.reason, "command_id": outcome.command_id})
    return {"command_id": outcome.command_id, "events": [event_json(t, m) for t, m in outcome.events]}


# -- agents: presence ----------------------------------------------------------------------


class NotReady(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Name


class WrapUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: Name
    notes: Annotated[str, Field(max_length=10_000)] = ""
    next_state: Literal["ready", "not_ready"] = "ready"
    not_ready_reason: Annotated[str, Field(max_length=200)] = ""


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_queue: Annotated[str, Field(max_length=200)] = ""
    to_agent: Annotated[str, Field(max_length=200)] = ""


class Consult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_agent: Name


class Queues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queues: Annotated[list[Name], Field(max_length=500)]


class Monitor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["monitor", "whisper", "barge"] = "monitor"


@router.post("/v1/agents/{agent_id}/login")
async def log_in(request: Request, agent_id: Name, who: AgentActor) -> dict[str, Any]:
    """The agent logs in (not ready, reason "login")."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.LogInAgent(agent_id))


@router.post("/v1/agents/{agent_id}/logout")
async def log_out(request: Request, agent_id: Name, who: AgentActor) -> dict[str, Any]:
    """The agent logs out (409 while it handles a contact)."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.LogOutAgent(agent_id))


@router.post("/v1/agents/{agent_id}/ready")
async def ready(request: Request, agent_id: Name, who: AgentActor) -> dict[str, Any]:
    """The agent is ready for contacts."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.SetAgentReady(agent_id))


@router.post("/v1/agents/{agent_id}/not-ready")
async def not_ready(request: Request, agent_id: Name, body: NotReady, who: AgentActor) -> dict[str, Any]:
    """The agent is not ready, with a reason (break, lunch, training, ...)."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.SetAgentNotReady(agent_id, body.reason))


# -- agents: the contact in hand -----------------------------------------------------------

_CONTACT_COMMANDS: dict[str, tuple[type, str]] = {
    "accept": (c.AcceptOffer, "The agent answers the contact offered to it."),
    "decline": (c.DeclineOffer, "The agent declines the offer; the contact is offered elsewhere."),
    "hold": (c.HoldContact, "The agent puts the connected contact on hold."),
    "resume": (c.ResumeContact, "The agent takes the contact off hold."),
    "complete-transfer": (
        c.CompleteTransfer,
        "The consulted agent takes over the caller; this agent wraps up.",
    ),
    "conference": (c.ConferenceContact, "The caller, this agent and the consulted agent talk together."),
    "cancel-consult": (c.CancelConsult, "The consult ends; the caller stays on hold with this agent."),
    "leave": (c.LeaveConference, "This agent leaves the conference and wraps up; the others go on."),
}


def _contact_route(action: str, cls: type, doc: str) -> None:
    async def endpoint(request: Request, agent_id: Name, contact_id: Name, who: AgentActor) -> dict[str, Any]:
        check_agent(request, who, agent_id)
        return await send(request, who, cls(contact_id, agent_id))

    endpoint.__doc__ = doc
    endpoint.__name__ = f"contact_{action}"
    router.post(f"/v1/agents/{{agent_id}}/contacts/{{contact_id}}/{action}", name=f"contact_{action}")(
        endpoint
    )


for _action, (_cls, _doc) in _CONTACT_COMMANDS.items():
    _contact_route(_action, _cls, _doc)


@router.post("/v1/agents/{agent_id}/contacts/{contact_id}/hangup")
async def hang_up(request: Request, agent_id: Name, contact_id: Name, who: AgentActor) -> dict[str, Any]:
    """The agent hangs up the contact it handles; it goes to wrap-up."""
    check_agent(request, who, agent_id)
    if contact_agent(request, who.tenant, contact_id) not in ("", agent_id):
        raise HTTPException(
            409, {"code": "not_your_contact", "reason": f"{contact_id} is not with {agent_id}"}
        )
    return await send(request, who, c.HangUpContact(contact_id, "agent"))


@router.post("/v1/agents/{agent_id}/contacts/{contact_id}/wrap-up")
async def wrap_up(
    request: Request, agent_id: Name, contact_id: Name, body: WrapUp, who: AgentActor
) -> dict[str, Any]:
    """The agent finishes after-call work with a disposition, then is ready or not ready."""
    check_agent(request, who, agent_id)
    if body.next_state == "not_ready" and not body.not_ready_reason.strip():
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "not_ready_reason"],
                    "msg": "give a reason to go not ready",
                    "type": "missing",
                }
            ],
        )
    cmd = c.CompleteWrapUp(
        contact_id, agent_id, body.disposition, body.notes, body.next_state, body.not_ready_reason
    )
    return await send(request, who, cmd)


@router.post("/v1/agents/{agent_id}/contacts/{contact_id}/transfer")
async def transfer(
    request: Request, agent_id: Name, contact_id: Name, body: Transfer, who: AgentActor
) -> dict[str, Any]:
    """Blind transfer: to a queue (the contact waits there) or to an available agent."""
    check_agent(request, who, agent_id)
    if bool(body.to_queue) == bool(body.to_agent):
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "to_queue"],
                    "msg": "give exactly one of to_queue and to_agent",
                    "type": "value_error",
                }
            ],
        )
    return await send(request, who, c.TransferContact(contact_id, agent_id, body.to_queue, body.to_agent))


@router.post("/v1/agents/{agent_id}/contacts/{contact_id}/consult")
async def consult(
    request: Request, agent_id: Name, contact_id: Name, body: Consult, who: AgentActor
) -> dict[str, Any]:
    """Consult another agent while the caller holds (then complete the transfer, conference or cancel)."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.ConsultAgent(contact_id, agent_id, body.to_agent))


# -- supervisors ---------------------------------------------------------------------------


@router.post("/v1/supervisor/agents/{agent_id}/force-ready")
async def force_ready(request: Request, agent_id: Name, who: Supervisor) -> dict[str, Any]:
    """A supervisor makes an agent of its team ready."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.SetAgentReady(agent_id))


@router.post("/v1/supervisor/agents/{agent_id}/force-not-ready")
async def force_not_ready(
    request: Request, agent_id: Name, body: NotReady, who: Supervisor
) -> dict[str, Any]:
    """A supervisor makes an agent of its team not ready, with a reason."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.SetAgentNotReady(agent_id, body.reason))


@router.post("/v1/supervisor/agents/{agent_id}/force-logout")
async def force_logout(request: Request, agent_id: Name, who: Supervisor) -> dict[str, Any]:
    """A supervisor logs an agent of its team out (409 while it handles a contact)."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.LogOutAgent(agent_id))


@router.put("/v1/supervisor/agents/{agent_id}/queues")
async def move_agent(request: Request, agent_id: Name, body: Queues, who: Supervisor) -> dict[str, Any]:
    """Move an agent of the supervisor's team between queues: the queues it serves at tier 0."""
    check_agent(request, who, agent_id)
    return await send(request, who, c.SetAgentQueues(agent_id, tuple(body.queues)))


def _check_contact(request: Request, who: Principal, contact_id: str) -> None:
    agent_id = contact_agent(request, who.tenant, contact_id)
    if not agent_id:
        raise HTTPException(
            409, {"code": "contact_not_connected", "reason": f"no agent has {contact_id!r} now"}
        )
    check_agent(request, who, agent_id)


@router.post("/v1/supervisor/contacts/{contact_id}/monitor")
async def monitor(request: Request, contact_id: Name, body: Monitor, who: Supervisor) -> dict[str, Any]:
    """Listen to (monitor), talk to the agent only (whisper) or join (barge) a call of the team."""
    _check_contact(request, who, contact_id)
    return await send(request, who, c.MonitorContact(contact_id, who.subject, body.mode))


@router.post("/v1/supervisor/contacts/{contact_id}/stop-monitoring")
async def stop_monitoring(request: Request, contact_id: Name, who: Supervisor) -> dict[str, Any]:
    """The supervisor leaves the call."""
    return await send(request, who, c.StopMonitoring(contact_id, who.subject))


# -- configuration -------------------------------------------------------------------------


def body_model(cls: type, *taken: str) -> type[BaseModel]:
    """A request body for a command: its fields but those `taken` from the path or the
    principal; unknown fields are refused (422 naming them)."""
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in taken:
            continue
        default = f.default if f.default is not MISSING else ...
        spec[f.name] = (hints[f.name], default)
    return create_model(f"{cls.__name__}Body", __config__=ConfigDict(extra="forbid"), **spec)


def _config_route(kind: str, cls: type, id_field: str) -> None:
    model = body_model(cls, id_field)

    async def endpoint(request: Request, item_id: Name, body: model, who: Admin) -> dict[str, Any]:  # type: ignore[valid-type]
        values: dict[str, Any] = dict(
            body
        )  # the validated field values as they are (nested dataclasses kept)
        return await send(request, who, cls(**{id_field: item_id, **values}))

    endpoint.__annotations__["body"] = model  # a local class: resolve it here, not by name
    endpoint.__doc__ = f"Create or change a {kind[:-1]}: {(cls.__doc__ or '').splitlines()[0]}"
    endpoint.__name__ = f"define_{kind}"
    router.put(f"/v1/config/{kind}/{{item_id}}", name=f"define_{kind}")(endpoint)


CONFIG_KINDS: dict[str, tuple[type, str]] = {
    "queues": (c.DefineQueue, "queue_id"),
    "agents": (c.DefineAgent, "agent_id"),
    "skills": (c.DefineSkill, "skill_id"),
    "schedules": (c.DefineSchedule, "schedule_id"),
    "dispositions": (c.DefineDisposition, "code"),
}

for _kind, (_cls, _id) in CONFIG_KINDS.items():
    _config_route(_kind, _cls, _id)
