"""`ccx kafka-local start|stop`: a real Apache Kafka on 127.0.0.1 left running for local development.

`start` resolves the broker if needed (infra/kafka), starts it detached, records it in the state file
(``$CCX_KAFKA_STATE`` or ``<kafka cache>/local-state.json``) and returns; `stop` (any process) stops
what the state file names. Progress goes to stderr so that ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

from typing import Any

from infra.kafka.local import LocalKafka, load_state, state_file, state_running, stop_from_state

__all__ = ["start", "stop"]


def start(brokers: int = 1) -> dict[str, Any]:
    """Start (or find already running) the local Kafka; return its info (``bootstrap``, ``pid``, ...)."""
    state = load_state()
    if state is not None:
        if state_running(state):
            return state | {"already_running": True}
        stop_from_state(progress=None)  # a stale record: clean up what is left of it
    kafka = LocalKafka(brokers=brokers, detach=True)
    kafka.start()
    kafka.write_state()
    info = load_state()
    assert info is not None
    return info | {"state_file": str(state_file())}


def stop() -> bool:
    """Stop what `start` left running; False when nothing was recorded."""
    return stop_from_state()
