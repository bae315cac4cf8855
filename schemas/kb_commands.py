"""Knowledge-base commands (on `cc.commands`, keyed by tenant, namespace `ccx.command`):
write an article (each write is a new version), publish or unpublish a version, and an
agent's "this helped" feedback. Decided by `processors.knowledge_base`; the ACD ignores them
(docs/knowledge-base.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PublishArticle", "RateArticle", "UnpublishArticle", "WriteArticle"]


@dataclass(frozen=True, slots=True)
class WriteArticle:
    """Write `article_id` (create it, or edit it: every write is the next version). `body` is
    Markdown; `tags` free labels; `author` who wrote it (else the envelope's actor)."""

    article_id: str
    title: str
    body: str
    category: str
    tags: tuple[str, ...] = ()
    author: str = ""


@dataclass(frozen=True, slots=True)
class PublishArticle:
    """Publish `version` of `article_id` (0: its latest version) for agents to find; it
    replaces the version published before."""

    article_id: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class UnpublishArticle:
    """Withdraw `article_id` from search (its versions stay in the log)."""

    article_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RateArticle:
    """Agent `agent_id` says whether `article_id` `helped` on contact `contact_id` ("" if none)."""

    article_id: str
    helped: bool
    agent_id: str
    contact_id: str = ""
