"""Trunk and port monitoring: channels in use per trunk and IVR ports busy, live.

A projection of the switch facts (`cc.telephony`) and the IVR events (`cc.ivr-events`).
Per tenant it keeps

- the **live channels** by `uniqueid`, each with its trunk (the channel name without its
  sequence suffix, `schemas.channel_names.trunk_of`: `PJSIP/carrier-0000002a` runs on
  `PJSIP/carrier`; an agent's leg `PJSIP/a1-00000012` on `PJSIP/a1`) and whether it is up.
  A channel is **in use** from the first fact naming it (`CallStarted`, `ChannelRinging`,
  the destination of `DialStarted`, or any later channel fact when it was learned late)
  until its `CallHungUp` — a ringing channel holds a trunk channel too — and **up** from
  its `ChannelAnswered`;
- the **peak** of channels in use per trunk for the current (UTC) day, with its time;
- the contacts in an IVR flow now (`IvrStarted` until `IvrEnded`): the **IVR ports
  busy**, per flow, and today's peak.

Facts about channels it never saw are tolerated (they register the channel), a second
`CallHungUp` of a channel changes nothing, and counts never go below zero. The day rolls
over on the first message of a later day (by the envelope's `occurred_at`): peaks restart
from the current use. Facts without a switch timestamp have `occurred_at` 0 and all count
in one day.

`TrunkStats` emits nothing. `trunk_view(state, tenant, capacity)` renders it for the API
and adds, per trunk with a configured capacity, an **Erlang B** hint: the probability a
new call would be blocked if the current (and today's peak) number of busy channels were
the offered traffic in Erlangs, and the channels that peak would need for the grade of
service. It is a hint, not a forecast: the staffing plan (`analytics.staffing`) forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from processors import metrics
from schemas import telephony as t
from schemas.channel_names import trunk_of
from schemas.envelope import Message
from schemas.ivr import IvrEnded, IvrStarted

__all__ = ["TenantTrunks", "TrunkState", "TrunkStats", "channels_for", "erlang_b", "trunk_view"]

DAY_S = 86_400
GRADE_OF_SERVICE = 0.01
"""The blocking probability a trunk is sized for (P.01, the usual grade of service)."""

# Facts that name a live channel (`channel`, `uniqueid`): the first one seen registers it.
_CHANNEL_FACTS = (
    t.CallStarted,
    t.ChannelRinging,
    t.ChannelAnswered,
    t.CallBridged,
    t.CallUnbridged,
    t.CallHeld,
    t.CallResumed,
    t.DtmfReceived,
    t.QueueCallerJoined,
    t.QueueCallerLeft,
    t.QueueCallerAbandoned,
    t.RecordingStarted,
    t.RecordingPaused,
    t.RecordingResumed,
    t.RecordingStopped,
    t.ConferenceJoined,
    t.ConferenceLeft,
)


@dataclass(frozen=True, slots=True)
class Channel:
    trunk: str
    up: bool = False


@dataclass(frozen=True, slots=True)
class Peak:
    value: int = 0
    at: int = 0
    """`occurred_at` (ms) of the message that first reached the value today."""


@dataclass(frozen=True, slots=True)
class TenantTrunks:
    """One tenant's trunks and IVR ports; copy-on-write dicts inside a frozen dataclass."""

    channels: Mapping[str, Channel] = field(default_factory=dict)
    in_use: Mapping[str, int] = field(default_factory=dict)
    up: Mapping[str, int] = field(default_factory=dict)
    peaks: Mapping[str, Peak] = field(default_factory=dict)
    ivr: Mapping[str, str] = field(default_factory=dict)
    """Contacts in an IVR flow now: contact id -> flow id."""
    ivr_peak: Peak = Peak()
    day_start: int = 0


@dataclass(frozen=True, slots=True)
class TrunkState:
    tenants: Mapping[str, TenantTrunks] = field(default_factory=dict)


def _add(counts: Mapping[str, int], key: str, delta: int) -> dict[str, int]:
    value = max(0, counts.get(key, 0) + delta)
    return {**{k: v for k, v in counts.items() if k != key}, **({key: value} if value else {})}


def _roll_day(tt: TenantTrunks, now: int) -> TenantTrunks:
    day = metrics.interval_start(now, DAY_S)
    if day <= tt.day_start:
        return tt
    peaks = {trunk: Peak(n, now) for trunk, n in tt.in_use.items()}
    return replace(tt, peaks=peaks, ivr_peak=Peak(len(tt.ivr), now), day_start=day)


def _seen(tt: TenantTrunks, uniqueid: str, channel: str, now: int, *, up: bool = False) -> TenantTrunks:
    """Register the channel if new; mark it up if `up` (and not yet)."""
    if not uniqueid or not channel:
        return tt
    known = tt.channels.get(uniqueid)
    if known is not None and (known.up or not up):
        return tt
    trunk = known.trunk if known is not None else trunk_of(channel)
    tt = replace(tt, channels={**tt.channels, uniqueid: Channel(trunk, up)})
    if up:
        tt = replace(tt, up=_add(tt.up, trunk, 1))
    if known is not None:
        return tt
    in_use = _add(tt.in_use, trunk, 1)
    tt = replace(tt, in_use=in_use)
    if in_use[trunk] > tt.peaks.get(trunk, Peak()).value:
        tt = replace(tt, peaks={**tt.peaks, trunk: Peak(in_use[trunk], now)})
    return tt


