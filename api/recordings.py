"""`GET /v1/recordings`: search the recording catalog by contact, agent and time.

The composition root puts a callable returning the catalog's state (and the tenant) on
`app.state.recordings` (`RecordingsSource`); without one the route answers 503.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from processors.recording_catalog import CatalogState, search

__all__ = ["RecordingsSource", "parse_time", "router"]

RecordingsSource = tuple[Callable[[], CatalogState], str]
"""(the catalog's current state, the tenant served)."""

router = APIRouter(tags=["recordings"])


def parse_time(value: str, name: str) -> int:
    """Epoch ms or an ISO 8601 time (a zone, else UTC) as epoch ms; ValueError names `name`."""
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is neither epoch ms nor an ISO time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000)


def _error(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error"}])


@router.get("/v1/recordings")
def list_recordings(
    request: Request,
    contact_id: str | None = None,
    agent_id: str | None = None,
    start: Annotated[str | None, Query(alias="from", description="ISO time or epoch ms")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO time or epoch ms, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Recordings by contact, agent and start time, newest first."""
    source: RecordingsSource | None = getattr(request.app.state, "recordings", None)
    if source is None:
        raise HTTPException(503, "this API serves no recording catalog")
    bounds: dict[str, int | None] = {}
    for field, value in (("from", start), ("to", end)):
        try:
            bounds[field] = None if value is None else parse_time(value, field)
        except ValueError as e:
            raise _error(field, str(e)) from None
    if bounds["from"] is not None and bounds["to"] is not None and bounds["to"] <= bounds["from"]:
        raise _error("to", "to must be after from")
    state, tenant = source[0](), source[1]
    found = search(state, tenant, contact_id, agent_id, bounds["from"], bounds["to"], limit)
    return {"recordings": [dataclasses.asdict(e) for e in found], "count": len(found)}
