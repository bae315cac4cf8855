"""The contracts: checked-in Avro schemas match the dataclasses, and every old encoded
sample still decodes with the current schema (backward compatibility for downstream)."""

from __future__ import annotations

import json
import re

import pytest

from schemas.avro import AVRO_DIR, avro_schema, decode, encode, parse_json, schema_path
from schemas.catalog import CATALOG, SchemaSpec
from schemas.samples import SAMPLES_DIR, sample_message, sample_path


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_checked_in_schema_matches_the_dataclass(spec: SchemaSpec) -> None:
    path = schema_path(spec)
    assert path.exists(), f"{path.name} missing: run `python -m schemas.avro --write`"
    assert json.loads(path.read_text()) == avro_schema(spec), (
        f"{spec.name} changed without regenerating its schema: run `python -m schemas.avro --write`, "
        "bump the version if fields changed, and keep the change backward compatible"
    )


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_round_trip_of_the_sample(spec: SchemaSpec) -> None:
    message = sample_message(spec)
    assert decode(encode(message), spec.name) == message


SAMPLES = sorted(SAMPLES_DIR.glob("*.avro"))


def test_every_type_has_a_sample_at_its_current_version() -> None:
    missing = [s.subject for s in CATALOG if not sample_path(s).exists()]
    assert not missing, f"no encoded sample for {missing}: run `python -m schemas.samples --write`"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_old_samples_decode_with_the_current_schema(sample) -> None:  # type: ignore[no-untyped-def]
    subject, version = re.fullmatch(r"(.+)\.v(\d+)\.avro", sample.name).groups()  # type: ignore[union-attr]
    spec = next(s for s in CATALOG if s.subject == subject)
    writer = parse_json((AVRO_DIR / f"{subject}.v{version}.avsc").read_text())
    message = decode(sample.read_bytes(), spec.name, writer)
    assert type(message.body) is spec.cls
    assert message.envelope.tenant == "acme"


def test_corrupt_bytes_are_a_schema_mismatch_naming_the_type() -> None:
    from schemas.avro import SchemaMismatch

    with pytest.raises(SchemaMismatch, match="ContactOffered"):
        decode(b"\x02", "ContactOffered")
