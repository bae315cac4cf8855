"""The knowledge base's published library: the read model the search index is built from
(processor "kb-search", a projection of `cc.kb-events` that writes nothing).

`fold` keeps, per tenant, every article's written versions, which one is published and the
agents' ratings. `published(library, tenant)` is what search sees: the published version's
text of every published article, with its "this helped" counts. The full-text index
(`analytics.kb_search.KbIndex`) is disposable: it is (re)built from this state, which is
rebuilt from the log. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.pmap import PMap
from schemas.envelope import Message
from schemas.kb import ArticlePublished, ArticleRated, ArticleUnpublished, ArticleWritten

__all__ = ["Doc", "KbLibrary", "Library", "Shelf", "fold", "published"]


@dataclass(frozen=True, slots=True)
class Doc:
    """One published article as search sees it."""

    article_id: str
    version: int
    title: str
    body: str
    category: str
    tags: tuple[str, ...]
    helped: int
    not_helped: int


@dataclass(frozen=True, slots=True)
class Shelf:
    """One article: its versions' texts, the published version (0: none) and its ratings."""

    versions: dict[int, ArticleWritten] = field(default_factory=dict)
    published: int = 0
    helped: int = 0
    not_helped: int = 0


@dataclass(frozen=True, slots=True)
class Library:
    tenants: dict[str, PMap[Shelf]] = field(default_factory=dict)
    revision: int = 0
    """Counts the folded events that changed what search sees: an index built at this
    revision is current."""


def _fold_shelf(shelf: Shelf, body: object) -> tuple[Shelf, bool]:
    """The shelf after `body`, and whether what search sees changed."""
    if isinstance(body, ArticleWritten):
        return replace(shelf, versions={**shelf.versions, body.version: body}), False
    if isinstance(body, ArticlePublished):
        return replace(shelf, published=body.version), True
    if isinstance(body, ArticleUnpublished):
        return replace(shelf, published=0), True
    if isinstance(body, ArticleRated):
        if body.helped:
            return replace(shelf, helped=shelf.helped + 1), bool(shelf.published)
        return replace(shelf, not_helped=shelf.not_helped + 1), bool(shelf.published)
    return shelf, False


def fold(library: Library, message: Message[Any]) -> Library:
    body = message.body
    article_id = getattr(body, "article_id", None)
    if article_id is None or not isinstance(
        body, ArticleWritten | ArticlePublished | ArticleUnpublished | ArticleRated
    ):
        return library
    tenant = message.envelope.tenant
    shelves: PMap[Shelf] = library.tenants.get(tenant) or PMap()
    shelf, changed = _fold_shelf(shelves.get(article_id) or Shelf(), body)
    tenants = {**library.tenants, tenant: shelves.set(article_id, shelf)}
    return Library(tenants, library.revision + changed)


def published(library: Library, tenant: str) -> list[Doc]:
    """Every published article of `tenant` (its published version's text), by article id."""
    docs = []
    shelves: PMap[Shelf] = library.tenants.get(tenant) or PMap()
    for article_id in sorted(shelves):
        shelf = shelves[article_id]
        written = shelf.versions.get(shelf.published)
        if written is None:
            continue
        docs.append(
            Doc(
                article_id,
                written.version,
                written.title,
                written.body,
                written.category,
                tuple(written.tags),
                shelf.helped,
                shelf.not_helped,
            )
        )
    return docs


@dataclass(frozen=True)
class KbLibrary:
    """The library as a runner drives it (a projection: it writes nothing)."""

    name: str = "kb-search"
    version: int = 1
    inputs: tuple[str, ...] = ("cc.kb-events",)
    outputs: tuple[str, ...] = ()

    def initial_state(self) -> Library:
        return Library()

    def process(self, state: Library, message: Message[Any]) -> tuple[Library, Sequence[Message[Any]]]:
        return fold(state, message), ()
