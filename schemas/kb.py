"""Knowledge-base events (topic `cc.kb-events`, keyed by tenant, namespace `ccx.kb`): article
versions as written, which version is published, and agents' feedback. Decided by
`processors.knowledge_base`; the search index (`analytics.kb_search`) is rebuilt from them
(docs/knowledge-base.md). Times are the envelope's `occurred_at`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ArticlePublished", "ArticleRated", "ArticleUnpublished", "ArticleWritten"]


@dataclass(frozen=True, slots=True)
class ArticleWritten:
    """Version `version` (1 for a new article) of `article_id`: its whole text, not a diff.
    Writing does not publish: the published version, if any, stays until the next publish."""

    article_id: str
    version: int
    title: str
    body: str
    category: str
    tags: tuple[str, ...]
    author: str


@dataclass(frozen=True, slots=True)
class ArticlePublished:
    """`version` of `article_id` is the published one now (`previous`: the version it
    replaces, 0 if none)."""

    article_id: str
    version: int
    previous: int


@dataclass(frozen=True, slots=True)
class ArticleUnpublished:
    """`article_id` (its `version` was published) is out of search."""

    article_id: str
    version: int
    reason: str


@dataclass(frozen=True, slots=True)
class ArticleRated:
    """Agent `agent_id` rated `version` (the published one) of `article_id` on `contact_id`."""

    article_id: str
    version: int
    helped: bool
    agent_id: str
    contact_id: str
