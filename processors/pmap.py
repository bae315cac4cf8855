"""`PMap`: a small persistent (immutable) map of string keys, for decider state.

Decider state is a value: `evolve` returns a new state and never changes the old one,
which the runner may still hold (the last committed state, a snapshot being written).
A plain dict copied on every write costs O(n) per event, which at 10,000 agents is most
of a routing decision. `PMap` splits its keys over 64 buckets by a stable hash (CRC-32 of
the UTF-8 key, so the iteration order is the same in every process and every replay) and a
write copies one bucket and the 64-slot spine: O(n/64) instead of O(n).

Standard library only, like everything under `processors/`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar, overload
from zlib import crc32

__all__ = ["PMap"]

V = TypeVar("V")
_D = TypeVar("_D")
_BUCKETS = 64
_EMPTY: dict[str, object] = {}


def _slot(key: str) -> int:
    return crc32(key.encode()) & (_BUCKETS - 1)


class PMap(Mapping[str, V], Generic[V]):
    """An immutable mapping; `set` and `delete` return a new map sharing the rest."""

    __slots__ = ("_buckets", "_len")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        buckets: list[dict[str, V]] = [_EMPTY for _ in range(_BUCKETS)]  # type: ignore[misc]
        for k, v in (items or {}).items():
            i = _slot(k)
            if buckets[i] is _EMPTY:
                buckets[i] = {}
            buckets[i][k] = v
        self._buckets: tuple[dict[str, V], ...] = tuple(buckets)
        self._len = sum(len(b) for b in buckets)

    @classmethod
    def _make(cls, buckets: tuple[dict[str, V], ...], length: int) -> PMap[V]:
        m: PMap[V] = cls.__new__(cls)
        m._buckets = buckets
        m._len = length
        return m

    def __getitem__(self, key: str) -> V:
        return self._buckets[_slot(key)][key]

    @overload
    def get(self, key: str, /) -> V | None: ...
    @overload
    def get(self, key: str, default: V | _D, /) -> V | _D: ...
    def get(self, key: str, default: object = None) -> object:
        return self._buckets[_slot(key)].get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._buckets[_slot(key)]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        for b in self._buckets:
            yield from b

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (PMap, (dict(self.items()),))

    def set(self, key: str, value: V) -> PMap[V]:
        i = _slot(key)
        old = self._buckets[i]
        bucket = dict(old)
        bucket[key] = value
        buckets = (*self._buckets[:i], bucket, *self._buckets[i + 1 :])
        return PMap._make(buckets, self._len + (key not in old))

    def delete(self, key: str) -> PMap[V]:
        i = _slot(key)
        old = self._buckets[i]
        if key not in old:
            return self
        bucket = dict(old)
        del bucket[key]
        buckets = (*self._buckets[:i], bucket, *self._buckets[i + 1 :])
        return PMap._make(buckets, self._len - 1)
