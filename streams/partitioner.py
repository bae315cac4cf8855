"""Kafka's default partitioner for keyed records, so a key lands in the same partition on
the embedded log as on Kafka: `toPositive(murmur2(key)) % partitions` (the Java client's
`Utils.murmur2` and `BuiltInPartitioner.partitionForKey`)."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["murmur2", "partition_for", "to_positive"]

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of `data` as a signed 32-bit int (what `Utils.murmur2` returns)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    n4 = length - (length & 3)
    for i in range(0, n4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[n4 + 2] << 16
    if rest >= 2:
        h ^= data[n4 + 1] << 8
    if rest >= 1:
        h ^= data[n4]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def to_positive(n: int) -> int:
    """Kafka's `Utils.toPositive`: clear the sign bit (not `abs`)."""
    return n & 0x7FFFFFFF


@lru_cache(maxsize=65536)
def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for `key` among `partitions`."""
    if partitions <= 0:
        raise ValueError(f"a topic needs at least one partition, got {partitions}")
    return to_positive(murmur2(key)) % partitions
