"""Keep section 6 ("Signoff & Ledger Entry") of the operation record equal to the ledger entry.

Rule R005 says the two are one record. The ledger is written first (it is the
audit trail); section 6 then follows, so an operator never has to copy fields
by hand. Only the lines of section 6's ``yaml`` block change.
"""
from __future__ import annotations

import os
from typing import TextIO

from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.findings import Finding, UsageError, has_errors
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.ledger_io.base import Plan
from opsgov_hooks.lifecycle.workspace import Workspace, emit
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.execution.signoff_block import fill_signoff


def sync_signoff(ws: Workspace, entry: LedgerEntry, out: TextIO, output_format: str) -> None:
    """Write ``entry`` into its operation record's section 6; say so, or say why not."""
    rel = ws.policy.record_path(entry.operation_id)
    path = os.path.join(ws.root, rel)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        updated = fill_signoff(text, render_entry(entry.fields), rel)
    except (OSError, UnicodeDecodeError, UsageError) as exc:
        if output_format == "text":
            out.write(f"note: section 6 of {rel} was not updated ({exc}); copy the entry there by hand\n")
        return
    if updated != text:  # silent on success, as the ledger write it follows
        write_atomic(path, updated.encode("utf-8"))


def finish_update(ws: Workspace, operation_id: str, plan: Plan | None, findings: list[Finding], *, done: str,
                  refused: str, output_format: str, out: TextIO) -> int:
    """Show the findings of a ledger update; when it was written, say where and bring section 6 in step."""
    emit(findings, output_format, out)
    if has_errors(findings) or plan is None or plan.entry is None:
        if output_format == "text":
            out.write(f"opsgov: {operation_id} was not changed{refused}\n")
        return 1
    if output_format == "text":
        out.write(f"{done} {operation_id} in {plan.path}:{at_entry(plan.entry)[1]}\n")
    sync_signoff(ws, plan.entry, out, output_format)
    return 0
