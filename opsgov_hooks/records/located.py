"""Where a finding about a ledger entry points.

``at_field``: the value of the field at fault (``approved_by``, a timestamp,
``rollback_ref``...), so an editor jumps to it. ``at_entry``: the entry's
``operation_id`` line, column 1, for what concerns the entry as a whole.
"""
from __future__ import annotations

from opsgov_hooks.records.ledger import LedgerEntry


def at_entry(entry: LedgerEntry) -> tuple[str, int, int]:
    line, _value_column = entry.position("operation_id")
    return entry.path, line, entry.column


def at_field(entry: LedgerEntry, key: str) -> tuple[str, int, int]:
    """The value of ``key``; the entry's id line when the field is absent."""
    if key not in entry.positions:
        return at_entry(entry)
    line, column = entry.position(key)
    return entry.path, line, column
