"""The cyclic garbage collector, paused while a run builds many small acyclic objects.

Records, outlines, parse results and findings are hundreds of thousands of small,
long-lived objects without cycles; the collector would re-scan them again and again as
they accumulate (measured on 10,000 operations: about a second of a cold ``--all``, a
third of a cold record load) and find almost nothing to free. Reference counting still
frees everything else. Nested pauses are fine: only the outermost one turns it back on.

A leaf module (it imports nothing of opsgov), so the parsers below the speed layer use it too.
"""
from __future__ import annotations

import gc


class paused_gc:  # noqa: N801 - used like a function: ``with paused_gc():``
    """``with paused_gc():`` runs its block with the cyclic collector off, then restores it."""

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
