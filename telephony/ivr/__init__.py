"""IVR flows: YAML files (`flow`, `model`), checked with every problem reported at once, run
by a pure interpreter (`interpreter`) that edges feed with facts (`messages`: DTMF, prompt
finished, ticks, lookup answers, hang-ups) and whose effects they carry out; `drive` runs a
flow offline against scripted callers (the CLI's `ccx ivr run`, tests, the simulator);
`processor` keeps many contacts' sessions from input messages, with derived envelopes.
The format is documented in docs/ivr.md.
"""
