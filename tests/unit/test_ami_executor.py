"""The AMI executor against a fake client: each action once, stale ones skipped, failures
as `SwitchActionFailed` facts with derived ids."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from schemas import switch_actions as a
from schemas.envelope import Envelope, Message, derive_event_id
from schemas.telephony import SwitchActionFailed
from telephony.ami.client import ActionFailed, ActionTimeout
from telephony.ami.executor import Executor


class FakeClient:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail = fail

    def __getattr__(self, name: str) -> Any:
        async def action(*args: Any, **kwargs: Any) -> dict[str, str]:
            self.calls.append((name, args, kwargs))
            if self.fail is not None:
                raise self.fail
            return {"Response": "Success"}

        return action


def msg(body: object, event_id: str = "act-1", at: int = 1_000) -> Message[Any]:
    return Message(Envelope(event_id, "acme", at, "c1", "cause-1", "switch"), body)


ORIGINATE = a.OriginateAgent("c1", "a1", "PJSIP/a1", "PJSIP/trunk-1", "ccx-x", "ccx-agent", "s", "c1", 15)


def test_each_action_is_performed_once_with_the_correlation_variables() -> None:
    client = FakeClient()
    ex = Executor(client, clock=lambda: 2_000)
    assert asyncio.run(ex.execute(msg(ORIGINATE))) == []
    assert asyncio.run(ex.execute(msg(ORIGINATE))) == []  # replayed: not again
    [(name, args, kwargs)] = client.calls
    variables: Mapping[str, str] = kwargs["variables"]
    assert (name, args, kwargs["channel_id"], kwargs["timeout_ms"]) == (
        "originate",
        ("PJSIP/a1",),
        "ccx-x",
        15_000,
    )
    assert variables == {"CCX_CONTACT": "c1", "CCX_ACTION": "act-1", "CCX_CALLER": "PJSIP/trunk-1"}
    asyncio.run(ex.execute(msg(a.BridgeCall("c1", "PJSIP/trunk-1", "PJSIP/a1-2"), "act-2")))
    asyncio.run(ex.execute(msg(a.HangupChannel("c1", "PJSIP/a1-2", 16), "act-3")))
    asyncio.run(ex.execute(msg(a.Spy("c1", "PJSIP/sup", "PJSIP/a1-2", "whisper"), "act-4")))
    assert [c[0] for c in client.calls] == ["originate", "bridge", "hangup", "chanspy"]
    assert (ex.stats.executed, ex.stats.duplicates) == (4, 1)


def test_stale_actions_are_skipped() -> None:
    client = FakeClient()
    ex = Executor(client, clock=lambda: 1_000 + 61_000)
    assert asyncio.run(ex.execute(msg(ORIGINATE))) == [] and client.calls == []
    assert ex.stats.stale == 1


def test_a_failure_is_a_fact_with_a_derived_id() -> None:
    for error in (ActionFailed("Originate", {"Message": "Originate failed"}), ActionTimeout("no answer")):
        ex = Executor(FakeClient(error), clock=lambda: 3_000)
        [fact] = asyncio.run(ex.execute(msg(ORIGINATE)))
        body = fact.body
        assert isinstance(body, SwitchActionFailed)
        assert (body.action_id, body.action, body.contact_id, body.channel, body.uniqueid) == (
            "act-1", "OriginateAgent", "c1", "PJSIP/a1", "ccx-x",
        )  # fmt: skip
        assert body.error == type(error).__name__ and str(error) == body.reason
        env = fact.envelope
        assert (env.event_id, env.causation_id, env.correlation_id, env.occurred_at) == (
            derive_event_id("act-1", 0), "act-1", "c1", 3_000,
        )  # fmt: skip


def test_a_prompt_is_played_by_setting_the_variables_and_redirecting_to_the_play_context() -> None:
    client = FakeClient()
    ex = Executor(client, clock=lambda: 2_000)
    play = a.PlayPrompt("c1", "PJSIP/trunk-1", "welcome", "play-7", False, "ccx-play")
    assert asyncio.run(ex.execute(msg(play))) == []
    assert [(name, args) for name, args, _kw in client.calls] == [
        ("setvar", ("PJSIP/trunk-1", "CCX_PROMPT", "welcome")),
        ("setvar", ("PJSIP/trunk-1", "CCX_PROMPT_TTS", "0")),
        ("setvar", ("PJSIP/trunk-1", "CCX_PLAY_ID", "play-7")),
        ("redirect", ("PJSIP/trunk-1", "ccx-play", "s")),
    ]


def test_a_recording_is_paused_and_resumed_with_mixmonitormute_and_a_missing_one_is_a_fact() -> None:
    client = FakeClient()
    ex = Executor(client, clock=lambda: 2_000)
    assert asyncio.run(ex.execute(msg(a.PauseRecording("c1", "PJSIP/trunk-1", "card_data")))) == []
    assert asyncio.run(ex.execute(msg(a.ResumeRecording("c1", "PJSIP/trunk-1"), "act-2"))) == []
    assert [(name, args) for name, args, _kw in client.calls] == [
        ("pause_mixmonitor", ("PJSIP/trunk-1", True)),
        ("pause_mixmonitor", ("PJSIP/trunk-1", False)),
    ]
    failing = Executor(FakeClient(ActionFailed("MixMonitorMute", {"Message": "No such channel"})))
    [fact] = asyncio.run(failing.execute(msg(a.PauseRecording("c1", "PJSIP/trunk-1", "card_data"))))
    assert isinstance(fact.body, SwitchActionFailed)
    assert (fact.body.action, fact.body.channel, fact.body.error) == (
        "PauseRecording", "PJSIP/trunk-1", "ActionFailed",
    )  # fmt: skip
