"""Kafka's default partitioner, checked against the Java client's own test vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.partitioner import murmur2, partition_for, to_positive

# org.apache.kafka.common.utils.UtilsTest#testMurmur2
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("key", "expected"), JAVA_VECTORS, ids=[k.decode() for k, _ in JAVA_VECTORS])
def test_murmur2_matches_the_java_client(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


def test_partition_is_to_positive_not_abs() -> None:
    assert to_positive(-790332482) == 1357151166  # & 0x7fffffff, as Utils.toPositive
    assert partition_for(b"foobar", 50) == 16
    assert partition_for(b"foobar", 10) == 6


def test_zero_partitions_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one partition"):
        partition_for(b"k", 0)


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=1000))
def test_partition_in_range_and_stable(key: bytes, n: int) -> None:
    p = partition_for(key, n)
    assert 0 <= p < n
    assert p == to_positive(murmur2(key)) % n
