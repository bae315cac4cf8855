"""The FastAPI application: `/v1` JSON queries, the live WebSocket stream, and the wallboard.

Built by `create_app(live)`; the composition root (`ccx/`) gives it the live view. Routes
only read: commands arrive through later routers (agent desktop, supervisor, admin).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from api.customers import router as customers_router
from api.kb import router as kb_router
from api.live import LiveView
from api.recordings import router as recordings_router
from api.trunks import router as trunks_router

__all__ = ["create_app"]

PUSH_INTERVAL_S = 0.25
"""How often the wallboard stream checks for a change; staleness stays well under 1 s."""


ReportRunner = Callable[..., str | bytes]
"""(name, fmt=, tenant=, start=, end=, interval=, sl_threshold_s=, short_abandon_s=,
sl_variant=, by=, timezone=, fcr_window_h=) -> the rendered report (bytes for parquet);
ValueError names a bad option."""


def create_app(live: LiveView, reports: ReportRunner | None = None) -> FastAPI:
    app = FastAPI(
        title="ccx",
        version="0.1.0",
        description="Event-sourced contact center: live queue statistics and the wallboard.",
    )

    app.include_router(recordings_router)  # serves app.state.recordings when the root attaches it
    app.include_router(trunks_router)  # serves app.state.trunks when the root attaches it
    app.include_router(kb_router)  # serves app.state.kb when the root attaches it
    app.include_router(customers_router)  # serves app.state.customers when the root attaches it

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        """Liveness: the API answers."""
        return {"status": "ok"}

    @app.get("/v1/queues/live")
    def queues_live() -> dict[str, Any]:
        """Every queue now: waiting, longest wait, agents by state and the current interval's metrics."""
        return live.queues()

    @app.get("/v1/queues/{queue_id}/series")
    def queue_series(queue_id: str) -> list[dict[str, Any]]:
        """Today's 15-minute intervals of one queue (offered, answered, SL, ...), oldest first."""
        known = {q["queue_id"] for q in live.queues()["queues"]}
        if queue_id not in known:
            raise HTTPException(404, f"unknown queue {queue_id!r}; known: {', '.join(sorted(known))}")
        return live.series(queue_id)

    @app.get("/v1/reports/{name}")
    def report(
        name: str,
        format: Literal["csv", "json", "jsonl", "table", "parquet"] = "json",
        tenant: str | None = None,
        start: Annotated[str | None, Query(alias="from", description="ISO time or epoch ms")] = None,
        end: Annotated[str | None, Query(alias="to", description="ISO time or epoch ms, exclusive")] = None,
        interval: Annotated[str | None, Query(pattern=r"^\d+[smhd]$", description="15m, 30m, 1h, 1d")] = None,
        sl_threshold_s: Annotated[int | None, Query(ge=0, le=86_400)] = None,
        short_abandon_s: Annotated[int | None, Query(ge=0, le=86_400)] = None,
        sl_variant: Literal["abandons_ignored", "abandons_against", "abandons_for", "answered_only"]
        | None = None,
        by: Literal["hour", "weekday"] | None = None,
        timezone: Annotated[str | None, Query(description="IANA zone, e.g. Europe/Berlin")] = None,
        fcr_window_h: Annotated[int | None, Query(ge=1, le=24 * 366)] = None,
    ) -> Response:
        """A warehouse report by name (`ccx reports` lists them); options a report does not
        take are refused with 422. The process serving the API owns the embedded warehouse."""
        if reports is None:
            raise HTTPException(503, "this API has no warehouse attached")
        try:
            body = reports(
                name,
                fmt=format,
                tenant=tenant,
                start=start,
                end=end,
                interval=interval,
                sl_threshold_s=sl_threshold_s,
                short_abandon_s=short_abandon_s,
                sl_variant=sl_variant,
                by=by,
                timezone=timezone,
                fcr_window_h=fcr_window_h,
            )
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        media = {
            "csv": "text/csv",
            "json": "application/json",
            "jsonl": "application/x-ndjson",
            "parquet": "application/octet-stream",
        }.get(format, "text/plain")
        if isinstance(body, bytes):
            headers = {"Content-Disposition": f'attachment; filename="{name}.{format}"'}
            return Response(body, media_type=media, headers=headers)
        return PlainTextResponse(body, media_type=media)

    @app.websocket("/v1/stream/wallboard")
    async def wallboard_stream(ws: WebSocket) -> None:
        """Pushes the live queues document whenever it changes (and at least once a second)."""
        await ws.accept()
        last = ""
        idle = 0.0
        try:
            while True:
                doc = live.queues()
                body = json.dumps({**doc, "as_of": 0})
                if body != last or idle >= 1.0:
                    doc["series"] = {q["queue_id"]: live.series(q["queue_id"]) for q in doc["queues"]}
                    await ws.send_text(json.dumps(doc))
                    last, idle = body, 0.0
                await asyncio.sleep(PUSH_INTERVAL_S)
                idle += PUSH_INTERVAL_S
        except WebSocketDisconnect:
            return

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def wallboard() -> str:
        return resources.files("api").joinpath("static/wallboard.html").read_text()

    return app
