"""Topic provisioning on Kafka from the topic registry, and the names ccx uses on a cluster.

`provision` creates the registry's missing topics with their partitions, replication
factor, `min.insync.replicas`, cleanup policy and retention, and verifies existing ones:
a topic whose partition count differs from the registry raises `TopicMismatch` naming the
topic and both counts (Kafka cannot shrink a topic, and growing it would move keys), or,
with `strict=False` (the port's `ensure_topics`: existing topics stay as they are), logs it.

`Names` maps ccx's names to the cluster's: a `namespace` prefix (empty by default) lets
several ccx deployments or test runs share one cluster without seeing each other's topics,
groups or transactional ids.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
    OffsetSpec,
)

from streams import ports

__all__ = [
    "REQUEST_TIMEOUT_S",
    "SCHEMAS_TOPIC",
    "SNAPSHOTS_TOPIC",
    "CommitAborted",
    "KafkaLogError",
    "Names",
    "TopicMismatch",
    "TopicSpec",
    "describe",
    "offsets",
    "provision",
]

_SETTLING = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError._NOENT,  # "Failed to query partition leaders: No leaders found" (a leader died)
    KafkaError.UNKNOWN_LEADER_EPOCH,  # a broker behind the metadata (new topic, new leader)
    KafkaError.FENCED_LEADER_EPOCH,
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
)

_log = logging.getLogger(__name__)

SNAPSHOTS_TOPIC = "_ccx-snapshots"
SCHEMAS_TOPIC = "_ccx-schemas"


class KafkaLogError(RuntimeError):
    """A Kafka operation failed; the message names the topic, partition or group involved."""


class TopicMismatch(KafkaLogError, ports.TopicMismatch):
    """An existing topic does not match the registry (e.g. its partition count)."""


class CommitAborted(KafkaLogError, ports.CommitAborted):
    """A transaction was aborted cleanly (nothing visible, no offset moved): re-do the work."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """What Kafka needs to know to create a topic (from `streams.topics.Topic` or internal)."""

    name: str
    partitions: int
    compacted: bool = False
    retention_ms: int = -1

    @classmethod
    def of(cls, topic: object) -> TopicSpec:
        return cls(
            str(topic.name),  # type: ignore[attr-defined]
            int(topic.partitions),  # type: ignore[attr-defined]
            bool(getattr(topic, "compacted", False)),
            int(getattr(topic, "retention_ms", -1)),
        )


INTERNAL = (TopicSpec(SNAPSHOTS_TOPIC, 1, compacted=True), TopicSpec(SCHEMAS_TOPIC, 1, compacted=True))


@dataclass(frozen=True, slots=True)
class Names:
    """ccx names to cluster names: topics, groups and transactional ids get `namespace` in front."""

    namespace: str = ""

    def topic(self, name: str) -> str:
        return self.namespace + name

    def ccx_topic(self, cluster_name: str) -> str | None:
        """The ccx name of a cluster topic, or None if it is not in this namespace."""
        if not cluster_name.startswith(self.namespace):
            return None
        return cluster_name[len(self.namespace) :]

    def group(self, group: str) -> str:
        return self.namespace + group

    def transactional_id(self, group: str, instance: str) -> str:
        return f"{self.namespace}ccx-{group}-{instance}"


def provision(
    admin: AdminClient,
    names: Names,
    topics: Sequence[TopicSpec],
    *,
    replication_factor: int,
    min_insync_replicas: int,
    strict: bool = True,
    timeout_s: float = 30.0,
) -> None:
    """Create the missing `topics`; an existing one whose partition count differs raises
    `TopicMismatch` naming each mismatch (`strict`) or is logged and left as it is."""
    wanted = {names.topic(t.name): t for t in topics}
    existing = admin.list_topics(timeout=timeout_s).topics
    mismatches = [
        f"topic {name!r} has {len(existing[name].partitions)} partitions on the cluster but the "
        f"registry says {spec.partitions}"
        for name, spec in wanted.items()
        if name in existing
        and existing[name].error is None
        and len(existing[name].partitions) != spec.partitions
    ]
    if mismatches and strict:
        raise TopicMismatch(
            "; ".join(mismatches) + " (keys would land elsewhere: fix the registry or migrate)"
        )
    for mismatch in mismatches:
        _log.warning("%s; left as it is", mismatch)
    missing = [
        NewTopic(
            name,
            num_partitions=spec.partitions,
            replication_factor=replication_factor,
            config=_config(spec, min_insync_replicas),
        )
        for name, spec in wanted.items()
        if name not in existing or existing[name].error is not None
    ]
    if not missing:
        return
    for name, future in admin.create_topics(missing, operation_timeout=timeout_s).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:  # created concurrently
                continue
            raise KafkaLogError(f"cannot create topic {name!r}: {exc.args[0].str()}") from exc
    _await_leaders(admin, [t.topic for t in missing], timeout_s)


def _await_leaders(admin: AdminClient, names: list[str], timeout_s: float) -> None:
    """Wait until every partition of the new topics has a leader (metadata settles)."""
    deadline = time.monotonic() + timeout_s
    pending = list(names)
    while pending:
        topics = admin.list_topics(timeout=timeout_s).topics
        pending = [
            n
            for n in pending
            if n not in topics
            or topics[n].error is not None
            or any(p.leader < 0 for p in topics[n].partitions.values())
        ]
        if pending and time.monotonic() > deadline:
            raise KafkaLogError(f"topics {pending} have no leader after {timeout_s}s")
        if pending:
            time.sleep(0.05)


def _config(spec: TopicSpec, min_insync_replicas: int) -> dict[str, str]:
    config = {
        "min.insync.replicas": str(min_insync_replicas),
        "cleanup.policy": "compact" if spec.compacted else "delete",
    }
    if not spec.compacted:
        config["retention.ms"] = str(spec.retention_ms)
    return config


REQUEST_TIMEOUT_S = 5.0
"""One ListOffsets request; a leader that died meanwhile answers nothing until it times out
(librdkafka then reports OFFSET_INVALID without an error), so `offsets` refreshes the
leaders and asks again, by then maybe of its successor, until its own deadline."""


def offsets(
    admin: AdminClient, partitions: Sequence[tuple[str, int]], *, latest: bool = True, timeout_s: float = 30.0
) -> dict[tuple[str, int], int]:
    """Per (cluster topic, partition): the last stable offset (`latest`, read_committed) or the
    log start offset, in one request per leader; retries while leadership settles (a broker
    failing over takes its session timeout and an election: keep `timeout_s` well above)."""
    if not partitions:
        return {}
    spec = OffsetSpec.latest() if latest else OffsetSpec.earliest()  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + timeout_s
    out: dict[tuple[str, int], int] = {}
    pending = list(partitions)
    while pending:
        futures = admin.list_offsets(
            {TopicPartition(t, p): spec for t, p in pending},
            isolation_level=IsolationLevel.READ_COMMITTED,
            request_timeout=min(timeout_s, REQUEST_TIMEOUT_S),
        )
        retry = []
        for tp, future in futures.items():
            try:
                offset = int(future.result().offset)
            except KafkaException as exc:
                err = exc.args[0]
                if (err.retriable() or err.code() in _SETTLING) and time.monotonic() < deadline:
                    retry.append((tp.topic, tp.partition))
                    continue
                raise KafkaLogError(
                    f"offsets of topic {tp.topic!r} partition {tp.partition}: {err.str()}"
                ) from exc
            if offset < 0:  # OFFSET_INVALID without an error: the leader is gone, not yet replaced
                if time.monotonic() < deadline:
                    retry.append((tp.topic, tp.partition))
                    continue
                raise KafkaLogError(
                    f"offsets of topic {tp.topic!r} partition {tp.partition}: no leader answers"
                )
            out[(tp.topic, tp.partition)] = offset
        pending = retry
        if pending:
            time.sleep(0.05)
            _refresh_leaders(admin, {t for t, _p in pending})
    return out


def _refresh_leaders(admin: AdminClient, topics: set[str]) -> None:
    """Ask the cluster who leads the topics' partitions now: ListOffsets goes by the client's
    cached metadata, which keeps naming a dead leader ("No leaders found") until refreshed."""
    for topic in topics:
        with contextlib.suppress(KafkaException):  # the next attempt tells
            admin.list_topics(topic=topic, timeout=REQUEST_TIMEOUT_S)


DESCRIBED = ("cleanup.policy", "retention.ms", "min.insync.replicas")
"""The topic settings `describe` reports (what `provision` sets)."""


def describe(
    admin: AdminClient, names: Names, topics: Sequence[str], timeout_s: float = 30.0
) -> dict[str, ports.TopicState | None]:
    """Each ccx topic's partitions, replication factor and DESCRIBED settings on the cluster."""
    existing = admin.list_topics(timeout=timeout_s).topics
    out: dict[str, ports.TopicState | None] = {}
    present = [t for t in topics if names.topic(t) in existing and existing[names.topic(t)].error is None]
    resources = [ConfigResource(ConfigResource.Type.TOPIC, names.topic(t)) for t in present]
    configs = admin.describe_configs(resources, request_timeout=timeout_s) if resources else {}
    by_name = {res.name: future.result() for res, future in configs.items()}
    for topic in topics:
        meta = existing.get(names.topic(topic))
        if topic not in present or meta is None:
            out[topic] = None
            continue
        config = by_name.get(names.topic(topic), {})
        replicas = min((len(p.replicas) for p in meta.partitions.values()), default=0)
        out[topic] = ports.TopicState(
            len(meta.partitions), replicas, {k: str(config[k].value) for k in DESCRIBED if k in config}
        )
    return out
