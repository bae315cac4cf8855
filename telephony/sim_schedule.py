"""The simulator's future: a time-ordered queue of pending actions with cheap cancellation.

A heap of (due_ms, seq, item): `seq` is a running counter, so actions due at the same
millisecond run in the order they were scheduled and the heap never compares items.
Cancelling marks the item; `pop_due` skips marked items (mark-and-skip), so cancelling is
O(1) and nothing searches the heap.
"""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

__all__ = ["Schedule", "Scheduled"]

T = TypeVar("T")


class Scheduled(Generic[T]):
    """A pending action; the handle `Schedule.cancel` takes."""

    __slots__ = ("action", "cancelled", "due_ms")

    def __init__(self, due_ms: int, action: T) -> None:
        self.due_ms = due_ms
        self.action = action
        self.cancelled = False


class Schedule(Generic[T]):
    """Pending actions by due time, ties in scheduling order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Scheduled[T]]] = []
        self._seq = 0

    def push(self, due_ms: int, action: T) -> Scheduled[T]:
        item = Scheduled(due_ms, action)
        heapq.heappush(self._heap, (due_ms, self._seq, item))
        self._seq += 1
        return item

    @staticmethod
    def cancel(item: Scheduled[T] | None) -> None:
        if item is not None:
            item.cancelled = True

    def next_due_ms(self) -> int | None:
        """The due time of the earliest live action, dropping cancelled ones on the way."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pop_due(self, until_ms: int) -> Scheduled[T] | None:
        """The earliest live action due at or before `until_ms`, removed; None if none."""
        due = self.next_due_ms()
        if due is None or due > until_ms:
            return None
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        """Entries in the heap, cancelled ones not yet skipped included."""
        return len(self._heap)
