"""Settings: where the data lives and which adapters to use, from CLI options or CCX_* env vars.

One setting picks a backend; nothing else in the code asks which backend is in use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["ENV_VARS", "Settings", "parse_capacity"]

ENV_VARS = (
    "CCX_DATA_DIR",
    "CCX_BACKEND",
    "CCX_WAREHOUSE_URL",
    "CCX_TENANT",
    "CCX_BOOTSTRAP",
    "CCX_SCHEMA_REGISTRY_URL",
    "CCX_REPLICATION_FACTOR",
    "CCX_MIN_INSYNC_REPLICAS",
    "CCX_INSTANCE",
    "CCX_NAMESPACE",
    "CCX_TRUNK_CAPACITY",
    "CCX_REGION",
    "CCX_KEY_VAULT",
)
"""Every environment variable ccx reads (docker-compose.yml is checked against this list)."""


def parse_capacity(text: str) -> tuple[tuple[str, int], ...]:
    """`TRUNK=CHANNELS,...` (e.g. `PJSIP/carrier=30`) as pairs; ValueError names a bad item."""
    pairs: list[tuple[str, int]] = []
    for item in filter(None, (i.strip() for i in text.split(","))):
        trunk, _, channels = item.rpartition("=")
        if not trunk or not channels.isdigit():
            raise ValueError(f"CCX_TRUNK_CAPACITY: {item!r} is not TRUNK=CHANNELS")
        pairs.append((trunk.strip(), int(channels)))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    backend: str = "embedded"
    warehouse_url: str | None = None
    tenant: str = "demo"
    bootstrap: str | None = None
    """Kafka bootstrap servers (host:port,...) for backend "kafka"."""
    schema_registry_url: str | None = None
    """A Confluent Schema Registry; without one, schema ids live in a compacted topic."""
    replication_factor: int = 1
    min_insync_replicas: int = 1
    namespace: str = ""
    """A prefix for every topic, group and transactional id (several ccx on one cluster)."""
    instance: str = "0"
    """This process's instance id: stable transactional ids, the API's own stats group."""
    trunk_capacity: tuple[tuple[str, int], ...] = ()
    """Channels per trunk (`PJSIP/carrier=30,PJSIP/backup=10`): the trunk monitor's Erlang B hint."""
    region: str = ""
    """The country (ISO 3166 alpha-2, "DE") national caller numbers belong to (docs/customers.md)."""
    key_vault: Path | None = None
    """The personal-data key vault (ADR 20); default `keys.sqlite` in the data directory. Every
    process of one ccx must share it (a shared volume in docker-compose)."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the CCX_* environment (ENV_VARS), then explicit overrides (CLI
        options) that are not None."""
        base = cls(
            data_dir=Path(os.environ.get("CCX_DATA_DIR", "data/demo")),
            backend=os.environ.get("CCX_BACKEND", "embedded"),
            warehouse_url=os.environ.get("CCX_WAREHOUSE_URL") or None,
            tenant=os.environ.get("CCX_TENANT", "demo"),
            bootstrap=os.environ.get("CCX_BOOTSTRAP") or None,
            schema_registry_url=os.environ.get("CCX_SCHEMA_REGISTRY_URL") or None,
            replication_factor=int(os.environ.get("CCX_REPLICATION_FACTOR", "1")),
            min_insync_replicas=int(os.environ.get("CCX_MIN_INSYNC_REPLICAS", "1")),
            namespace=os.environ.get("CCX_NAMESPACE", ""),
            instance=os.environ.get("CCX_INSTANCE", "0"),
            trunk_capacity=parse_capacity(os.environ.get("CCX_TRUNK_CAPACITY", "")),
            region=os.environ.get("CCX_REGION", ""),
            key_vault=Path(os.environ["CCX_KEY_VAULT"]) if os.environ.get("CCX_KEY_VAULT") else None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(str(given["data_dir"]))
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def log_path(self) -> Path:
        return self.data_dir / "log.sqlite"

    @property
    def key_vault_path(self) -> Path:
        """The key vault of personal data (docs/adr/0020): CCX_KEY_VAULT, else beside the
        embedded log. Processes that share a log must share the vault."""
        return self.key_vault or self.data_dir / "keys.sqlite"

    @property
    def log_location(self) -> str:
        """Where the log lives, for messages: the SQLite file, or the cluster and namespace."""
        if self.backend == "kafka":
            return f"kafka {self.bootstrap} namespace {self.namespace!r}"
        return str(self.log_path)

    @property
    def warehouse(self) -> str:
        """The warehouse URL: a ClickHouse server if configured, else chDB in the data dir."""
        return self.warehouse_url or f"chdb://{(self.data_dir / 'warehouse').resolve()}"
