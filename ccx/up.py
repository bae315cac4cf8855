"""`ccx up`: everything in one process on the embedded default.

The embedded log, the ACD / CDR / live-stats runners and the warehouse sink each in a
thread, the real-time simulator feeding traffic, and the API with the wallboard on the
main thread. This process owns the chDB warehouse directory while it runs (one process
per chDB directory); other commands pointed at it are told so, with the API's URL.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import uvicorn

from analytics.warehouse import shareable
from api.app import create_app
from api.gateway import CommandGateway
from api.live import LiveView
from api.tickets import TicketsView
from ccx.bootstrap import CRM_RUNNERS, RUNNERS, build_processors, crm_processors, open_pipeline
from ccx.customers import erase_customer
from ccx.demo_crm import demo_crm_commands
from ccx.driver import SimulationDriver
from ccx.kb import index_source
from ccx.reports import render_report
from ccx.settings import Settings
from ccx.timeline import tenant_timeline
from ccx.tokens import demo_tokens, desk_agent_ids, token_store
from processors.decider import Processor
from schemas.commands import DefineAgent, DefineDisposition
from schemas.envelope import Envelope, Message
from streams import topics
from telephony.simulator import SimConfig, Simulator

__all__ = ["serve"]

log = logging.getLogger("ccx.up")


class _Server(uvicorn.Server):
    """uvicorn, but a SIGTERM / Ctrl-C only ends `run()`: uvicorn re-raises the signal after
    its graceful shutdown, which would kill the process before `serve` stops the runners
    and closes the log (exit status 0 is what a container supervisor expects)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def desk_setup(config: SimConfig, tenant: str, at_ms: int, desks: list[str]) -> list[Message[Any]]:
    """The commands that define the simulation's dispositions (the wrap-up codes desk agents
    choose from) and the desk agents (humans at the browser, team "desk") in every queue."""
    queues = tuple(q.queue_id for q in config.queue_specs)
    bodies: list[object] = [
        DefineDisposition(code, code.replace("_", " ").capitalize()) for code, _weight in config.dispositions
    ]
    bodies += [DefineAgent(agent_id, f"Desk {agent_id[4:]}", queues, team="desk") for agent_id in desks]
    return [
        Message(Envelope(f"ccx-up:{tenant}:{at_ms}:{i}", tenant, at_ms, tenant, None, "system:ccx-up"), body)
        for i, body in enumerate(bodies)
    ]


def serve(
    settings: Settings,
    config: SimConfig | None,
    *,
    host: str,
    port: int,
    seed: int = 0,
    runners: tuple[str, ...] = (*RUNNERS, *CRM_RUNNERS),
    processors: Mapping[str, Processor[Any]] | None = None,
    desk_agents: int = 0,
) -> None:
    """Serve the API with the given runners in threads; with a `config`, also simulate traffic.

    `ccx up` runs every runner and the simulator; `ccx api` runs only a live-stats
    projection of its own (given in `processors`) and, when the warehouse is a server,
    answers reports too. Both append commands (`api.gateway`) and check tokens against the
    data directory's token store. `desk_agents` human agents (desk01, ...) are defined in
    every simulated queue, logged out, with demo tokens printed for them.
    """
    url = f"http://{host}:{port}/"
    if processors is None:
        processors = {**build_processors(), **crm_processors(settings)}
    pipeline = open_pipeline(
        settings,
        owner_info={"command": "ccx up" if config else "ccx api", "api_url": url},
        runners=runners,
        processors=processors,
        with_warehouse="sink" in runners or shareable(settings.warehouse),
    )
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def spawn(name: str, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        threads.append(t)

    pipeline.run_until_idle()  # catch up on what an earlier session left, before serving
    for name, runner in pipeline.runners.items():
        spawn(f"runner-{name}", runner.run_forever, stop, 0.05)
    desks = desk_agent_ids(desk_agents if config is not None else 0)
    if config is not None:
        start_ms = int(time.time() * 1000)
        simulator = Simulator(config, seed, start_ms)
        driver = SimulationDriver(pipeline, simulator, settings.tenant, start_ms)
        then = desk_setup(config, settings.tenant, start_ms, desks)
        if "customers" in pipeline.runners and not any(pipeline.log.end_offsets(topics.CUSTOMER_EVENTS.name)):
            # a fresh demo: profiles for the simulated repeat callers, some tickets, the KB
            then += demo_crm_commands(simulator.repeat_callers(), settings.tenant, start_ms)
        spawn("simulator", driver.run_realtime, stop, time.time, then)

    warehouse = pipeline.warehouse
    app = create_app(
        LiveView(state=lambda: pipeline.stats.state, tenant=settings.tenant),
        reports=functools.partial(render_report, warehouse) if warehouse is not None else None,
    )
    tokens = token_store(settings)
    app.state.tokens = tokens
    gateway = CommandGateway(pipeline.log, pipeline.serde)
    app.state.gateway = gateway
    if "acd" in pipeline.runners:  # routing state for scope checks and the agent views
        acd = pipeline.runners["acd"]
        app.state.acd = lambda: acd.state
    app.state.timeline = functools.partial(tenant_timeline, settings)
    app.state.erase = functools.partial(erase_customer, settings)  # DELETE /v1/customers/{id}
    if "recording-catalog" in pipeline.runners:  # opt-in: GET /v1/recordings
        app.state.recordings = (lambda: pipeline.runners["recording-catalog"].state, settings.tenant)
    if "kb-search" in pipeline.runners:  # opt-in: GET /v1/kb/search
        app.state.kb = index_source(lambda: pipeline.runners["kb-search"].state, settings.tenant)
    if "customer-directory" in pipeline.runners:  # opt-in: GET /v1/customers/screen-pop
        app.state.customers = (
            lambda: pipeline.runners["customer-directory"].state,
            settings.tenant,
            settings.region,
        )
    if "tickets" in pipeline.runners:  # GET /v1/tickets, open tickets in the screen pop
        tickets = pipeline.runners["tickets"]
        app.state.tickets = TicketsView(lambda: tickets.state, settings.tenant)
    if "trunks" in pipeline.runners:  # GET /v1/trunks/live
        trunks = pipeline.runners["trunks"]
        app.state.trunks = (lambda: trunks.state, settings.tenant, dict(settings.trunk_capacity))
    print(f"ccx is up: wallboard {url}  (API {url}docs, data in {settings.data_dir})", flush=True)
    demo = demo_tokens(tokens, settings.tenant, desks)
    print(f"  wallboard  {url}#token={demo['demo-supervisor']}", flush=True)
    print(f"  admin      {url}admin#token={demo['demo-admin']}", flush=True)
    for agent_id in desks:
        print(f"  desktop    {url}desktop#token={demo[agent_id]}  ({agent_id})", flush=True)
    try:
        _Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        gateway.close()
        tokens.close()
        pipeline.close()
