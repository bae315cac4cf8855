"""API tokens on the command line, and the demo principals `ccx up` prints.

The store is `tokens.sqlite` in the data directory (`api.auth.TokenStore`): only tokens'
hashes, never the event log. `ccx tokens issue` prints a new token once; `ccx up` issues
fresh demo tokens for an admin, a supervisor of every team and each desk agent at every
start, revoking the previous session's demo tokens.
"""

from __future__ import annotations

from pathlib import Path

from api.auth import TokenStore
from ccx.settings import Settings

__all__ = ["DEMO_SUBJECTS", "demo_tokens", "desk_agent_ids", "token_store"]

DEMO_SUBJECTS = ("demo-admin", "demo-supervisor")


def token_store(settings: Settings) -> TokenStore:
    """The data directory's token store (created on first use)."""
    return TokenStore(Path(settings.data_dir) / "tokens.sqlite")


def desk_agent_ids(n: int) -> list[str]:
    """The ids of `ccx up --desk-agents N`: desk01, desk02, ..."""
    return [f"desk{i + 1:02d}" for i in range(n)]


def demo_tokens(store: TokenStore, tenant: str, desk_agents: list[str]) -> dict[str, str]:
    """Fresh tokens for the demo principals (subject -> token); older demo tokens revoked."""
    out: dict[str, str] = {}
    for subject in (*DEMO_SUBJECTS, *desk_agents):
        store.revoke_subject(subject)
    out["demo-admin"] = store.issue("demo-admin", "admin", tenant)
    out["demo-supervisor"] = store.issue("demo-supervisor", "supervisor", tenant, teams=["*"])
    for agent_id in desk_agents:
        out[agent_id] = store.issue(agent_id, "agent", tenant, agent_id=agent_id)
    return out
