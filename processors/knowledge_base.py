"""The knowledge-base decider (processor "kb"): article versions, publish and unpublish, and
agents' "this helped" feedback, on `cc.kb-events` (docs/knowledge-base.md).

Input: `cc.commands` (`schemas.kb_commands`; every other command is ignored). Every
`WriteArticle` is the article's next version (`ArticleWritten`, the whole text); writing does
not publish. `PublishArticle` publishes one version (0: the latest), replacing the one
published before; `UnpublishArticle` takes the article out of search; `RateArticle` rates
the published version. `decide` raises `Invalid` (the runner dead-letters the command) for
input that is unacceptable whatever the state — an empty field, an unknown article or
version — naming the field, and `Rejected` with a stable code (`REJECTION_CODES`) for a
well-formed command that conflicts with the state, such as publishing the version already
published. Pure: no clock, no I/O; state is per tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors.decider import DeciderProcessor, Invalid, Rejected
from processors.pmap import PMap
from schemas.envelope import Message
from schemas.kb import ArticlePublished, ArticleRated, ArticleUnpublished, ArticleWritten
from schemas.kb_commands import PublishArticle, RateArticle, UnpublishArticle, WriteArticle

__all__ = [
    "MAX_BODY",
    "MAX_TITLE",
    "REJECTION_CODES",
    "Article",
    "KbState",
    "KnowledgeBase",
    "kb_processor",
]

MAX_TITLE = 300
MAX_BODY = 200_000
"""Characters: an article is read by an agent on a call, not a manual."""
MAX_TAGS = 50
REJECTION_CODES = ("version_already_published", "article_not_published", "unchanged")
_COMMANDS = (WriteArticle, PublishArticle, UnpublishArticle, RateArticle)


@dataclass(frozen=True, slots=True)
class Article:
    article_id: str
    version: int
    """The latest version written."""
    published: int = 0
    """The published version, 0 if none."""
    digest: tuple[str, str, str, tuple[str, ...]] = ("", "", "", ())
    """The latest version's (title, body, category, tags): a write that changes nothing is refused."""


@dataclass(frozen=True, slots=True)
class KbState:
    tenants: dict[str, PMap[Article]] = field(default_factory=dict)

    def articles(self, tenant: str) -> PMap[Article]:
        return self.tenants.get(tenant) or PMap()


def _text(value: str, name: str, limit: int) -> None:
    if not value.strip():
        raise Invalid(f"{name} must not be empty")
    if len(value) > limit:
        raise Invalid(f"{name} is {len(value)} characters; at most {limit}")


def _article(articles: PMap[Article], article_id: str) -> Article:
    _text(article_id, "article_id", 200)
    article = articles.get(article_id)
    if article is None:
        raise Invalid(f"article_id: unknown article {article_id!r} (write it with WriteArticle)")
    return article


def _write(articles: PMap[Article], cmd: WriteArticle, actor: str) -> list[object]:
    _text(cmd.article_id, "article_id", 200)
    _text(cmd.title, "title", MAX_TITLE)
    _text(cmd.body, "body", MAX_BODY)
    _text(cmd.category, "category", 100)
    if len(cmd.tags) > MAX_TAGS:
        raise Invalid(f"tags: {len(cmd.tags)} tags; at most {MAX_TAGS}")
    for i, tag in enumerate(cmd.tags):
        if not tag.strip():
            raise Invalid(f"tags[{i}] must not be empty")
    tags = tuple(dict.fromkeys(t.strip() for t in cmd.tags))
    old = articles.get(cmd.article_id)
    if old is not None and old.digest == (cmd.title, cmd.body, cmd.category, tags):
        raise Rejected("unchanged", f"version {old.version} of {cmd.article_id!r} has this text already")
    version = 1 if old is None else old.version + 1
    author = cmd.author or actor
    return [ArticleWritten(cmd.article_id, version, cmd.title, cmd.body, cmd.category, tags, author)]


def _publish(articles: PMap[Article], cmd: PublishArticle) -> list[object]:
    article = _article(articles, cmd.article_id)
    if cmd.version < 0 or cmd.version > article.version:
        raise Invalid(
            f"version: {cmd.article_id!r} has versions 1 to {article.version} (0: the latest), "
            f"not {cmd.version}"
        )
    version = cmd.version or article.version
    if article.published == version:
        raise Rejected(
            "version_already_published", f"version {version} of {cmd.article_id!r} is published already"
        )
    return [ArticlePublished(cmd.article_id, version, article.published)]


def _unpublish(articles: PMap[Article], cmd: UnpublishArticle) -> list[object]:
    article = _article(articles, cmd.article_id)
    if not article.published:
        raise Rejected("article_not_published", f"{cmd.article_id!r} is not published")
    return [ArticleUnpublished(cmd.article_id, article.published, cmd.reason)]


def _rate(articles: PMap[Article], cmd: RateArticle) -> list[object]:
    article = _article(articles, cmd.article_id)
    _text(cmd.agent_id, "agent_id", 200)
    if not article.published:
        raise Rejected("article_not_published", f"{cmd.article_id!r} is not published: nobody can rate it")
    return [ArticleRated(cmd.article_id, article.published, cmd.helped, cmd.agent_id, cmd.contact_id)]


def apply(articles: PMap[Article], body: object) -> PMap[Article]:
    """Fold one event into a tenant's articles (a new map; never validates)."""
    if isinstance(body, ArticleWritten):
        old = articles.get(body.article_id)
        digest = (body.title, body.body, body.category, tuple(body.tags))
        article = (
            Article(body.article_id, body.version, 0, digest)
            if old is None
            else replace(old, version=body.version, digest=digest)
        )
    elif isinstance(body, ArticlePublished) and body.article_id in articles:
        article = replace(articles[body.article_id], published=body.version)
    elif isinstance(body, ArticleUnpublished) and body.article_id in articles:
        article = replace(articles[body.article_id], published=0)
    else:
        return articles
    return articles.set(article.article_id, article)


class KnowledgeBase:
    """The decider (`processors.decider.Decider`)."""

    name = "kb"

    def initial_state(self) -> KbState:
        return KbState()

    def decide(self, state: KbState, command: Message[Any]) -> Sequence[object]:
        body, env = command.body, command.envelope
        if not isinstance(body, _COMMANDS):
            return ()
        articles = state.articles(env.tenant)
        if isinstance(body, WriteArticle):
            return _write(articles, body, env.actor)
        if isinstance(body, PublishArticle):
            return _publish(articles, body)
        if isinstance(body, UnpublishArticle):
            return _unpublish(articles, body)
        return _rate(articles, body)

    def evolve(self, state: KbState, event: Message[Any]) -> KbState:
        tenant = event.envelope.tenant
        articles = state.articles(tenant)
        folded = apply(articles, event.body)
        return state if folded is articles else KbState({**state.tenants, tenant: folded})


def kb_processor() -> DeciderProcessor[KbState]:
    """The decider as the runner drives it: `cc.commands` in, `cc.kb-events` out."""
    return DeciderProcessor(KnowledgeBase(), ("cc.commands",), 1, ("cc.kb-events", "cc.command-results"))
