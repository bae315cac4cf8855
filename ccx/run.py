"""`ccx run NAME`: one processor (or the warehouse sink) in its own process, exactly-once.

The production layout runs each as a separate process (scaled by partitions on Kafka);
on the embedded log it is also how a runner is restarted after a crash. Progress counts go
to stderr every few seconds; SIGTERM or Ctrl-C stops it after the current batch.
"""

from __future__ import annotations

import signal
import sys
import threading

from analytics.sink import WarehouseSink
from analytics.warehouse import open_warehouse
from ccx.bootstrap import build_processors, open_log
from ccx.settings import Settings
from streams.runner import Runner

__all__ = ["NAMES", "run_one"]

NAMES = ("acd", "cdr", "stats", "sink")


def run_one(settings: Settings, name: str, *, until_idle: bool, batch_size: int) -> int:
    """Run `name` until stopped (or until nothing is left, with `until_idle`); records handled."""
    log, serde = open_log(settings)
    warehouse = None
    try:
        if name == "sink":
            warehouse = open_warehouse(settings.warehouse, owner_info={"command": "ccx run sink"})
            runner = Runner(WarehouseSink(warehouse), log, serde, batch_size=batch_size)
        else:
            runner = Runner(build_processors()[name], log, serde, batch_size=batch_size)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker = threading.Thread(
            target=runner.run_until_idle if until_idle else runner.run_forever,
            args=() if until_idle else (stop,),
            daemon=True,
        )
        worker.start()
        while worker.is_alive():
            worker.join(timeout=5)
            print(
                f"{name}: {runner.handled} handled, {runner.outputs} out, {runner.dead_letters} dead letters",
                file=sys.stderr,
                flush=True,
            )
        runner.close()
        return runner.handled
    finally:
        if warehouse is not None:
            warehouse.close()
        log.close()
