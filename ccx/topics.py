"""`ccx topics list|apply`: the topic registry (`streams.topics`) against what the log has.

`apply` creates what is missing with the registry's partitions (and, on Kafka, the
replication factor and `min.insync.replicas` of the settings, the cleanup policy and the
retention) and fails naming every topic whose partition count differs. `list` shows, per
registry topic, what the registry wants next to what the log has, without changing anything.
"""

from __future__ import annotations

from typing import Any

from ccx.bootstrap import connect_log
from ccx.settings import Settings
from streams import topics
from streams.ports import TopicState

__all__ = ["apply", "listing", "render"]


def _row(t: topics.Topic, state: TopicState | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "topic": t.name,
        "public": t.public,
        "key": t.key,
        "partitions": t.partitions,
        "retention": t.retention,
        "exists": state is not None,
    }
    if state is None:
        row["status"] = "missing"
        return row
    row["actual_partitions"] = state.partitions
    row["replication_factor"] = state.replication_factor
    row.update({k.replace(".", "_"): v for k, v in state.config.items()})
    row["status"] = "ok" if state.partitions == t.partitions else "partition mismatch"
    return row


def listing(settings: Settings) -> list[dict[str, Any]]:
    """One row per registry topic: what the registry wants and what the log has."""
    log = connect_log(settings)
    try:
        states = log.describe_topics([t.name for t in topics.ALL])
        return [_row(t, states.get(t.name)) for t in topics.ALL]
    finally:
        log.close()


def apply(settings: Settings) -> list[dict[str, Any]]:
    """Create the missing topics; raises `TopicMismatch` naming the ones that differ."""
    log = connect_log(settings)
    try:
        log.ensure_topics(topics.ALL, strict=True)
    finally:
        log.close()
    return listing(settings)


def render(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table of `listing` rows."""
    columns = ["topic", "public", "partitions", "actual_partitions", "replication_factor"]
    columns += ["min_insync_replicas", "cleanup_policy", "retention", "status"]
    cells = [[str(r.get(c, "-")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"
