"""The Asterisk Manager Interface (AMI) edge: the only code in ccx that speaks AMI.

- `frames`: the wire protocol, bytes in, messages (or errors naming the line) out;
  and JSON-list recordings.
- `mapper`: a pure translator from AMI events to the switch facts of `schemas.telephony`,
  correlated per call, deduplicated, in order.
- `client`: the asyncio connection (login, reconnect with backoff, resync, actions).
- `adapter`: the glue from frames to `Message`s for `cc.telephony`, bad input as dead letters.

Nothing here imports `streams`, `analytics`, `api` or `ccx` (see `telephony/__init__.py`).
"""
