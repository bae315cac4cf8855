"""Health of ccx processes for container health checks: `ccx run`'s heartbeat and the API's URL.

`ccx run NAME` beats a `Heartbeat` after every turn of its loop (a batch committed or an
idle poll answered), so the file `<data dir>/health/run-NAME-INSTANCE.json` is fresh only
while the runner really goes round; on a clean stop it is marked "stopped". The checks are
`python -m ccx.health run NAME` (fresh heartbeat of this data dir and CCX_INSTANCE, else
exit 1 saying why) and `python -m ccx.health http URL` (URL answers 2xx): python is all
the image has, no curl. docker-compose.yml uses both.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from ccx.settings import Settings

__all__ = ["Heartbeat", "check_http", "check_run", "heartbeat_path", "main"]

MAX_AGE_S = 30.0
"""A heartbeat older than this is unhealthy (a loop turn took longer or the loop is gone)."""


def heartbeat_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "health" / f"run-{name}-{settings.instance}.json"


class Heartbeat:
    """Writes the heartbeat file atomically, at most every `every_s` seconds (always on stop)."""

    def __init__(self, path: Path, name: str, every_s: float = 1.0) -> None:
        self.path, self.name, self.every_s = path, name, every_s
        self._last = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)

    def beat(self, status: str = "running", force: bool = False, **counters: int) -> None:
        now = time.time()
        if not force and now - self._last < self.every_s:
            return
        body = {"name": self.name, "pid": os.getpid(), "status": status, "at": now, **counters}
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body, sort_keys=True))
        os.replace(tmp, self.path)
        self._last = now


def check_run(path: Path, max_age_s: float = MAX_AGE_S, now: float | None = None) -> str | None:
    """None when the heartbeat at `path` is running and fresh, else what is wrong."""
    try:
        beat: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return f"no heartbeat at {path} (not started yet, or another data dir / CCX_INSTANCE)"
    except (OSError, ValueError) as e:
        return f"unreadable heartbeat {path}: {e}"
    age = (time.time() if now is None else now) - float(beat.get("at", 0))
    if beat.get("status") != "running":
        return f"{beat.get('name')} (pid {beat.get('pid')}) is {beat.get('status')}"
    if age > max_age_s:
        return f"{beat.get('name')} (pid {beat.get('pid')}): last heartbeat {age:.0f}s ago (> {max_age_s:g}s)"
    return None


def check_http(url: str, timeout_s: float = 5.0) -> str | None:
    """None when `url` answers 2xx within the timeout, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError) as e:
        return f"{url}: {e}"
    return None if 200 <= status < 300 else f"{url}: HTTP {status}"


def _exit(problem: str | None) -> None:
    if problem is not None:
        click.echo(f"unhealthy: {problem}", err=True)
        raise SystemExit(1)
    click.echo("healthy")


@click.group()
def main() -> None:
    """Health checks for containers: exit 0 when healthy, 1 saying why not."""


@main.command("run")
@click.argument("name")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="[env CCX_DATA_DIR]")
@click.option("--max-age", default=MAX_AGE_S, show_default=True, type=click.FloatRange(min=0.1))
def run_check(name: str, data_dir: str | None, max_age: float) -> None:
    """`ccx run NAME` of this data dir and CCX_INSTANCE beat within --max-age seconds."""
    _exit(check_run(heartbeat_path(Settings.from_env(data_dir=data_dir), name), max_age))


@main.command("http")
@click.argument("url")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1))
def http_check(url: str, timeout: float) -> None:
    """URL answers 2xx (e.g. the API's /v1/health)."""
    _exit(check_http(url, timeout))


if __name__ == "__main__":
    main()
