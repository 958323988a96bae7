"""Records as plain data: a declaration or a ledger entry as the tuple of its fields, and back.

The caches hold only what :mod:`marshal` holds, so every record a cache keeps (the parsed
record files, the per-operation findings' digests, the entries tags seal) goes through
these functions: a field added to a record is kept, digested and restored everywhere at once.
"""
from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ledger import LedgerEntry

# Every field of a record in one C call (the per-operation memo digests each of 10,000 operations, cold or warm).
declaration_values: Callable[[Declaration], tuple[Any, ...]] = operator.attrgetter(
    *(f.name for f in dataclasses.fields(Declaration)))
entry_values: Callable[[LedgerEntry], tuple[Any, ...]] = operator.attrgetter(
    *(f.name for f in dataclasses.fields(LedgerEntry)))


def declaration_from(values: tuple[Any, ...]) -> Declaration:
    """The inverse of :func:`declaration_values`; TypeError on a tuple of the wrong length."""
    return Declaration(*values)


def entry_from(values: tuple[Any, ...]) -> LedgerEntry:
    """The inverse of :func:`entry_values`; TypeError or ValueError on anything of another shape.

    Each call gets its own ``fields`` dict, so a caller that edits an entry cannot edit the cache.
    """
    fields, *rest = values
    if not isinstance(fields, dict):
        raise TypeError("a ledger entry's fields are a mapping")
    return LedgerEntry(dict(fields), *rest)
