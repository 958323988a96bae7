"""Two cores for pure, per-item work: a forked child does every other item.

Used where a cold run does the same pure work on thousands of independent items
(parsing record files, judging operations). The child inherits the parent's memory
(nothing is pickled on the way in) and sends its results back as :mod:`marshal` data,
so results must be plain data. If the child fails in any way, its half is done in the
parent: the answer is never different, only slower.
"""
from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Work = Callable[[Sequence[T]], list[Any]]


def cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def split_map(work: Work[T], items: Sequence[T], min_items: int, *, consume: bool = False,
              child_share: tuple[int, int] = (1, 2)) -> list[Any]:
    """``work(items)`` (one result per item, in order), on two cores when there are at least ``min_items``.

    ``consume``: ``items`` is a list the caller gives away, and ``work`` may empty the list it is
    given as it goes; the parent then holds its own half only in the list ``work`` gets, so what
    ``work`` drops is freed (the bytes of 10,000 record files need not be held until the end).
    The child's half stays, to be done here if the child fails.

    ``child_share`` (numerator, denominator): the part of the items the child gets, spread evenly
    through them; less than half when the child's ``work`` does more per item than the parent's
    (the parse child also writes the cache rows of its files).
    """
    child = None
    theirs_at = child_part(len(items), child_share)
    if len(items) >= min_items and cores() >= 2 and hasattr(os, "fork"):
        child = fork_worker(work, [items[i] for i in theirs_at])
    if child is None:
        return work(items)
    taken = set(theirs_at)
    mine_at = [i for i in range(len(items)) if i not in taken]
    own = [items[i] for i in mine_at]
    if consume and isinstance(items, list):
        for i in mine_at:
            items[i] = None  # type: ignore[call-overload]
    mine = work(own)
    del own
    theirs = join_worker(*child)
    if theirs is None or len(theirs) != len(theirs_at):
        theirs = work([items[i] for i in theirs_at])
    results: list[Any] = [None] * len(items)
    for i, result in zip(mine_at, mine):
        results[i] = result
    for i, result in zip(theirs_at, theirs):
        results[i] = result
    return results


def child_part(count: int, share: tuple[int, int]) -> list[int]:
    """The indices of ``count`` items that make the child's ``share`` (numerator, denominator), evenly spread."""
    num, den = share
    return [i for i in range(count) if ((i + 1) * num) // den > (i * num) // den]


def fork_worker(work: Work[T], items: Sequence[T]) -> tuple[int, int] | None:
    """Start a child computing ``work(items)``: (pid, read end of its pipe), or None when fork fails."""
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: compute, send, and leave without running any of the parent's cleanup
        code = 1
        try:
            os.close(read_end)
            data = marshal.dumps(work(items))
            with os.fdopen(write_end, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def join_worker(pid: int, read_end: int) -> list[Any] | None:
    """The child's results, or None if it failed or sent something that is not a list."""
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        results = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return results if isinstance(results, list) else None


class Pending:
    """Work started in a forked child (or not at all); :meth:`result` joins it or does it here."""

    def __init__(self, work: Callable[[], list[Any]], child: tuple[int, int] | None) -> None:
        self.work = work
        self.child = child

    @property
    def started(self) -> bool:
        """Is the work running in a child (not yet joined)?"""
        return self.child is not None

    def result(self) -> list[Any]:
        if self.child is not None:
            found = join_worker(*self.child)
            self.child = None
            if found is not None:
                return found
        return self.work()


def in_background(work: Callable[[], list[Any]], *, before_in_child: Callable[[], None] = lambda: None) -> Pending:
    """Start ``work()`` (plain data out) in a forked child when a second core is there to run it.

    ``before_in_child`` runs first in the child only, e.g. to drop a pipe the parent keeps using.
    """
    if cores() < 2 or not hasattr(os, "fork"):
        return Pending(work, None)

    def in_child(_items: Sequence[None]) -> list[Any]:
        before_in_child()
        return work()

    return Pending(work, fork_worker(in_child, [None]))
