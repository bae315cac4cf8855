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
from api.live import LiveView
from ccx.bootstrap import RUNNERS, open_pipeline
from ccx.driver import SimulationDriver
from ccx.kb import index_source
from ccx.reports import render_report
from ccx.settings import Settings
from processors.decider import Processor
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


def serve(
    settings: Settings,
    config: SimConfig | None,
    *,
    host: str,
    port: int,
    seed: int = 0,
    runners: tuple[str, ...] = RUNNERS,
    processors: Mapping[str, Processor[Any]] | None = None,
) -> None:
    """Serve the API with the given runners in threads; with a `config`, also simulate traffic.

    `ccx up` runs every runner and the simulator; `ccx api` runs only a live-stats
    projection of its own (given in `processors`) and, when the warehouse is a server,
    answers reports too.
    """
    url = f"http://{host}:{port}/"
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
    if config is not None:
        start_ms = int(time.time() * 1000)
        driver = SimulationDriver(pipeline, Simulator(config, seed, start_ms), settings.tenant, start_ms)
        spawn("simulator", driver.run_realtime, stop)

    warehouse = pipeline.warehouse
    app = create_app(
        LiveView(state=lambda: pipeline.stats.state, tenant=settings.tenant),
        reports=functools.partial(render_report, warehouse) if warehouse is not None else None,
    )
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
    if "trunks" in pipeline.runners:  # GET /v1/trunks/live
        trunks = pipeline.runners["trunks"]
        app.state.trunks = (lambda: trunks.state, settings.tenant, dict(settings.trunk_capacity))
    print(f"ccx is up: wallboard {url}  (API {url}docs, data in {settings.data_dir})", flush=True)
    try:
        _Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        pipeline.close()
