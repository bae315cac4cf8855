"""The log: the port (`ports`), the topic registry (`topics`), wire serialization (`serde`),
the embedded adapter (`embedded`), dead-lettering and the exactly-once `runner`."""
