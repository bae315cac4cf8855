"""`ccx up` as a user starts it: one process with the real-time simulator, the API and the
wallboard; checked over real HTTP and WebSocket on loopback. Also checks that a second
command pointed at the same directory is told who owns the warehouse."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.helpers.tokens import bearer, issue

pytestmark = pytest.mark.slow

AUTH: dict[str, str] = {}
"""A supervisor's bearer header for the module's server."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str) -> None:
    """`ccx is up` is printed just before the server binds: wait until it answers."""
    for _ in range(200):
        try:
            httpx.get(base + "/v1/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base} never answered")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    data = tmp_path_factory.mktemp("up")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ccx.cli",
            "up",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--rate",
            "3600/h",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "ccx is up" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
    base = f"http://127.0.0.1:{port}"
    assert base + "/" in line
    wait_healthy(base)
    AUTH.update(bearer(issue(data)))
    yield base, data, proc
    proc.terminate()
    proc.wait(timeout=20)


def test_live_queues_show_agents_and_traffic(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    base = server[0]
    deadline = time.time() + 30
    doc: dict = {}
    while time.time() < deadline:
        doc = httpx.get(base + "/v1/queues/live", timeout=5, headers=AUTH).json()
        if doc["queues"] and sum(q["offered"] + q["waiting"] for q in doc["queues"]) > 0:
            break
        time.sleep(0.5)
    assert len(doc["queues"]) == 2
    assert sum(sum(q["agents"].values()) for q in doc["queues"]) >= 20
    assert sum(q["offered"] + q["waiting"] for q in doc["queues"]) > 0, doc
    assert abs(doc["as_of"] / 1000 - time.time()) < 5


def test_wallboard_page_and_stream(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    base = server[0]
    page = httpx.get(base + "/", timeout=5)
    assert page.status_code == 200 and "/v1/stream/wallboard" in page.text
    with connect(
        base.replace("http", "ws") + "/v1/stream/wallboard?token=" + AUTH["Authorization"][7:], open_timeout=5
    ) as ws:
        first = json.loads(ws.recv(timeout=5))
        second = json.loads(ws.recv(timeout=5))
    assert first["queues"] and "series" in first
    assert second["as_of"] > first["as_of"]


def test_unknown_queue_series_is_a_404_naming_it(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    r = httpx.get(server[0] + "/v1/queues/nope/series", timeout=5, headers=AUTH)
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_a_second_process_is_told_who_owns_the_warehouse(
    server: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    base, data, proc = server
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "report", "queue-intervals", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"pid {proc.pid}" in done.stderr and "ccx up" in done.stderr and base in done.stderr


def test_the_owning_process_serves_reports(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    base = server[0]
    r = httpx.get(base + "/v1/reports/queue-intervals", params={"format": "csv"}, timeout=30, headers=AUTH)
    assert r.status_code == 200 and r.text.startswith("tenant,queue_id,interval_start,offered")
    bad = httpx.get(
        base + "/v1/reports/queue-intervals", params={"interval": "soon"}, timeout=30, headers=AUTH
    )
    assert bad.status_code == 422 and "interval" in bad.text
    unknown = httpx.get(base + "/v1/reports/nope", timeout=30, headers=AUTH)
    assert unknown.status_code == 422


def test_ccx_api_serves_the_live_view_of_an_existing_log(tmp_path: Path) -> None:
    sim = subprocess.run(
        [sys.executable, "-m", "ccx.cli", "simulate", "--data-dir", str(tmp_path), "--duration", "10m"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert sim.returncode == 0, sim.stderr
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccx.cli", "api", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None and "ccx is up" in proc.stdout.readline()
        wait_healthy(f"http://127.0.0.1:{port}")
        auth = bearer(issue(tmp_path, "analyst"))
        assert httpx.get(f"http://127.0.0.1:{port}/v1/queues/live", timeout=10).status_code == 401
        doc = httpx.get(f"http://127.0.0.1:{port}/v1/queues/live", timeout=10, headers=auth).json()
        assert len(doc["queues"]) == 2
        reports = httpx.get(f"http://127.0.0.1:{port}/v1/reports/queue-intervals", timeout=10, headers=auth)
        assert reports.status_code == 503
    finally:
        proc.terminate()
        proc.wait(timeout=20)
