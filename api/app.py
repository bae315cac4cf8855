"""The FastAPI application: `/v1` JSON queries, the live WebSocket stream, and the wallboard.

Built by `create_app(live)`; the composition root (`ccx/`) gives it the live view and
attaches the rest on `app.state`: `tokens` (the `api.auth.TokenStore`; without one every
request acts as a local admin, which only tests and embeddings behind another gateway
want), `gateway` (commands, `api.commands`), `acd` (routing state, `api.queries`) and the
read models of the optional runners. Every `/v1` route but health needs a token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from api.auth import READERS, Principal, require, websocket_principal
from api.commands import router as commands_router
from api.crm_commands import router as crm_commands_router
from api.customers import router as customers_router
from api.kb import router as kb_router
from api.live import LiveView
from api.queries import router as queries_router
from api.recordings import router as recordings_router
from api.tickets import router as tickets_router
from api.trunks import router as trunks_router

__all__ = ["create_app"]

PUSH_INTERVAL_S = 0.25
"""How often the wallboard stream checks for a change; staleness stays well under 1 s."""


Reader = Annotated[Principal, Depends(require(*READERS))]
Analyst = Annotated[Principal, Depends(require("analyst", "supervisor", "auditor", "admin"))]

ReportRunner = Callable[..., str | bytes]
"""(name, fmt=, tenant=, start=, end=, interval=, sl_threshold_s=, short_abandon_s=,
sl_variant=, by=, timezone=, fcr_window_h=) -> the rendered report (bytes for parquet);
ValueError names a bad option."""


class WallboardFeed:
    """The wallboard document, built at most once per half push interval and shared by every
    client of the stream: the cost of a tick does not grow with the number of wallboards.
    `current()` gives (change key, text): the key leaves out `as_of`, so a client pushes when
    something changed (or a second has passed)."""

    def __init__(self, live: LiveView, clock: Callable[[], float] = time.monotonic) -> None:
        self._live = live
        self._clock = clock
        self._at = float("-inf")
        self._key = ""
        self._text = ""

    def current(self) -> tuple[str, str]:
        now = self._clock()
        if now - self._at >= PUSH_INTERVAL_S / 2:
            doc = self._live.queues()
            self._key = json.dumps({**doc, "as_of": 0})
            doc["series"] = {q["queue_id"]: self._live.series(q["queue_id"]) for q in doc["queues"]}
            self._text = json.dumps(doc)
            self._at = now
        return self._key, self._text


def create_app(live: LiveView, reports: ReportRunner | None = None) -> FastAPI:
    app = FastAPI(
        title="ccx",
        version="0.1.0",
        description="Event-sourced contact center: live queue statistics and the wallboard.",
    )

    app.state.tenant = live.tenant if live is not None else "demo"
    readers = [Depends(require(*READERS))]
    app.include_router(commands_router)  # needs app.state.gateway (and .acd for scope checks)
    app.include_router(queries_router)  # needs app.state.acd (and .timeline)
    app.include_router(crm_commands_router)  # tickets, customers, KB: needs app.state.gateway
    app.include_router(recordings_router, dependencies=readers)  # app.state.recordings when attached
    app.include_router(trunks_router, dependencies=readers)  # app.state.trunks when attached
    app.include_router(kb_router, dependencies=readers)  # app.state.kb when attached
    app.include_router(customers_router, dependencies=readers)  # app.state.customers when attached
    app.include_router(tickets_router, dependencies=readers)  # app.state.tickets when attached

    feed = WallboardFeed(live)

    def own_tenant(who: Principal) -> None:
        if who.tenant != live.tenant:
            raise HTTPException(
                403, f"this API serves tenant {live.tenant!r}; your token is for {who.tenant!r}"
            )

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        """Liveness: the API answers."""
        return {"status": "ok"}

    @app.get("/v1/queues/live")
    def queues_live(who: Reader) -> dict[str, Any]:
        """Every queue now: waiting, longest wait, agents by state and the current interval's metrics."""
        own_tenant(who)
        return live.queues()

    @app.get("/v1/queues/{queue_id}/series")
    def queue_series(queue_id: str, who: Reader) -> list[dict[str, Any]]:
        """Today's 15-minute intervals of one queue (offered, answered, SL, ...), oldest first."""
        own_tenant(who)
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
        *,
        who: Analyst,
    ) -> Response:
        """A warehouse report by name (`ccx reports` lists them); options a report does not
        take are refused with 422. The process serving the API owns the embedded warehouse."""
        if reports is None:
            raise HTTPException(503, "this API has no warehouse attached")
        try:
            if tenant not in (None, who.tenant):
                raise HTTPException(403, f"your token is for tenant {who.tenant!r}, not {tenant!r}")
            body = reports(
                name,
                fmt=format,
                tenant=who.tenant,
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
        """Pushes the live queues document whenever it changes (and at least once a second);
        the token comes as `?token=`."""
        try:
            own_tenant(websocket_principal(ws))
        except HTTPException as e:
            await ws.close(code=4401 if e.status_code == 401 else 4403, reason=str(e.detail)[:120])
            return
        await ws.accept()
        last = ""
        idle = 0.0
        try:
            while True:
                key, text = feed.current()
                if key != last or idle >= 1.0:
                    await ws.send_text(text)
                    last, idle = key, 0.0
                await asyncio.sleep(PUSH_INTERVAL_S)
                idle += PUSH_INTERVAL_S
        except WebSocketDisconnect:
            return

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def wallboard() -> str:
        return resources.files("api").joinpath("static/wallboard.html").read_text()

    @app.get("/desktop", response_class=HTMLResponse, include_in_schema=False)
    def desktop() -> str:
        return resources.files("api").joinpath("static/desktop.html").read_text()

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def admin() -> str:
        return resources.files("api").joinpath("static/admin.html").read_text()

    # The pages' shared and per-page JS/CSS (no build step; nothing fetched from elsewhere).
    static_dir = str(resources.files("api").joinpath("static"))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")

    return app
