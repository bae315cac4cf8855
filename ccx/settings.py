"""Settings: where the data lives and which adapters to use, from CLI options or CCX_* env vars.

One setting picks a backend; nothing else in the code asks which backend is in use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    backend: str = "embedded"
    warehouse_url: str | None = None
    tenant: str = "demo"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then CCX_DATA_DIR / CCX_BACKEND / CCX_WAREHOUSE_URL / CCX_TENANT, then
        explicit overrides (CLI options) that are not None."""
        base = cls(
            data_dir=Path(os.environ.get("CCX_DATA_DIR", "data/demo")),
            backend=os.environ.get("CCX_BACKEND", "embedded"),
            warehouse_url=os.environ.get("CCX_WAREHOUSE_URL") or None,
            tenant=os.environ.get("CCX_TENANT", "demo"),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(str(given["data_dir"]))
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def log_path(self) -> Path:
        return self.data_dir / "log.sqlite"

    @property
    def warehouse(self) -> str:
        """The warehouse URL: a ClickHouse server if configured, else chDB in the data dir."""
        return self.warehouse_url or f"chdb://{(self.data_dir / 'warehouse').resolve()}"
