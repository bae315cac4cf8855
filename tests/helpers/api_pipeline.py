"""A real in-process API for tests: the embedded log, the ACD and live stats running in
threads, the command gateway, a token store with one principal per role, and a queue
q1/q2 with agents a1 (team t1) and a2 (team t2) defined through the API itself."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import TokenStore
from api.gateway import CommandGateway
from api.live import LiveView
from ccx.bootstrap import Pipeline, build_processors, crm_processors, open_pipeline
from ccx.customers import erase_customer
from ccx.settings import Settings
from ccx.timeline import tenant_timeline
from schemas.commands import RouteContact
from schemas.envelope import Envelope, Message


@dataclass
class Api:
    client: TestClient
    pipeline: Pipeline
    tokens: dict[str, str]

    def call(self, method: str, path: str, who: str, json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, json=json)

    def route(self, contact_id: str, queue_id: str = "q1", ani: str = "+4930123456") -> None:
        env = Envelope(f"route-{contact_id}", "demo", int(time.time() * 1000), contact_id, None, "switch")
        body = RouteContact(contact_id, queue_id, ani=ani)
        self.pipeline.log.append([self.pipeline.serde.out(Message(env, body))])

    def wait_for(self, agent_id: str, predicate: Any, who: str = "admin") -> dict[str, Any]:
        for _ in range(500):  # a bound on polling, not an assertion about time
            doc = self.call("GET", f"/v1/agents/{agent_id}/live", who).json()
            if predicate(doc):
                return doc  # type: ignore[no-any-return]
            time.sleep(0.01)
        raise AssertionError(f"agent {agent_id} never reached the expected state; last: {doc}")


@contextlib.contextmanager
def running_api(tmp_path: Path, runners: tuple[str, ...] = ("acd", "stats")) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path)
    processors = {**build_processors(), **crm_processors(settings)}
    pipeline = open_pipeline(settings, with_warehouse=False, runners=runners, processors=processors)
    stop = threading.Event()
    threads = [
        threading.Thread(target=r.run_forever, args=(stop, 0.01), daemon=True)
        for r in pipeline.runners.values()
    ]
    for t in threads:
        t.start()
    store = TokenStore(tmp_path / "tokens.sqlite")
    tokens = {
        "admin": store.issue("root", "admin", "demo"),
        "a1": store.issue("a1", "agent", "demo", agent_id="a1"),
        "a2": store.issue("a2", "agent", "demo", agent_id="a2"),
        "sup": store.issue("sue", "supervisor", "demo", teams=["t1"]),
        "analyst": store.issue("ann", "analyst", "demo"),
        "other-tenant": store.issue("oscar", "admin", "acme"),
    }
    gateway = CommandGateway(pipeline.log, pipeline.serde)
    app = create_app(LiveView(state=lambda: pipeline.stats.state, tenant="demo"))
    app.state.tokens = store
    app.state.gateway = gateway
    acd = pipeline.runners["acd"]
    app.state.acd = lambda: acd.state
    app.state.timeline = functools.partial(tenant_timeline, settings)
    app.state.erase = functools.partial(erase_customer, settings)
    with TestClient(app) as client:
        a = Api(client, pipeline, tokens)
        assert a.call("PUT", "/v1/config/queues/q1", "admin", {"name": "Support"}).status_code == 200
        assert a.call("PUT", "/v1/config/queues/q2", "admin", {"name": "Sales"}).status_code == 200
        for agent_id, team in (("a1", "t1"), ("a2", "t2")):
            _set_team(a, agent_id, team)
        yield a
    stop.set()
    for t in threads:
        t.join(timeout=5)
    gateway.close()
    store.close()
    pipeline.close()


def _set_team(api: Api, agent_id: str, team: str) -> None:
    r = api.call(
        "PUT", f"/v1/config/agents/{agent_id}", "admin", {"name": agent_id, "queues": ["q1"], "team": team}
    )
    assert r.status_code == 200, r.text
