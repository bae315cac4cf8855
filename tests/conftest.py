"""Shared fixtures, one clearly named section per part of the system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_fixtures import *  # noqa: F403  # real Kafka broker fixtures

from streams.embedded import EmbeddedLog
from streams.serde import Serde
from streams.topics import ALL

# ---- streams: a fresh embedded log with every registry topic, and its serde ----


@pytest.fixture
def embedded_log(tmp_path: Path) -> Iterator[EmbeddedLog]:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    log.ensure_topics(ALL)
    yield log
    log.close()


@pytest.fixture
def serde(embedded_log: EmbeddedLog) -> Serde:
    return Serde(embedded_log)
