"""Issue an API token into a data directory's token store, as `ccx tokens issue` does."""

from __future__ import annotations

from pathlib import Path

from api.auth import TokenStore


def issue(data_dir: Path | str, role: str = "supervisor", tenant: str = "demo", **kw: object) -> str:
    store = TokenStore(Path(data_dir) / "tokens.sqlite")
    try:
        if role == "supervisor":
            kw.setdefault("teams", ["*"])
        return store.issue(f"test-{role}", role, tenant, **kw)  # type: ignore[arg-type]
    finally:
        store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
