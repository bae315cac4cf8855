"""Knowledge-base search relevance on a fixture corpus of 25 contact-center articles
(ccx/demo/kb_articles.json, also `ccx up`'s demo knowledge base): the right article ranks
first for a caller's words; only published versions are found; a newer published version
replaces the old text; "this helped" ratings nudge near-ties; filters, folding and snippets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics.kb_search import KbIndex, match_expression, plain_text
from processors.kb_search import KbLibrary, Library, published
from processors.knowledge_base import kb_processor
from schemas.envelope import Envelope, Message
from schemas.kb_commands import PublishArticle, RateArticle, UnpublishArticle, WriteArticle

CORPUS = json.loads((Path(__file__).parents[2] / "ccx/demo/kb_articles.json").read_text())
TENANT = "bank"


class Kb:
    """The decider and the library projection driven together, as their runners would."""

    def __init__(self) -> None:
        self.kb, self.lib = kb_processor(), KbLibrary()
        self.kb_state, self.library = self.kb.initial_state(), Library()
        self.n = 0

    def __call__(self, body: object) -> None:
        self.n += 1
        msg = Message(Envelope(f"m{self.n}", TENANT, 1_767_600_000_000 + self.n, f"c{self.n}"), body)
        self.kb_state, outs = self.kb.process(self.kb_state, msg)
        for out in outs:
            self.library, _ = self.lib.process(self.library, out)

    def write(self, a: dict[str, Any], publish: bool = True) -> None:
        self(WriteArticle(a["id"], a["title"], a["body"], a["category"], tuple(a["tags"]), "kb-team"))
        if publish:
            self(PublishArticle(a["id"]))

    def index(self) -> KbIndex:
        return KbIndex.build(self.library, TENANT)


@pytest.fixture(scope="module")
def corpus() -> Kb:
    kb = Kb()
    for a in CORPUS:
        kb.write(a)
    return kb


QUERIES = [
    ("please block my card", "card-block"),
    ("I forgot my PIN number", "pin-reset"),
    ("I moved house and need to update my address", "address-change"),
    ("why was I charged an overdraft fee", "overdraft-fees"),
    ("lost my card on holiday in Spain", "card-lost-abroad"),
    ("my wallet was stolen abroad with my card", "card-lost-abroad"),
    ("I sent money to the wrong account by mistake", "transfer-wrong-iban"),
    ("payment declined at the supermarket", "card-declined"),
    ("the cash machine did not give me my money", "cash-withdrawal-failed"),
    ("can't log in to online banking", "online-banking-locked"),
    ("my husband passed away", "deceased-customer"),
    ("got a weird email asking for my password", "phishing"),
    ("fees for paying in dollars", "foreign-fees"),
    ("how do I cancel a standing order", "standing-order"),
    ("I got a new phone, the app does not work", "app-new-phone"),
    ("my transfer never arrived", "transfer-missing"),
    ("I want to close my account", "account-close"),
    ("refund of a direct debit I did not authorise", "direct-debit-refund"),
    ("can I pause my mortgage payments", "mortgage-payment-holiday"),
    # word forms the Porter stemmer folds: "blocking" / "blocked" / "block", "declines" / "declined"
    ("blocking a card", "card-block"),
    ("card declines", "card-declined"),
    # case and diacritics fold: "ÁDDRESS CHÄNGE" is "address change"
    ("ÁDDRESS CHÄNGE", "address-change"),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_the_right_article_ranks_first(corpus: Kb, query: str, expected: str) -> None:
    hits = corpus.index().search(query, limit=3)
    assert hits and hits[0].article_id == expected, [(h.article_id, h.score) for h in hits]


def test_results_carry_a_snippet_with_the_matched_words(corpus: Kb) -> None:
    [hit] = corpus.index().search("card blocked", limit=1)
    assert hit.article_id == "card-block" and hit.version == 1 and hit.category == "cards"
    assert "[block]" in hit.snippet.lower() and "**" not in hit.snippet and "#" not in hit.snippet
    assert hit.score > 0 and hit.tags == ("card", "security", "fraud")


def test_title_words_weigh_more_than_body_words() -> None:
    kb = Kb()
    kb.write({"id": "in-title", "title": "Overdraft", "body": "See the rules.", "category": "x", "tags": []})
    kb.write(
        {"id": "in-body", "title": "Rules", "body": "The overdraft rules apply.", "category": "x", "tags": []}
    )
    assert [h.article_id for h in kb.index().search("overdraft")] == ["in-title", "in-body"]


def test_category_and_tag_filters(corpus: Kb) -> None:
    index = corpus.index()
    assert {h.article_id for h in index.search("fees", category="FEES", limit=50)} == {
        "overdraft-fees",
        "account-fees",
        "foreign-fees",
    }
    travel = {h.article_id for h in index.search("card fees abroad", tag="travel", limit=50)}
    assert travel == {"card-lost-abroad", "moving-abroad", "foreign-fees"}
    assert index.search("card", category="no-such-category") == []


def test_unpublished_and_never_published_articles_are_never_found() -> None:
    kb = Kb()
    kb.write(CORPUS[0])  # card-block, published
    kb.write({**CORPUS[1], "title": "Secret draft about card blocking"}, publish=False)
    assert [h.article_id for h in kb.index().search("card block secret draft", limit=10)] == ["card-block"]
    kb(UnpublishArticle("card-block", "outdated"))
    assert kb.index().search("card block secret draft", limit=10) == []
    assert published(kb.library, TENANT) == []


def test_a_newer_published_version_replaces_the_old_text() -> None:
    kb = Kb()
    kb.write(
        {"id": "fees", "title": "Fees", "body": "A transfer costs 2 euro.", "category": "fees", "tags": []}
    )
    index = kb.index()
    assert [h.article_id for h in index.search("transfer")] == ["fees"]
    kb(WriteArticle("fees", "Fees", "Cash withdrawals are free.", "fees"))
    assert index.sync(kb.library) == 0  # written, not yet published: search still sees version 1
    assert [h.version for h in index.search("transfer")] == [1]
    kb(PublishArticle("fees"))
    assert index.sync(kb.library) == 1
    assert index.search("transfer") == []
    [hit] = index.search("withdrawals")
    assert hit.version == 2 and "[withdrawals]" in hit.snippet
    assert len(index) == 1


def test_helpful_ratings_nudge_near_ties_but_not_clear_matches(corpus: Kb) -> None:
    kb = Kb()
    for a in CORPUS:
        kb.write(a)
    before = [h.article_id for h in kb.index().search("card blocked", limit=2)]
    assert before == ["card-block", "card-unblock"]  # nearly tied on text
    for i in range(6):
        kb(RateArticle("card-unblock", True, f"agent-{i}", f"contact-{i}"))
    kb(RateArticle("card-block", False, "agent-9"))
    after = kb.index().search("card blocked", limit=2)
    assert [h.article_id for h in after] == ["card-unblock", "card-block"]
    assert after[0].helped == 6 and after[1].not_helped == 1
    # a clear text match stays first whatever the ratings of the others
    assert kb.index().search("I forgot my PIN number")[0].article_id == "pin-reset"


def test_queries_are_plain_words_never_fts_syntax(corpus: Kb) -> None:
    index = corpus.index()
    for query in ['"', "card AND", "NEAR(card pin)", "pin*", "title:card", "-card", ")(", "OR"]:
        index.search(query)  # no sqlite3.OperationalError
    assert index.search("") == [] and index.search("   ?! ") == []
    assert match_expression("The card, the CARD!") == '"card"'
    assert match_expression("stolen") == '"stolen" OR "lost"'


def test_markdown_is_indexed_as_plain_text() -> None:
    assert plain_text("# Title\n\n- **bold** and [a link](http://x.y/z)\n1. `code`") == (
        "Title bold and a link code"
    )


def test_the_index_is_rebuilt_from_the_events_alone(corpus: Kb) -> None:
    # folding the decided events again (as from the log) gives the same results
    kb = Kb()
    for a in CORPUS:
        kb.write(a)
    first, second = corpus.index(), kb.index()
    for query, _ in QUERIES:
        assert first.search(query) == second.search(query)
