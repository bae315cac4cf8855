"""Browser tests' fixtures: the real `ccx up` on loopback with tokens from `ccx tokens issue`,
Debian's Chromium driven by Playwright (never a downloaded browser), pages signed in with a
role's token, and screenshots of each step as test artifacts.

Each test module skips itself, with the reason, when /usr/bin/chromium or the playwright
package is missing (`browser_env.require_browser`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_env import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESK,
    DESK2,
    DISPOSITIONS,
    QUIET_QUEUE,
    Server,
    require_browser,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ccx(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ccx.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"ccx {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1].strip()


def _wait_healthy(server: Server, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"ccx up exited: {server.log.read_text() if server.log else ''}"
        try:
            if httpx.get(server.base + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{server.base} never answered /v1/health")


def _define(server: Server, agent: dict[str, Any], queues: list[str]) -> None:
    """Redefines an agent (as `GET /v1/config` shows it) to serve only `queues`."""
    body = {k: agent[k] for k in ("name", "team", "skills", "capacity") if k in agent}
    server.ok(
        "admin",
        "PUT",
        f"/v1/config/agents/{agent['agent_id']}",
        {**body, "queues": queues, "memberships": []},
    )


def _wait_configured(server: Server) -> list[dict[str, Any]]:
    """The agents of `GET /v1/config` once `ccx up` has defined both desk agents (team
    "desk") and the simulation's dispositions (it does so right after it starts serving)."""
    deadline = time.monotonic() + 60
    while True:
        config = server.ok("admin", "GET", "/v1/config")
        desks = {a["agent_id"]: a for a in config["agents"] if a["agent_id"] in (DESK, DESK2)}
        codes = {d["code"] for d in config.get("dispositions", [])}
        if len(desks) == 2 and set(DISPOSITIONS) <= codes:
            assert all(a["team"] == "desk" for a in desks.values()), desks
            return list(config["agents"])
        assert time.monotonic() < deadline, f"ccx up never defined the desk agents and dispositions: {config}"
        time.sleep(0.2)


def _prepare(server: Server) -> None:
    """The simulated agents serve no queue any more (they finish the call in hand), so the
    desk agents are the only ones the board counts; desk01 waits in a queue without traffic,
    so "available" stays on the board until the test moves it where the calls are, and
    desk02 serves no queue at all (calls reach it only by transfer or consult)."""
    server.ok("admin", "PUT", f"/v1/config/queues/{QUIET_QUEUE}", {"name": "Quiet (browser tests)"})
    agents = _wait_configured(server)
    server.busy_queues = next(a["queues"] for a in agents if a["agent_id"] == DESK)
    for agent in agents:
        _define(server, agent, [QUIET_QUEUE] if agent["agent_id"] == DESK else [])


@pytest.fixture(scope="session")
def ccx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ccx up` with two desk agents and one simulated agent in one queue, on loopback."""
    data = tmp_path_factory.mktemp("browser")
    server = Server(base="", data=data, log=data / "up.log")
    issue = ("tokens", "issue", "--data-dir", str(data), "--tenant", "demo", "--role")
    server.tokens = {
        "agent": _ccx(*issue, "agent", "--agent", DESK, "--subject", "browser-desk01"),
        "agent2": _ccx(*issue, "agent", "--agent", DESK2, "--subject", "browser-desk02"),
        "supervisor": _ccx(*issue, "supervisor", "--teams", "*", "--subject", "browser-supervisor"),
        "admin": _ccx(*issue, "admin", "--subject", "browser-admin"),
        "analyst": _ccx(*issue, "analyst", "--subject", "browser-analyst"),
    }
    port = _free_port()
    server.base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "ccx.cli", "up", "--data-dir", str(data), "--host", "127.0.0.1",
            "--port", str(port), "--desk-agents", "2", "--agents", "1", "--queues", "1",
            "--rate", "1800/h", "--seed", "7"]  # fmt: skip
    log = data / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(server, proc)
        _prepare(server)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not the whole session: Playwright's sync API keeps an
    event loop running in this thread while it is started, and every later test that calls
    `asyncio.run` would fail ("cannot be called from a running event loop")."""
    sync_api = require_browser()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $CCX_ARTIFACTS or tests/browser/artifacts (git-ignored; an
    earlier run's screenshots there are removed first, so the folder shows this run's)."""
    given = os.environ.get("CCX_ARTIFACTS")
    path = Path(given or Path(__file__).parent / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    if not given:
        for old in path.glob("test_*.png"):
            old.unlink()
    return path


@pytest.fixture
def open_page(
    browser: Any, ccx_server: Server, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str, str], Any]]:
    """open_page(role, path) -> a signed-in page in its own browser context (own sessionStorage).
    Fails the test on any uncaught JavaScript error of its pages."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_(role: str, path: str) -> Any:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(f"{path}: {e}"))
        page.goto(f"{ccx_server.base}{path}#token={ccx_server.tokens[role]}")
        return page

    yield open_
    for ctx in contexts:
        ctx.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def snap(artifacts: Path, request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """snap(page, "step") saves a full-page screenshot named after the test and the step."""
    counter = iter(range(1, 1000))

    def shot(page: Any, step: str) -> None:
        page.screenshot(
            path=str(artifacts / f"{request.node.name}-{next(counter):02d}-{step}.png"), full_page=True
        )

    return shot
