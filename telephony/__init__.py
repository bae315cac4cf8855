"""Edges to the switch: they turn the outside world into commands for `cc.commands`.

`telephony.simulator` is the built-in traffic simulator (seeded, deterministic callers
and agents); the Asterisk AMI adapter and the IVR flow engine live beside it. Nothing
here imports `streams`, `analytics`, `api` or `ccx`: edges only make `Message`s, and the
composition root (`ccx/`) decides where they go.
"""
