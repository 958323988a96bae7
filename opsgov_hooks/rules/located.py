"""Where a finding about a ledger entry points: the entry's ``operation_id`` line, column 1.

That line names the operation, and it stays the same whichever convention a
backend uses for an entry's span (first key line, or its opening ``---``).
"""
from __future__ import annotations

from typing import Any

from opsgov_hooks.records.ledger import LedgerEntry


def at_entry(entry: LedgerEntry) -> tuple[str, int, int]:
    position: Any = getattr(entry, "position", None)
    if callable(position):
        line, _value_column = position("operation_id")
        return entry.path, int(line), entry.column
    return entry.path, entry.line, entry.column
