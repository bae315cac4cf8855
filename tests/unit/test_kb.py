"""The knowledge-base decider: versions, publish / unpublish, ratings, rejections with stable
codes, invalid input naming the field, the ACD ignoring KB commands, and exact replay."""

from __future__ import annotations

from typing import Any

import pytest

from processors.acd import ACD
from processors.decider import Invalid
from processors.knowledge_base import REJECTION_CODES, KnowledgeBase, kb_processor
from schemas.envelope import Envelope, Message
from schemas.kb import ArticlePublished, ArticleRated, ArticleUnpublished, ArticleWritten
from schemas.kb_commands import PublishArticle, RateArticle, UnpublishArticle, WriteArticle
from schemas.system import CommandRejected

T0 = 1_767_600_000_000


class Run:
    """Feeds commands through the processor as the runner would; keeps inputs and outputs."""

    def __init__(self) -> None:
        self.p = kb_processor()
        self.state = self.p.initial_state()
        self.inputs: list[Message[Any]] = []
        self.outputs: list[Message[Any]] = []

    def __call__(self, body: object, actor: str = "editor-1", tenant: str = "t1") -> list[object]:
        n = len(self.inputs)
        msg = Message(Envelope(f"m{n}", tenant, T0 + n * 1000, f"c{n}", actor=actor), body)
        self.inputs.append(msg)
        self.state, outs = self.p.process(self.state, msg)
        self.outputs += outs
        return [o.body for o in outs]


def write(
    article_id: str = "card-block", title: str = "Block a card", body: str = "Block it."
) -> WriteArticle:
    return WriteArticle(article_id, title, body, "cards", ("card", "fraud"), "")


def test_every_write_is_the_next_version_with_the_whole_text() -> None:
    run = Run()
    assert run(write()) == [
        ArticleWritten("card-block", 1, "Block a card", "Block it.", "cards", ("card", "fraud"), "editor-1")
    ]
    second = WriteArticle("card-block", "Block a card", "Block it now.", "cards", ("card",), "ann")
    assert run(second) == [
        ArticleWritten("card-block", 2, "Block a card", "Block it now.", "cards", ("card",), "ann")
    ]
    assert run(write("pin-reset", "Reset a PIN")) == [
        ArticleWritten("pin-reset", 1, "Reset a PIN", "Block it.", "cards", ("card", "fraud"), "editor-1")
    ]


def test_publish_the_latest_or_a_given_version_and_unpublish() -> None:
    run = Run()
    run(write())
    run(write(body="v2"))
    assert run(PublishArticle("card-block")) == [ArticlePublished("card-block", 2, 0)]
    assert run(PublishArticle("card-block", 1)) == [ArticlePublished("card-block", 1, 2)]
    run(write(body="v3"))  # writing does not publish: version 1 stays published
    assert run(RateArticle("card-block", True, "a7", "c-9")) == [
        ArticleRated("card-block", 1, True, "a7", "c-9")
    ]
    assert run(UnpublishArticle("card-block", "outdated")) == [
        ArticleUnpublished("card-block", 1, "outdated")
    ]
    assert run(PublishArticle("card-block")) == [ArticlePublished("card-block", 3, 0)]


@pytest.mark.parametrize(
    ("setup", "command", "code"),
    [
        ([PublishArticle("card-block")], PublishArticle("card-block"), "version_already_published"),
        ([PublishArticle("card-block", 1)], PublishArticle("card-block", 0), "version_already_published"),
        ([], UnpublishArticle("card-block"), "article_not_published"),
        (
            [PublishArticle("card-block"), UnpublishArticle("card-block")],
            UnpublishArticle("card-block"),
            "article_not_published",
        ),
        ([], RateArticle("card-block", True, "a1"), "article_not_published"),
        ([], write(), "unchanged"),
    ],
)
def test_state_conflicts_are_rejected_with_a_stable_code(
    setup: list[object], command: object, code: str
) -> None:
    run = Run()
    run(write())
    for c in setup:
        run(c)
    [rejected] = run(command)
    assert isinstance(rejected, CommandRejected)
    assert rejected.code == code and code in REJECTION_CODES
    assert rejected.reason


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (WriteArticle("a1", "", "body", "cards"), "title"),
        (WriteArticle("a1", "   ", "body", "cards"), "title"),
        (WriteArticle("", "Title", "body", "cards"), "article_id"),
        (WriteArticle("a1", "Title", "", "cards"), "body"),
        (WriteArticle("a1", "Title", "body", ""), "category"),
        (WriteArticle("a1", "Title", "body", "cards", ("ok", " ")), "tags[1]"),
        (WriteArticle("a1", "T" * 301, "body", "cards"), "title"),
        (PublishArticle("nope"), "article_id"),
        (PublishArticle("card-block", 2), "version"),
        (PublishArticle("card-block", -1), "version"),
        (UnpublishArticle("nope"), "article_id"),
        (RateArticle("nope", True, "a1"), "article_id"),
        (RateArticle("card-block", True, ""), "agent_id"),
    ],
)
def test_invalid_input_names_the_field(command: object, field: str) -> None:
    run = Run()
    run(write())
    with pytest.raises(Invalid) as e:
        run(command)
    assert e.value.reason.startswith(field), e.value.reason


def test_tenants_are_separate_and_other_commands_are_ignored() -> None:
    run = Run()
    run(write(), tenant="t1")
    with pytest.raises(Invalid):
        run(PublishArticle("card-block"), tenant="t2")
    assert run(write(), tenant="t2")[0] == ArticleWritten(
        "card-block", 1, "Block a card", "Block it.", "cards", ("card", "fraud"), "editor-1"
    )
    from schemas.commands import Tick

    assert run(Tick()) == []


def test_the_acd_ignores_kb_commands() -> None:
    acd = ACD()
    for body in (write(), PublishArticle("x"), UnpublishArticle("x"), RateArticle("x", True, "a1")):
        msg = Message(Envelope("e1", "t1", T0, "c1"), body)
        assert acd.decide(acd.initial_state(), msg) == ()


def test_replay_decides_byte_for_byte_the_same() -> None:
    run = Run()
    commands: list[object] = [
        write(),
        write(body="v2"),
        PublishArticle("card-block"),
        PublishArticle("card-block"),
        RateArticle("card-block", False, "a2", "c1"),
        write("pin-reset", "Reset a PIN", "Use the app."),
        PublishArticle("pin-reset", 1),
        UnpublishArticle("card-block"),
        RateArticle("card-block", True, "a2"),
    ]
    for c in commands:
        run(c)
    replay = kb_processor()
    state = replay.initial_state()
    again: list[Message[Any]] = []
    for msg in run.inputs:
        state, outs = replay.process(state, msg)
        again += outs
    assert again == run.outputs
    assert state == run.state
    assert [type(o.body).__name__ for o in again].count("CommandRejected") == 2


def test_decider_name_and_topics() -> None:
    p = kb_processor()
    assert p.name == KnowledgeBase.name == "kb"
    assert p.inputs == ("cc.commands",)
    assert p.outputs == ("cc.kb-events", "cc.command-results")
