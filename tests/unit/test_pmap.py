"""`processors.pmap.PMap` is a persistent dict: properties under random set/delete sequences.

It answers every read as a plain dict given the same writes would; a write never changes
an older version; it pickles to an equal map that iterates in the same order; and its
iteration order does not depend on the process (`PYTHONHASHSEED`), so a replay in another
process walks the state the same way.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.pmap import PMap

# Few distinct keys, so sets overwrite, deletes hit and buckets collide.
KEYS = st.one_of(
    st.sampled_from(["", "a", "b", "agent-1", "agent-2", "q1", "c\x1fq", "ü", "🙂"]),
    st.text(max_size=6),
)
OPS = st.lists(st.tuples(st.booleans(), KEYS, st.integers()), max_size=120)
REPO = Path(__file__).resolve().parents[2]


def build(ops: list[tuple[bool, str, int]]) -> tuple[list[PMap[int]], list[dict[str, int]]]:
    """Every version of a PMap and of a dict under the same writes (True: set, False: delete)."""
    m: PMap[int] = PMap()
    d: dict[str, int] = {}
    maps, dicts = [m], [dict(d)]
    for is_set, key, value in ops:
        if is_set:
            m = m.set(key, value)
            d[key] = value
        else:
            m = m.delete(key)
            d.pop(key, None)
        maps.append(m)
        dicts.append(dict(d))
    return maps, dicts


@settings(max_examples=300, deadline=None)
@given(OPS, KEYS)
def test_behaves_like_a_dict_and_never_changes_an_older_version(
    ops: list[tuple[bool, str, int]], probe: str
) -> None:
    maps, dicts = build(ops)
    for m, d in zip(maps, dicts, strict=True):  # checked after all writes: old versions unchanged
        assert len(m) == len(d)
        assert dict(m.items()) == d
        assert sorted(m) == sorted(d)
        assert m == d and d == m
        assert (probe in m) == (probe in d)
        assert m.get(probe) == d.get(probe)
        assert m.get(probe, -1) == d.get(probe, -1)
        for key, value in d.items():
            assert m[key] == value
        assert list(m.values()) == [m[k] for k in m]
        assert len(set(m)) == len(m)
    assert 42 not in maps[-1]  # a non-string is never a key


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_pickles_to_an_equal_map_in_the_same_order(ops: list[tuple[bool, str, int]]) -> None:
    maps, _ = build(ops)
    m = maps[-1]
    copy = pickle.loads(pickle.dumps(m))
    assert isinstance(copy, PMap)
    assert copy == m
    assert list(copy.items()) == list(m.items())
    assert copy.set("new", 1) == {**dict(m.items()), "new": 1}  # the copy is a working PMap


_CHILD = """
import json, sys
from processors.pmap import PMap
ops = json.load(sys.stdin)
m = PMap()
for is_set, key, value in ops:
    m = m.set(key, value) if is_set else m.delete(key)
json.dump(list(m), sys.stdout)
"""


def order_in_a_fresh_process(ops: list[list[object]], seed: int) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(ops),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        timeout=60,
    )
    order: list[str] = json.loads(child.stdout)
    return order


@settings(max_examples=12, deadline=None)
@given(OPS, st.integers(0, 2**32 - 1))
def test_iteration_order_in_a_fresh_process_with_another_hash_seed(
    ops: list[tuple[bool, str, int]], seed: int
) -> None:
    maps, _ = build(ops)
    assert order_in_a_fresh_process([list(op) for op in ops], seed) == list(maps[-1])


def test_iteration_order_does_not_depend_on_the_hash_seed() -> None:
    """Many keys (every bucket holds several), deletes and re-inserts."""
    ops: list[list[object]] = [[True, f"agent-{i}", i] for i in range(300)]
    ops += [[False, f"agent-{i}", 0] for i in range(0, 300, 7)]
    ops += [[True, f"agent-{i}", -i] for i in range(0, 300, 14)]
    ops += [[True, key, 1] for key in ("", "ü", "🙂", "c\x1fq", "q1", "q2")]
    here, _ = build([(bool(s), str(k), int(v)) for s, k, v in ops])
    expected = list(here[-1])
    for seed in (0, 1, 12345):
        assert order_in_a_fresh_process(ops, seed) == expected, f"order differs with PYTHONHASHSEED={seed}"
