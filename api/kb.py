"""`GET /v1/kb/search`: full-text search over the published knowledge base, for the agent
desktop (the caller's problem words in, ranked articles with a snippet out).

The composition root puts a search function on `app.state.kb` (`KbSearch`,
`ccx.kb.index_source`); without one the route answers 503.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

__all__ = ["KbSearch", "router"]

KbSearch = Callable[[str, str | None, str | None, int], list[Any]]
"""(query, category, tag, limit) -> hits (dataclasses), best first."""

router = APIRouter(tags=["knowledge base"])


@router.get("/v1/kb/search")
def kb_search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The caller's problem, in words")],
    category: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Published articles ranked by BM25 (title boosted, "this helped" ratings a small nudge)."""
    search: KbSearch | None = getattr(request.app.state, "kb", None)
    if search is None:
        raise HTTPException(503, "this API serves no knowledge base")
    if not q.strip():
        raise HTTPException(
            422, [{"loc": ["query", "q"], "msg": "q must not be blank", "type": "value_error"}]
        )
    hits = search(q, category, tag, limit)
    return {"query": q, "results": [dataclasses.asdict(h) for h in hits], "count": len(hits)}
