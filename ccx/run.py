"""`ccx run NAME`: one processor (or the warehouse sink) in its own process, exactly-once.

The production layout (docker-compose.yml) runs each as a separate process, configured by
the CCX_* environment and scaled by partitions on Kafka; on the embedded log it is also
how a runner is restarted after a crash. The loop commits one batch per turn and beats a
heartbeat (`ccx.health`) after every turn, so a container health check sees a loop that
really goes round. Progress counts go to stderr every few seconds; SIGTERM or Ctrl-C stops
it after the current batch (exit 0); an error of the runner ends the process with it
(non-zero), after marking the heartbeat "failed".
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from analytics.sink import WarehouseSink
from analytics.warehouse import Warehouse, open_warehouse
from ccx.bootstrap import CRM_RUNNERS, RUNNERS, build_processors, crm_processors, open_log
from ccx.health import Heartbeat, heartbeat_path
from ccx.notify_webhook import notify_webhook_from_env
from ccx.queue_recorder import queue_recorder_processor
from ccx.settings import Settings
from ccx.switchboard import ivr_processor, switchboard_processor
from processors.decider import Processor
from streams.ports import EventLog
from streams.runner import Runner, Sink
from telephony.ivr.live import LiveIvr
from telephony.ivr.lookups import LookupEdge

__all__ = ["NAMES", "OPTIONAL", "run_one"]

OPTIONAL = ("switchboard", "ivr", "queue-recorder", *CRM_RUNNERS, "notify-webhook")
"""Runners `ccx run` offers beside `RUNNERS`, outside docker-compose's default services: the
switchboard and the IVR (ccx routes) and the queue recorder (the switch routes) only matter
with a switch (docs/telephony.md, docs/ivr.md); the CRM runners (`CRM_RUNNERS`: customers,
tickets, knowledge base; `ccx up` runs them) where the CRM side is used, and the notify
webhook (CCX_NOTIFY_WEBHOOK_URL) where customers are notified."""
NAMES = (*RUNNERS, *OPTIONAL)
PROGRESS_EVERY_S = 5.0
POLL_TIMEOUT_S = 0.5
"""How long an idle poll waits for new records (it returns as soon as some arrive)."""


def _progress(name: str, runner: Runner) -> None:
    print(
        f"{name}: {runner.handled} handled, {runner.outputs} out, {runner.dead_letters} dead letters",
        file=sys.stderr,
        flush=True,
    )


def _lookup_edge(log: EventLog, serde: Any) -> LookupEdge:
    """The IVR's lookup edge, appending its result facts to `log` (from its threads)."""

    def append(messages: list[Any]) -> None:
        log.append([serde.out(m) for m in messages])

    return LookupEdge(append)


def run_one(
    settings: Settings,
    name: str,
    *,
    until_idle: bool,
    batch_size: int,
    switchboard_config: str | None = None,
    queue_recorder_config: str | None = None,
) -> int:
    """Run `name` until stopped (or until nothing is left, with `until_idle`); records handled."""
    if name not in NAMES:
        raise ValueError(f"unknown runner {name!r}; choose one of {', '.join(NAMES)}")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    heartbeat = Heartbeat(heartbeat_path(settings, name), name)
    heartbeat.beat("starting", force=True)
    log: EventLog | None = None
    warehouse: Warehouse | None = None
    lookups: LookupEdge | None = None
    status = "failed"
    try:
        log, serde = open_log(settings)
        poll_timeout = 0.0 if until_idle else POLL_TIMEOUT_S
        target: Processor[Any] | Sink
        if name == "sink":
            warehouse = open_warehouse(settings.warehouse, owner_info={"command": "ccx run sink"})
            target = WarehouseSink(warehouse)
        elif name == "switchboard":
            target = switchboard_processor(settings, switchboard_config)
        elif name == "ivr":
            target = ivr_processor(settings, switchboard_config)
        elif name == "queue-recorder":
            target = queue_recorder_processor(settings, queue_recorder_config)
        elif name == "notify-webhook":
            target = notify_webhook_from_env()
        elif name in CRM_RUNNERS:  # docs/customers.md, docs/tickets.md, docs/knowledge-base.md
            target = crm_processors(settings)[name]
        else:
            target = build_processors()[name]
        if isinstance(target, LiveIvr):
            # the IVR's HTTP lookups run in this process: their URLs may hold sensitive digits
            lookups = _lookup_edge(log, serde)
        with Runner(target, log, serde, batch_size=batch_size, poll_timeout_s=poll_timeout) as runner:
            last_progress = time.monotonic()
            while not stop.is_set():
                handled = runner.run_once()
                if lookups is not None:
                    lookups.pump(target)
                heartbeat.beat(handled=runner.handled, outputs=runner.outputs, dead=runner.dead_letters)
                if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    _progress(name, runner)
                    last_progress = time.monotonic()
                if not handled and until_idle:
                    if lookups is None or not lookups.pending():
                        break
                    time.sleep(0.02)  # an IVR lookup still running: its result comes next
            _progress(name, runner)
            status = "stopped"
            return runner.handled
    finally:
        heartbeat.beat(status, force=True)
        if lookups is not None:
            lookups.close(wait=status == "stopped")
        if warehouse is not None:
            warehouse.close()
        if log is not None:
            log.close()
