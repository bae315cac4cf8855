"""`GET /v1/trunks/live`: channels in use per trunk, today's peaks, IVR ports busy.

The composition root puts the trunk monitor's state, the tenant and the configured trunk
capacities on `app.state.trunks` (`TrunksSource`); without them the route answers 503.
The document is `processors.trunk_stats.trunk_view` plus `as_of` (the API's clock, ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from processors.trunk_stats import TrunkState, trunk_view

__all__ = ["TrunksSource", "router"]

TrunksSource = tuple[Callable[[], TrunkState], str, Mapping[str, int]]
"""(the trunk monitor's current state, the tenant served, channels per trunk)."""

router = APIRouter(tags=["trunks"])


@router.get("/v1/trunks/live")
def trunks_live(request: Request) -> dict[str, Any]:
    """Channels in use per trunk now, today's peaks, IVR ports busy and the Erlang B hint."""
    source: TrunksSource | None = getattr(request.app.state, "trunks", None)
    if source is None:
        raise HTTPException(503, "this API runs no trunk monitor")
    state, tenant, capacity = source
    return {"as_of": int(time.time() * 1000), **trunk_view(state(), tenant, capacity)}