def _gone(tt: TenantTrunks, uniqueid: str) -> TenantTrunks:
    known = tt.channels.get(uniqueid)
    if known is None:  # never seen, or a second hang-up
        return tt
    channels = {k: v for k, v in tt.channels.items() if k != uniqueid}
    tt = replace(tt, channels=channels, in_use=_add(tt.in_use, known.trunk, -1))
    return replace(tt, up=_add(tt.up, known.trunk, -1)) if known.up else tt


def _fold(tt: TenantTrunks, body: object, now: int) -> TenantTrunks:
    match body:
        case t.CallHungUp(uniqueid=uid):
            return _gone(tt, uid)
        case t.ChannelAnswered(uniqueid=uid, channel=ch):
            return _seen(tt, uid, ch, now, up=True)
        case t.DialStarted(dest_uniqueid=uid, dest_channel=ch):
            return _seen(tt, uid, ch, now)
        case IvrStarted(contact_id=cid, flow_id=flow):
            if cid in tt.ivr:
                return tt
            tt = replace(tt, ivr={**tt.ivr, cid: flow})
            if len(tt.ivr) > tt.ivr_peak.value:
                tt = replace(tt, ivr_peak=Peak(len(tt.ivr), now))
            return tt
        case IvrEnded(contact_id=cid):
            return replace(tt, ivr={k: v for k, v in tt.ivr.items() if k != cid}) if cid in tt.ivr else tt
        case _ if isinstance(body, _CHANNEL_FACTS):
            return _seen(tt, str(getattr(body, "uniqueid", "")), str(getattr(body, "channel", "")), now)
        case _:
            return tt


class TrunkStats:
    """Processor `trunks`: folds switch facts and IVR events; emits nothing."""

    name = "trunks"
    version = 1
    inputs: tuple[str, ...] = ("cc.telephony", "cc.ivr-events")
    outputs: tuple[str, ...] = ()

    def __init__(self, name: str = "trunks") -> None:
        self.name = name  # an API instance folds its own copy under its own group

    def initial_state(self) -> TrunkState:
        return TrunkState()

    def process(self, state: TrunkState, message: Message[Any]) -> tuple[TrunkState, Sequence[Message[Any]]]:
        env = message.envelope
        tt = _roll_day(state.tenants.get(env.tenant) or TenantTrunks(), env.occurred_at)
        tt = _fold(tt, message.body, env.occurred_at)
        return replace(state, tenants={**state.tenants, env.tenant: tt}), ()


def erlang_b(traffic: float, channels: int) -> float:
    """Erlang B: the probability that a call offered to `channels` circuits carrying
    `traffic` Erlangs finds them all busy (1.0 with no channels, 0.0 with no traffic)."""
    blocking = 1.0
    for n in range(1, channels + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def channels_for(traffic: float, grade_of_service: float = GRADE_OF_SERVICE) -> int:
    """The fewest channels that carry `traffic` Erlangs with blocking <= `grade_of_service`."""
    if traffic <= 0:
        return 0
    n, blocking = 0, 1.0
    while blocking > grade_of_service:
        n += 1
        blocking = traffic * blocking / (n + traffic * blocking)
    return n


def _capacity_hint(capacity: int, in_use: int, peak: int, gos: float) -> dict[str, Any]:
    at_peak = erlang_b(peak, capacity)
    if in_use >= capacity:
        hint = "full"
    elif at_peak > gos:
        hint = "tight"
    else:
        hint = "ok"
    return {
        "capacity": capacity,
        "free": max(0, capacity - in_use),
        "utilization": round(in_use / capacity, 3) if capacity else None,
        "blocking_now": round(erlang_b(in_use, capacity), 4),
        "blocking_at_peak": round(at_peak, 4),
        "channels_for_peak": channels_for(peak, gos),
        "hint": hint,
    }


def trunk_view(
    state: TrunkState,
    tenant: str,
    capacity: Mapping[str, int] | None = None,
    grade_of_service: float = GRADE_OF_SERVICE,
) -> dict[str, Any]:
    """Per trunk: channels in use and up now, today's peak and, for a trunk with a
    configured `capacity` (trunk -> channels), the Erlang B hint ("ok", "tight": today's
    peak as offered traffic would be blocked more often than `grade_of_service`, "full").
    Then the IVR ports busy now, per flow, and today's peak."""
    tt = state.tenants.get(tenant) or TenantTrunks()
    capacity = capacity or {}
    trunks: list[dict[str, Any]] = []
    for trunk in sorted(set(tt.in_use) | set(tt.peaks) | set(capacity)):
        in_use = tt.in_use.get(trunk, 0)
        peak = tt.peaks.get(trunk, Peak())
        row: dict[str, Any] = {
            "trunk": trunk,
            "in_use": in_use,
            "up": tt.up.get(trunk, 0),
            "peak_today": peak.value,
            "peak_at": peak.at,
        }
        if trunk in capacity:
            row.update(_capacity_hint(capacity[trunk], in_use, peak.value, grade_of_service))
        trunks.append(row)
    flows: dict[str, int] = {}
    for flow in tt.ivr.values():
        flows[flow] = flows.get(flow, 0) + 1
    return {
        "tenant": tenant,
        "day_start": tt.day_start,
        "channels_in_use": sum(tt.in_use.values()),
        "trunks": trunks,
        "ivr": {
            "ports_busy": len(tt.ivr),
            "peak_today": tt.ivr_peak.value,
            "peak_at": tt.ivr_peak.at,
            "by_flow": [{"flow_id": f, "busy": flows[f]} for f in sorted(flows)],
        },
    }
