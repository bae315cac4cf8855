"""Asterisk channel names, as the switch facts carry them (`schemas.telephony`).

A channel's name is its technology, its endpoint or peer and a sequence suffix Asterisk
adds per channel: `PJSIP/carrier-0000002a`, `Local/7711@ctx-0000000d;1`. Without the
suffix it names the **trunk** (or the agent's endpoint) the channel runs on: the `trunk`
of `CallStarted`, and what the trunk monitor (`processors.trunk_stats`) counts channels by.
It lives here, beside the facts, so that the AMI mapper (`telephony.ami`) and the
processors share one definition without the processors importing the edge.
"""

from __future__ import annotations

import re

__all__ = ["trunk_of"]

_SUFFIX = re.compile(r"-[0-9a-fA-F]{8}(;\d)?$")


def trunk_of(channel: str) -> str:
    """The channel's name without its sequence suffix: `PJSIP/provider-0000002a` ->
    `PJSIP/provider`, `Local/7711@ctx-0000000d;1` -> `Local/7711@ctx`."""
    return _SUFFIX.sub("", channel)
