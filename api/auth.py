"""Who is asking, and what they may do: bearer tokens, roles, teams and tenants.

A token is a random string shown once when issued (`ccx tokens issue`); the store keeps
only its SHA-256, with the principal it stands for, in `tokens.sqlite` next to the log:
secrets never go into the event log. A principal has one role:

| role | may |
| --- | --- |
| agent | read the live views; act only on itself (`agent_id`) |
| supervisor | also act on the agents of its `teams` ("*": every team) and monitor their calls |
| analyst | read the live views and reports |
| auditor | read, including contact timelines |
| admin | everything, including configuration |

Every principal belongs to one tenant and sees and commands only that tenant. The API
records `actor` ("role:subject") in every command it appends, so every event says who.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

__all__ = [
    "ROLES",
    "Principal",
    "TokenStore",
    "authorize_agent",
    "current",
    "require",
]

ROLES = ("agent", "supervisor", "analyst", "auditor", "admin")
CACHE_S = 5.0
"""How long a token's principal is remembered (a revocation elsewhere takes this long)."""
READERS = ROLES
"""Every role reads the live views (agents need the wallboard numbers too)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    role         TEXT NOT NULL,
    tenant       TEXT NOT NULL,
    agent_id     TEXT NOT NULL DEFAULT '',
    teams        TEXT NOT NULL DEFAULT '',
    issued_at    INTEGER NOT NULL,
    revoked_at   INTEGER
)
"""


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: str
    tenant: str
    agent_id: str = ""
    teams: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        """What the events record as who asked."""
        return f"{self.role}:{self.subject}"

    def as_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "role": self.role,
            "tenant": self.tenant,
            "agent_id": self.agent_id,
            "teams": list(self.teams),
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Issued tokens by hash, in SQLite (thread-safe; several processes may share the file)."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def issue(
        self,
        subject: str,
        role: str,
        tenant: str,
        *,
        agent_id: str = "",
        teams: Iterable[str] = (),
    ) -> str:
        """A new token for the principal; the only time the token itself is seen."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if not subject.strip() or not tenant.strip():
            raise ValueError("a token needs a subject and a tenant")
        if role == "agent" and not agent_id:
            raise ValueError("an agent token needs --agent (the agent it acts as)")
        team_list = [t.strip() for t in teams if t.strip()]
        if any("," in t for t in team_list):
            raise ValueError("team names cannot contain ','")
        token = "ccx_" + secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (_digest(token), subject, role, tenant, agent_id, ",".join(team_list), int(self._clock())),
            )
        return token

    def revoke_subject(self, subject: str) -> int:
        """Revoke every token of `subject`; how many were live."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL",
                (int(self._clock()), subject),
            )
            self._cache.clear()
        return cur.rowcount

    def principal(self, token: str) -> Principal | None:
        """The principal of a live token, or None. Answers are cached for `CACHE_S`, so a
        revocation (from any process) takes effect within that time."""
        digest = _digest(token)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        principal = self._lookup(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal

    def _lookup(self, digest: str) -> Principal | None:
        with self._lock:
            row = self._db.execute(
                "SELECT subject, role, tenant, agent_id, teams FROM tokens"
                " WHERE token_sha256 = ? AND revoked_at IS NULL",
                (digest,),
            ).fetchone()
        if row is None:
            return None
        subject, role, tenant, agent_id, teams = row
        return Principal(subject, role, tenant, agent_id, tuple(t for t in teams.split(",") if t))

    def close(self) -> None:
        self._db.close()


def _token_of(request: Request | None, websocket: WebSocket | None) -> str:
    if websocket is not None:
        return websocket.query_params.get("token", "")
    assert request is not None
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return ""


def _resolve(conn: Request | WebSocket, token: str) -> Principal:
    store: TokenStore | None = getattr(conn.app.state, "tokens", None)
    if store is None:
        # No token store attached: an embedding that authenticates elsewhere (and tests).
        return Principal("local", "admin", getattr(conn.app.state, "tenant", "demo"), teams=("*",))
    if not token:
        raise HTTPException(401, "no token: send 'Authorization: Bearer <token>' (WebSocket: ?token=)")
    principal = store.principal(token)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token")
    return principal


async def current(request: Request) -> Principal:
    """FastAPI dependency: the principal of the request's bearer token (401 without one)."""
    return _resolve(request, _token_of(request, None))


def websocket_principal(websocket: WebSocket) -> Principal:
    """The principal of a WebSocket's `?token=`; raises HTTPException(401) without one."""
    return _resolve(websocket, _token_of(None, websocket))


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """FastAPI dependency factory: the principal, if its role is one of `roles` (else 403)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def check(principal: Annotated[Principal, Depends(current)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                403, f"role {principal.role!r} may not do this; it needs one of: {', '.join(roles)}"
            )
        return principal

    return check


def authorize_agent(principal: Principal, agent_id: str, team: str | None) -> None:
    """403 unless the principal may act on `agent_id` (whose team is `team`; None: unknown)."""
    if principal.role == "admin":
        return
    if principal.role == "agent":
        if principal.agent_id != agent_id:
            raise HTTPException(
                403, f"an agent acts only on itself ({principal.agent_id!r}), not {agent_id!r}"
            )
        return
    if principal.role == "supervisor":
        if "*" in principal.teams or (team is not None and team in principal.teams):
            return
        teams = ", ".join(principal.teams) or "none"
        where = f"team {team!r}" if team else "no team you supervise"
        raise HTTPException(403, f"agent {agent_id!r} is in {where}; your teams: {teams}")
    raise HTTPException(403, f"role {principal.role!r} does not act on agents")
