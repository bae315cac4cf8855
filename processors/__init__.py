"""Pure deciders and projections: the ACD, contacts/CDR, live stats and the metric definitions.

They import `schemas` and the standard library only; no I/O, no clock, no randomness.
"""
