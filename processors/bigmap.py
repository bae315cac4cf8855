"""`BigMap`: a persistent map for state with millions of keys (customer directories).

`PMap` copies one of 64 buckets per write: fine at 10,000 agents, quadratic at a million
customers (a write copies ~15,000 entries). `BigMap` puts 256 `PMap`s side by side, chosen by
other bits of the same CRC-32 the `PMap` buckets use, so a write copies a 256-slot tuple, a
64-slot spine and a bucket of about n/16,384 entries. Iteration order is stable across
processes and replays. Standard library only, like everything under `processors/`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar, overload
from zlib import crc32

from processors.pmap import PMap

__all__ = ["BigMap"]

V = TypeVar("V")
_D = TypeVar("_D")
_SHARDS = 256


def _shard(key: str) -> int:
    return (crc32(key.encode()) >> 8) & (_SHARDS - 1)  # PMap uses the low 6 bits


class BigMap(Mapping[str, V], Generic[V]):
    """An immutable mapping; `set` and `delete` return a new map sharing the rest."""

    __slots__ = ("_len", "_shards")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        parts: list[dict[str, V]] = [{} for _ in range(_SHARDS)]
        for k, v in (items or {}).items():
            parts[_shard(k)][k] = v
        self._shards: tuple[PMap[V], ...] = tuple(PMap(p) for p in parts)
        self._len = sum(len(p) for p in parts)

    @classmethod
    def _make(cls, shards: tuple[PMap[V], ...], length: int) -> BigMap[V]:
        m: BigMap[V] = cls.__new__(cls)
        m._shards, m._len = shards, length
        return m

    def __getitem__(self, key: str) -> V:
        return self._shards[_shard(key)][key]

    @overload
    def get(self, key: str, /) -> V | None: ...
    @overload
    def get(self, key: str, default: V | _D, /) -> V | _D: ...
    def get(self, key: str, default: object = None) -> object:
        return self._shards[_shard(key)].get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._shards[_shard(key)]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        for shard in self._shards:
            yield from shard

    def __repr__(self) -> str:
        return f"BigMap({dict(self.items())!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (BigMap, (dict(self.items()),))

    def set(self, key: str, value: V) -> BigMap[V]:
        i = _shard(key)
        old = self._shards[i]
        new = old.set(key, value)
        return BigMap._make((*self._shards[:i], new, *self._shards[i + 1 :]), self._len + len(new) - len(old))

    def delete(self, key: str) -> BigMap[V]:
        i = _shard(key)
        old = self._shards[i]
        new = old.delete(key)
        if new is old:
            return self
        return BigMap._make((*self._shards[:i], new, *self._shards[i + 1 :]), self._len - 1)
