"""The one place that wires ports to adapters and processors to runners.

`open_pipeline(settings)` gives the log (embedded adapter by default), the serde, one
runner per processor (ACD, CDR builder, live stats) and, when asked, the warehouse sink.
Entry points (CLI, `ccx up`, tests, benchmarks) call this and nothing else to assemble ccx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics.sink import WarehouseSink
from analytics.warehouse import Warehouse, open_warehouse
from ccx.settings import Settings
from processors.acd import acd_processor
from processors.contacts import ContactRecorder
from processors.decider import Processor
from processors.live_stats import LiveStats
from processors.trunk_stats import TrunkStats
from streams import topics
from streams.embedded import EmbeddedLog
from streams.keyvault import KeyVault
from streams.ports import EventLog
from streams.runner import Runner
from streams.serde import Serde

__all__ = [
    "CRM_RUNNERS",
    "RUNNERS",
    "Pipeline",
    "build_processors",
    "crm_processors",
    "connect_log",
    "open_log",
    "open_pipeline",
]


def _embedded(settings: Settings) -> EventLog:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedLog(settings.log_path)


def _kafka(settings: Settings) -> EventLog:
    from streams.kafka import KafkaLog

    if not settings.bootstrap:
        raise SystemExit("backend kafka needs the bootstrap servers: --bootstrap HOST:PORT or CCX_BOOTSTRAP")
    return KafkaLog(
        settings.bootstrap,
        schema_registry_url=settings.schema_registry_url,
        replication_factor=settings.replication_factor,
        min_insync_replicas=settings.min_insync_replicas,
        namespace=settings.namespace,
        instance=settings.instance,
    )


LOG_ADAPTERS: dict[str, Callable[[Settings], EventLog]] = {"embedded": _embedded, "kafka": _kafka}


def connect_log(settings: Settings) -> EventLog:
    """The configured log adapter, as it is (no topic created)."""
    try:
        factory = LOG_ADAPTERS[settings.backend]
    except KeyError:
        raise SystemExit(
            f"unknown backend {settings.backend!r}; choose one of {', '.join(LOG_ADAPTERS)}"
        ) from None
    return factory(settings)


def open_log(settings: Settings) -> tuple[EventLog, Serde]:
    """The configured log with every registry topic present, and the serde bound to it."""
    log = connect_log(settings)
    try:
        log.ensure_topics(topics.ALL)
    except BaseException:
        log.close()
        raise
    vault = KeyVault(settings.key_vault_path)  # personal fields sealed (docs/adr/0020)
    return log, Serde(log, vault, settings.region)  # type: ignore[arg-type]


RUNNERS = ("acd", "cdr", "stats", "trunks", "sink")
"""Every runner `open_pipeline` can build, in dependency order."""


def build_processors() -> dict[str, Processor[Any]]:
    """Every processor ccx runs, by name, in dependency order."""
    return {"acd": acd_processor(), "cdr": ContactRecorder(), "stats": LiveStats(), "trunks": TrunkStats()}


CRM_RUNNERS = ("customers", "customer-directory", "tickets", "kb", "kb-search")
"""The CRM side (issue 8): customer profiles and the screen-pop directory, the ticket
workflow, the knowledge base and its search library. `ccx up` runs them; on the production
layout each is a `ccx run NAME` of its own."""


def crm_processors(settings: Settings) -> dict[str, Processor[Any]]:
    """The CRM processors by name (`CRM_RUNNERS`), in dependency order."""
    from processors.customer_directory import CustomerDirectory
    from processors.customers import customers_processor
    from processors.kb_search import KbLibrary
    from processors.knowledge_base import kb_processor
    from processors.tickets import tickets_processor

    return {
        "customers": customers_processor(),
        "customer-directory": CustomerDirectory(region=settings.region),
        "tickets": tickets_processor(),
        "kb": kb_processor(),
        "kb-search": KbLibrary(),
    }


@dataclass
class Pipeline:
    settings: Settings
    log: EventLog
    serde: Serde
    runners: dict[str, Runner] = field(default_factory=dict)
    warehouse: Warehouse | None = None

    @property
    def acd(self) -> Runner:
        return self.runners["acd"]

    @property
    def stats(self) -> Runner:
        return self.runners["stats"]

    def run_until_idle(self, names: tuple[str, ...] | None = None) -> int:
        """Run the runners in dependency order until none has anything left; records handled."""
        total = 0
        while True:
            handled = sum(r.run_until_idle() for n, r in self.runners.items() if names is None or n in names)
            total += handled
            if handled == 0:
                return total

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()
        if self.warehouse is not None:
            self.warehouse.close()
        self.log.close()


def open_pipeline(
    settings: Settings,
    *,
    with_warehouse: bool = True,
    owner_info: dict[str, Any] | None = None,
    batch_size: int = 500,
    runners: tuple[str, ...] = RUNNERS,
    processors: Mapping[str, Processor[Any]] | None = None,
) -> Pipeline:
    """The log, the serde, the named runners (each owns its consumer group) and, with
    `with_warehouse`, the warehouse (and its sink, if "sink" is among `runners`)."""
    log, serde = open_log(settings)
    pipeline = Pipeline(settings, log, serde)
    for name, processor in (processors or build_processors()).items():
        if name in runners:
            pipeline.runners[name] = Runner(processor, log, serde, batch_size=batch_size)
    if with_warehouse:
        pipeline.warehouse = open_warehouse(settings.warehouse, owner_info=owner_info)
        if "sink" in runners:
            pipeline.runners["sink"] = Runner(WarehouseSink(pipeline.warehouse), log, serde, batch_size=5000)
    return pipeline
