"""Versioned schema migrations for the warehouse, applied in order when it opens.

Migrations are the files `analytics/sql/NNNN_name.sql` (statements separated by `;`),
recorded in `schema_migrations` with a checksum once applied. Running `migrate` again
applies nothing; a changed file that was already applied is an error, because the
warehouses that ran the old text would silently differ from new ones. Write a new file
instead. Statements are idempotent (`IF NOT EXISTS`), so a migration interrupted half way
is simply applied again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from analytics.warehouse import Warehouse

__all__ = ["Migration", "MigrationError", "applied", "load", "migrate"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""


class MigrationError(RuntimeError):
    """The migration files and the warehouse's history disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        text = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip() for s in text.split(";") if s.strip()]


def load() -> list[Migration]:
    """The packaged migrations, in version order."""
    found = []
    for entry in resources.files("analytics").joinpath("sql").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


def applied(warehouse: Warehouse) -> dict[int, str]:
    """Applied version -> checksum."""
    rows = warehouse.query_rows("SELECT version, checksum FROM schema_migrations FINAL ORDER BY version")
    return {int(v): str(c) for v, c in rows}


def migrate(warehouse: Warehouse) -> list[int]:
    """Apply the migrations not yet applied, in order; returns their versions."""
    warehouse.command(_BOOTSTRAP)
    done = applied(warehouse)
    ran = []
    for m in load():
        if m.version in done:
            if done[m.version] != m.checksum:
                raise MigrationError(
                    f"migration {m.version:04d}_{m.name}.sql changed after it was applied to "
                    f"{warehouse.url}; add a new migration instead of editing an applied one"
                )
            continue
        for statement in m.statements():
            warehouse.command(statement)
        warehouse.insert(
            "schema_migrations",
            [(m.version, m.name, m.checksum, datetime.now(UTC))],
            ("version", "name", "checksum", "applied_at"),
        )
        ran.append(m.version)
    return ran
