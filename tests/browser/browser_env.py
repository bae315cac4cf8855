"""What the browser tests share: Debian's Chromium and how to launch it, the desk agents and
queue the tests use, and `Server` (the running `ccx up` with its users' tokens).

`require_browser()` returns `playwright.sync_api`, and fails the calling test module, with
the reason, when /usr/bin/chromium is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESK = "desk01"
DESK2 = "desk02"
"""The second desk agent (token role "agent2"): the target of transfers and consults."""
DISPOSITIONS = ("resolved", "sale", "follow_up", "escalated", "wrong_number")
"""The simulation's dispositions, which `ccx up --desk-agents N` defines for the wrap-up."""
QUIET_QUEUE = "quiet"
"""A queue without traffic: the desk agent waits there, so "available" stays on the board."""


def require_browser() -> Any:
    """`playwright.sync_api`, once Debian's Chromium is known to be there. Without it the
    browser tests fail (never skip): `make test` installs it (infra/browser/ensure-chromium.sh),
    so a missing browser is a broken machine, not a reason to test less."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"browser tests need Debian's Chromium at {CHROMIUM}: run infra/browser/ensure-chromium.sh",
            pytrace=False,
        )
    import playwright.sync_api  # a dev dependency: `pip install -e '.[dev]'`

    return playwright.sync_api


@dataclass
class Server:
    """The running `ccx up` and the tokens of its users."""

    base: str
    data: Path
    tokens: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    busy_queues: list[str] = field(default_factory=list)
    """The queues the simulator sends calls to (the desk agent's at the start)."""

    def call(self, role: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.request(method, self.base + path, json=body, headers=headers, timeout=30)

    def ok(self, role: str, method: str, path: str, body: Any = None) -> Any:
        r = self.call(role, method, path, body)
        assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()
