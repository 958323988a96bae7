"""Two cores for pure, per-item work: a forked child and the parent share the items run by run.

Used where a cold run does the same pure work on thousands of independent items
(parsing record files, judging operations). The child inherits the parent's memory
(nothing is pickled on the way in) and sends its results back as :mod:`marshal` data,
so results must be plain data. If the child fails in any way, the runs it took are done in
the parent: the answer is never different, only slower.
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
              chunks: int = 64, weights: Sequence[int] | None = None,
              finish_in_child: Callable[[], None] | None = None) -> list[Any]:
    """``work(items)`` (one result per item, in order), on two cores when there are at least ``min_items``.

    The items are cut into about ``chunks`` runs, of equal count or of equal total ``weights``
    (a month file of 250 entries is as much work as 400 runbooks: counted alike, the run holding
    the month files took as long as all the others). The parent takes runs from the front and a
    forked child from the back until they meet, so both finish together whatever each run costs
    (with an even split one of them waited 0.1-0.5 s for the other), and each does one contiguous
    part.

    ``consume``: ``items`` is a list the caller gives away, and ``work`` may empty the list it is
    given as it goes; the parent drops each run it takes from ``items``, so what ``work`` drops is
    freed (the bytes of 10,000 record files need not be held until the end). The runs the child
    takes stay, to be done here if the child fails. ``finish_in_child`` runs in the child after
    its last run, before it answers.
    """
    if len(items) < min_items or cores() < 2 or not hasattr(os, "fork"):
        return work(items)
    import mmap

    bounds = _runs(len(items), chunks, weights)
    try:
        # One byte per run, shared with the child (an anonymous map is shared across fork): a run
        # is taken by marking it. The two ends meet in the middle; if both take the same last run
        # at the same instant it is done twice (pure work: the same answer), never by no one.
        claims = mmap.mmap(-1, len(bounds))
    except (OSError, ValueError):
        return work(items)

    def runs_in_child(_items: Sequence[None]) -> list[Any]:
        done = []
        for number in range(len(bounds) - 1, -1, -1):
            if claims[number]:
                break
            claims[number] = 2
            start, end = bounds[number]
            done.append((number, work(items[start:end])))
        if finish_in_child is not None:
            finish_in_child()
        return done

    child = fork_worker(runs_in_child, [None])
    results: list[Any] = [None] * len(items)
    mine: set[int] = set()
    for number, (start, end) in enumerate(bounds):
        if child is not None and claims[number]:
            break
        claims[number] = 1
        run = list(items[start:end])
        if consume and isinstance(items, list):
            items[start:end] = [None] * len(run)
        results[start:end] = work(run)
        mine.add(number)
        del run
    theirs = join_worker(*child) if child is not None else None
    claims.close()
    for entry in theirs or ():
        if (isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], int)
                and 0 <= entry[0] < len(bounds) and entry[0] not in mine and isinstance(entry[1], list)
                and len(entry[1]) == bounds[entry[0]][1] - bounds[entry[0]][0]):
            results[bounds[entry[0]][0]:bounds[entry[0]][1]] = entry[1]
            mine.add(entry[0])
    for number, (start, end) in enumerate(bounds):   # a run the child took and never answered (it failed)
        if number not in mine:
            results[start:end] = work(items[start:end])
    return results


def _runs(count: int, chunks: int, weights: Sequence[int] | None) -> list[tuple[int, int]]:
    """(start, end) of each run: about ``chunks`` of them, of equal count or of equal total weight
    (an item heavier than a run's share is a run of its own)."""
    if weights is None:
        size = max(1, -(-count // chunks))
        return [(start, min(start + size, count)) for start in range(0, count, size)]
    share = max(1, sum(weights) // chunks)
    bounds, start, held = [], 0, 0
    for i, weight in enumerate(weights):
        held += max(0, weight)
        if held >= share:
            bounds.append((start, i + 1))
            start, held = i + 1, 0
    if start < count:
        bounds.append((start, count))
    return bounds


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
