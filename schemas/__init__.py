"""The contracts of ccx: every command and event as a frozen dataclass with an Avro schema.

`schemas.envelope` holds the common envelope, `schemas.commands`, `schemas.contact`,
`schemas.agent`, `schemas.config`, `schemas.cdr`, `schemas.legs`, `schemas.ivr`,
`schemas.telephony` (switch facts) and `schemas.system` hold the bodies, `schemas.catalog`
lists every type with its schema version, and `schemas.avro` derives the Avro schemas
(checked in under `schemas/avro/`) and encodes and decodes bodies.
Nothing here does I/O or reads a clock.
"""
