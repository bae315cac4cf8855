"""Schema ids on Kafka: a compacted `_ccx-schemas` topic, or a Confluent Schema Registry.

`TopicSchemaStore` needs nothing but the broker. Ids are claimed in the topic's single
partition: a registrant reads the topic, proposes `max id + 1` with a record keyed
`"<id>:<sha256 of subject and schema>"` and reads back; for each id the claim with the
lowest offset wins, so concurrent registrants agree without a leader. Keys are unique per
(id, schema), so compaction never removes a winning claim. On a fresh topic the catalog
gets ids 1, 2, … in registration order, as on the embedded log.

`RegistrySchemaStore` speaks the Schema Registry REST API (`POST
/subjects/{subject}/versions`, `GET /schemas/ids/{id}` and `/schemas/ids/{id}/versions`)
so standard consumers can read ccx's public topics with the registry's deserializers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import httpx
from confluent_kafka import Producer

from streams.kafka.admin import SCHEMAS_TOPIC, KafkaLogError, Names
from streams.kafka.consumer import Reader
from streams.serde import SchemaStore

__all__ = ["RegistrySchemaStore", "TopicSchemaStore"]


class TopicSchemaStore(SchemaStore):
    """Schema ids kept in the compacted `_ccx-schemas` topic (one partition)."""

    def __init__(self, producer: Producer, reader: Reader, names: Names) -> None:
        self._producer = producer
        self._reader = reader
        self._topic = names.topic(SCHEMAS_TOPIC)
        self._lock = threading.Lock()
        self._next = 0
        self._by_id: dict[int, tuple[str, str]] = {}
        self._ids: dict[tuple[str, str], int] = {}

    def _catch_up(self) -> None:
        while batch := self._reader.read(SCHEMAS_TOPIC, 0, self._next, 10_000):
            for record in batch:
                claim = json.loads(record.value)
                schema_id, entry = int(claim["id"]), (str(claim["subject"]), str(claim["schema"]))
                if schema_id not in self._by_id:  # the first claim of an id wins
                    self._by_id[schema_id] = entry
                    self._ids.setdefault(entry, schema_id)
            self._next = batch[-1].offset + 1

    def register(self, subject: str, schema_json: str) -> int:
        entry = (subject, schema_json)
        digest = hashlib.sha256(f"{subject}\0{schema_json}".encode()).hexdigest()
        with self._lock:
            self._catch_up()
            for _attempt in range(100):
                if entry in self._ids:
                    return self._ids[entry]
                candidate = max(self._by_id, default=0) + 1
                value = json.dumps({"id": candidate, "subject": subject, "schema": schema_json})
                errors: list[str] = []

                def delivered(err: Any, _msg: Any, errors: list[str] = errors) -> None:
                    if err is not None:
                        errors.append(err.str())

                self._producer.produce(
                    self._topic, value.encode(), f"{candidate}:{digest}".encode(), 0, on_delivery=delivered
                )
                self._producer.flush()
                if errors:
                    raise KafkaLogError(f"cannot register {subject!r} in topic {self._topic!r}: {errors[0]}")
                self._catch_up()
        raise KafkaLogError(f"could not claim a schema id for {subject!r} in topic {self._topic!r}")

    def lookup(self, schema_id: int) -> tuple[str, str]:
        with self._lock:
            if schema_id not in self._by_id:
                self._catch_up()
            return self._by_id[schema_id]  # KeyError for an unknown id, as the port says

    def close(self) -> None:
        self._reader.close()


class RegistrySchemaStore(SchemaStore):
    """A Confluent Schema Registry over HTTP (RecordNameStrategy subjects, Avro schemas)."""

    _CT = "application/vnd.schemaregistry.v1+json"

    def __init__(self, url: str, *, client: httpx.Client | None = None, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = client or httpx.Client(base_url=self.url, timeout=timeout_s)
        self._lock = threading.Lock()
        self._ids: dict[tuple[str, str], int] = {}
        self._by_id: dict[int, tuple[str, str]] = {}

    def register(self, subject: str, schema_json: str) -> int:
        entry = (subject, schema_json)
        if entry in self._ids:
            return self._ids[entry]
        response = self._http.post(
            f"/subjects/{subject}/versions",
            content=json.dumps({"schema": schema_json, "schemaType": "AVRO"}),
            headers={"Content-Type": self._CT, "Accept": self._CT},
        )
        if response.status_code != 200:
            raise KafkaLogError(
                f"schema registry {self.url} refused {subject!r}: {response.status_code} {response.text}"
            )
        schema_id = int(response.json()["id"])
        with self._lock:
            self._ids[entry] = schema_id
            self._by_id.setdefault(schema_id, entry)
        return schema_id

    def lookup(self, schema_id: int) -> tuple[str, str]:
        if schema_id in self._by_id:
            return self._by_id[schema_id]
        response = self._http.get(f"/schemas/ids/{schema_id}", headers={"Accept": self._CT})
        if response.status_code == 404:
            raise KeyError(schema_id)
        if response.status_code != 200:
            raise KafkaLogError(f"schema registry {self.url}: schema id {schema_id}: {response.status_code}")
        schema = str(response.json()["schema"])
        versions = self._http.get(f"/schemas/ids/{schema_id}/versions", headers={"Accept": self._CT})
        subjects = [v["subject"] for v in versions.json()] if versions.status_code == 200 else []
        subject = subjects[0] if subjects else _full_name(schema)
        with self._lock:
            self._by_id[schema_id] = (subject, schema)
        return subject, schema

    def close(self) -> None:
        self._http.close()


def _full_name(schema_json: str) -> str:
    """The fully qualified name of an Avro record schema (its RecordNameStrategy subject)."""
    schema = json.loads(schema_json)
    name = str(schema.get("name", "")) if isinstance(schema, dict) else ""
    namespace = schema.get("namespace") if isinstance(schema, dict) else None
    return name if "." in name or not namespace else f"{namespace}.{name}"
