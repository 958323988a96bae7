"""One operation's record, read from the working tree for the commands that act on it.

A missing or invalid record is a usage problem here (exit 2, with the findings):
nothing can be filled or run for an operation that is not validly declared.
"""
from __future__ import annotations

import os

from opsgov_hooks.output.text import format_line
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.records.declaration import Declaration, parse_operation_record
from opsgov_hooks.records.ids import ID_RE


def check_id(operation_id: str) -> str:
    if not ID_RE.match(operation_id):
        raise UsageError(f"{operation_id!r} is not an operation id: write OPS-YYYY-MM-DD-NNN, "
                         "e.g. OPS-2026-01-27-001")
    return operation_id


def load_operation(root: str, policy: Policy, operation_id: str) -> tuple[Declaration, bytes]:
    """The declaration and the record's bytes; :class:`UsageError` when either is unusable."""
    rel = policy.record_path(check_id(operation_id))
    try:
        with open(os.path.join(root, rel), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise UsageError(f"{operation_id} is not declared: {rel} does not exist "
                         "(declare it with 'opsgov new')") from None
    declaration, findings = parse_operation_record(rel, raw, policy)
    if declaration is None:
        raise UsageError(f"the record of {operation_id} is not valid:\n"
                         + "\n".join(format_line(f) for f in findings) + "\nFix it, then run again.")
    return declaration, raw
