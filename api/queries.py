"""`/v1` queries of routing state: who am I, agents now, the configuration in force, a
contact's timeline, and the WebSocket of one agent's own state and offers.

They read the ACD's current state (`app.state.acd`, a callable the composition root
attaches) through the pure views below, and only the caller's tenant. Agents see the
board but the per-agent stream only of themselves; supervisors of their teams.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect

from api.auth import READERS, Principal, authorize_agent, current, require, websocket_principal
from api.commands import Name, agent_team
from processors.acd_state import Agent, TenantState

__all__ = ["agent_view", "config_view", "router"]

router = APIRouter(tags=["queries"])

Reader = Annotated[Principal, Depends(require(*READERS))]
Auditor = Annotated[Principal, Depends(require("auditor", "supervisor", "admin"))]

AGENT_PUSH_INTERVAL_S = 0.1


def _tenant(request: Request | WebSocket, tenant: str) -> TenantState:
    source: Callable[[], Any] | None = getattr(request.app.state, "acd", None)
    if source is None:
        raise HTTPException(503, "this API process holds no routing state (run `ccx up`)")
    return source().tenant(tenant)  # type: ignore[no-any-return]


def _contact_phase(t: TenantState, contact_id: str, agent_id: str, work_phase: str) -> tuple[str, str]:
    """(phase, role) of a contact for one agent. Phases: offered, connected, held,
    consulting (the caller holds while its agent talks to a consulted one), conference,
    wrap_up; roles: "caller" (this agent has the caller), "consulted", "conference"."""
    contact = t.contacts.get(contact_id)
    if work_phase == "wrap_up" or (contact is not None and contact.wrap_of(agent_id) is not None):
        return "wrap_up", "caller"
    if contact is None:
        return ("offered" if work_phase == "reserved" else work_phase), "caller"
    if contact.consult_to == agent_id:
        return ("offered" if contact.consult == "offered" else "consulting"), "consulted"
    if agent_id in contact.others:
        return "conference", "conference"
    if work_phase == "reserved":
        return "offered", "caller"
    if contact.consult_to:
        return "consulting", "caller"
    if contact.others:
        return "conference", "caller"
    return contact.phase, "caller"


def agent_view(t: TenantState, agent: Agent, now_ms: int) -> dict[str, Any]:
    """One agent as desktops and boards show it: state, presence, and the contacts in hand."""
    contacts = []
    for w in agent.work:
        contact = t.contacts.get(w.contact_id)
        phase, role = _contact_phase(t, w.contact_id, agent.agent_id, w.phase)
        contacts.append(
            {
                "contact_id": w.contact_id,
                "channel": w.channel,
                "phase": phase,
                "role": role,
                "with_caller": contact.agent_id if contact else "",
                "consult_to": contact.consult_to if contact else "",
                "conference": [contact.agent_id, *contact.others] if contact and contact.others else [],
                "queue_id": contact.queue_id if contact else "",
                "ani": contact.ani if contact else "",
                "since": contact.entered_at if contact else 0,
            }
        )
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "team": str(getattr(agent, "team", "")),
        "queues": list(agent.queues),
        "state": agent.state,
        "presence": agent.presence,
        "reason": agent.reason,
        "since": agent.since,
        "for_s": max(0.0, (now_ms - agent.since) / 1000) if agent.since else 0.0,
        "contacts": contacts,
    }


def _plain(value: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def config_view(t: TenantState) -> dict[str, Any]:
    """The configuration in force: queues, agents, skills, schedules, dispositions."""
    agents = [
        {
            "agent_id": a.agent_id,
            "name": a.name,
            "team": str(getattr(a, "team", "")),
            "queues": list(a.queues),
            "memberships": [_plain(m) for m in a.memberships.values()],
            "skills": [{"skill": k, "level": v} for k, v in sorted(a.skills.items())],
            "capacity": [{"channel": k, "max": v} for k, v in sorted(a.capacity.items())],
        }
        for a in sorted(t.agents.values(), key=lambda a: a.agent_id)
    ]
    dispositions = getattr(t, "dispositions", None)
    return {
        "queues": [_plain(t.queues[q]) for q in sorted(t.queues)],
        "agents": agents,
        "skills": [{"skill_id": s, "name": t.skills[s]} for s in sorted(t.skills)],
        "schedules": [_plain(t.schedules[s]) for s in sorted(t.schedules)],
        "dispositions": [_plain(dispositions[d]) for d in sorted(dispositions)] if dispositions else [],
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


@router.get("/v1/me")
def me(who: Annotated[Principal, Depends(current)]) -> dict[str, object]:
    """The principal of the token: subject, role, tenant, agent and teams."""
    return who.as_json()


@router.get("/v1/agents/live")
def agents_live(request: Request, who: Reader) -> dict[str, Any]:
    """Every agent of the tenant now: state, presence, reason, time in state, contacts."""
    t = _tenant(request, who.tenant)
    now = _now_ms()
    agents = [agent_view(t, a, now) for a in sorted(t.agents.values(), key=lambda a: a.agent_id)]
    return {"tenant": who.tenant, "as_of": now, "agents": agents}


def _one_agent(request: Request | WebSocket, who: Principal, agent_id: str) -> dict[str, Any]:
    t = _tenant(request, who.tenant)
    agent = t.agents.get(agent_id)
    if agent is None:
        raise HTTPException(404, f"unknown agent {agent_id!r} in tenant {who.tenant!r}")
    return {"tenant": who.tenant, "as_of": _now_ms(), **agent_view(t, agent, _now_ms())}


@router.get("/v1/agents/{agent_id}/live")
def agent_live(request: Request, agent_id: Name, who: Reader) -> dict[str, Any]:
    """One agent now, with the contacts offered to it or in its hands."""
    if who.role in ("agent", "supervisor"):
        authorize_agent(who, agent_id, agent_team(request, who.tenant, agent_id))
    return _one_agent(request, who, agent_id)


@router.get("/v1/config")
def config(request: Request, who: Reader) -> dict[str, Any]:
    """The routing configuration in force (what `PUT /v1/config/...` changes)."""
    return config_view(_tenant(request, who.tenant))


@router.get("/v1/contacts/{contact_id}/timeline")
def timeline(request: Request, contact_id: Name, who: Auditor) -> dict[str, Any]:
    """The contact's story: each command and the events it caused, with the ACD's reasons."""
    source: Callable[[str, str], list[dict[str, Any]]] | None = getattr(request.app.state, "timeline", None)
    if source is None:
        raise HTTPException(503, "this API process reads no log")
    steps = source(who.tenant, contact_id)
    if not steps:
        raise HTTPException(404, f"no commands or events about contact {contact_id!r}")
    return {"contact_id": contact_id, "steps": json.loads(json.dumps(steps, default=str))}


@router.websocket("/v1/stream/agent/{agent_id}")
async def agent_stream(ws: WebSocket, agent_id: str) -> None:
    """Pushes `GET /v1/agents/{agent_id}/live` whenever it changes (and at least once a second)."""
    try:
        who = websocket_principal(ws)
        if who.role in ("agent", "supervisor"):
            authorize_agent(who, agent_id, agent_team(ws, who.tenant, agent_id))
    except HTTPException as e:
        await ws.close(code=4401 if e.status_code == 401 else 4403, reason=str(e.detail)[:120])
        return
    await ws.accept()
    last, idle = "", 0.0
    try:
        while True:
            try:
                doc = _one_agent(ws, who, agent_id)
            except HTTPException as e:
                doc = {"agent_id": agent_id, "error": e.detail}
            body = json.dumps({k: v for k, v in doc.items() if k not in ("as_of", "for_s")})
            if body != last or idle >= 1.0:
                await ws.send_text(json.dumps(doc))
                last, idle = body, 0.0
            await asyncio.sleep(AGENT_PUSH_INTERVAL_S)
            idle += AGENT_PUSH_INTERVAL_S
    except WebSocketDisconnect:
        return
