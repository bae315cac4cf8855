"""`ccx kb search`: the knowledge base's library rebuilt from the log, indexed, searched.

The library folds the recorded `cc.kb-events`. When the kb processor has never run on this
log (it is optional, not in the default runner set), its decisions are re-made in memory
from `cc.commands` first — the same decider over the same records in the runner's order, so
the same events — and folded instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from analytics.kb_search import Hit, KbIndex
from ccx.bootstrap import open_log
from ccx.settings import Settings
from processors.kb_search import Library, fold
from processors.knowledge_base import kb_processor
from streams import topics
from streams.replay import decisions

__all__ = ["as_dicts", "index_source", "library_from_log", "render"]


def library_from_log(settings: Settings) -> Library:
    """The library as the log has it now (recorded decisions, else re-made ones)."""
    log, serde = open_log(settings)
    library = Library()
    try:
        for m in decisions(log, serde, kb_processor(), topics.KB_EVENTS.name):
            library = fold(library, m)
        return library
    finally:
        log.close()


def index_source(library: Any, tenant: str) -> Any:
    """A search function over a changing library (a callable returning it, e.g. a runner's
    state): the index is synced before each search, re-indexing only what changed. For
    `app.state.kb` (api/kb.py)."""
    index = KbIndex(tenant)

    def search(query: str, category: str | None, tag: str | None, limit: int) -> list[Hit]:
        index.sync(library())
        return index.search(query, category=category, tag=tag, limit=limit)

    return search


def render(hits: list[Hit]) -> str:
    """One article a block: rank, id (version), category, score, title, snippet."""
    if not hits:
        return "no published article matches\n"
    out = []
    for i, h in enumerate(hits, 1):
        out.append(f"{i:>2}. {h.article_id} (v{h.version}, {h.category}, score {h.score:.2f})  {h.title}\n")
        out.append(f"    {h.snippet}\n")
    return "".join(out)


def as_dicts(hits: list[Hit]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(h) for h in hits]
