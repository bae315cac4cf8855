"""`ccx kb search` over a real embedded log (the kb decision re-made from `cc.commands`) and
`GET /v1/kb/search` with a search function on `app.state.kb`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from ccx.bootstrap import open_log
from ccx.cli import main
from ccx.kb import index_source
from ccx.settings import Settings
from processors.kb_search import KbLibrary
from processors.knowledge_base import kb_processor
from schemas.envelope import Envelope, Message
from schemas.kb_commands import PublishArticle, WriteArticle

COMMANDS = [
    WriteArticle("card-block", "Block a card", "Block the **card** at once.", "cards", ("fraud",)),
    PublishArticle("card-block"),
    WriteArticle("pin-reset", "Reset a forgotten PIN", "Send a PIN letter.", "cards"),
]


def test_cli_search_rebuilds_from_the_log(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=str(tmp_path), tenant="demo")
    log, serde = open_log(settings)
    try:
        msgs = [
            Message(Envelope(f"e{i}", "demo", 1_767_600_000_000 + i, f"c{i}"), c)
            for i, c in enumerate(COMMANDS)
        ]
        log.append([serde.out(m) for m in msgs])
    finally:
        log.close()
    runner = CliRunner()
    done = runner.invoke(
        main, ["kb", "search", "card blocked", "--data-dir", str(tmp_path), "--tenant", "demo", "--json"]
    )
    assert done.exit_code == 0, done.output
    [row] = [json.loads(line) for line in done.output.splitlines()]
    assert row["article_id"] == "card-block" and "[card]" in row["snippet"]
    none = runner.invoke(main, ["kb", "search", "PIN", "--data-dir", str(tmp_path), "--tenant", "demo"])
    assert none.exit_code == 1  # pin-reset is written, never published


def test_api_search_and_its_validation() -> None:
    kb, lib = kb_processor(), KbLibrary()
    state, library = kb.initial_state(), lib.initial_state()
    for i, c in enumerate(COMMANDS):
        state, outs = kb.process(state, Message(Envelope(f"e{i}", "demo", i, f"c{i}"), c))
        for out in outs:
            library, _ = lib.process(library, out)
    app = create_app(live=None)  # type: ignore[arg-type]
    client = TestClient(app)
    assert client.get("/v1/kb/search", params={"q": "card"}).status_code == 503
    app.state.kb = index_source(lambda: library, "demo")
    body = client.get("/v1/kb/search", params={"q": "blocking cards", "category": "CARDS"}).json()
    assert body["count"] == 1 and body["results"][0]["article_id"] == "card-block"
    assert client.get("/v1/kb/search", params={"q": "card", "limit": 0}).status_code == 422
    assert client.get("/v1/kb/search", params={"q": "  "}).status_code == 422
