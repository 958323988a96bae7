"""``opsgov ledger list`` and ``opsgov ledger show``: the ledger as it stands in the working tree."""
from __future__ import annotations

import json
from typing import Any, TextIO

from opsgov_hooks.findings import Finding, has_errors, sort_findings
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.lifecycle.workspace import Workspace, check_operation_id, open_workspace
from opsgov_hooks.records.ids import tag_name
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.output.text import format_line
from opsgov_hooks.records.located import at_entry

COLUMNS = ("OPERATION_ID", "OUTCOME", "RISK_CLASS", "EXECUTED", "APPROVED_BY", "TAG", "LOCATION")


def _ledger(ws: Workspace) -> tuple[list[LedgerEntry], list[Finding], set[str]]:
    records = ws.records()
    tags = {t.name for t in ws.git.ops_tags()}
    entries = sorted(records.entries, key=lambda e: (e.operation_id, e.path, e.line))
    return entries, sort_findings(records.findings), tags


def _row(entry: LedgerEntry, tags: set[str]) -> dict[str, Any]:
    name = tag_name(entry.operation_id)
    return {"operation_id": entry.operation_id, "fields": entry.fields, "path": entry.path, "line": at_entry(entry)[1],
            "tag": name if name in tags else None}


def list_entries(start: str, output_format: str, out: TextIO, err: TextIO) -> int:
    ws = open_workspace(start)
    entries, findings, tags = _ledger(ws)
    rows = [_row(e, tags) for e in entries]
    if output_format == "json":
        out.write(json.dumps({"ok": not has_errors(findings), "entries": rows,
                              "findings": [f.as_dict() for f in findings]}, indent=2, ensure_ascii=False) + "\n")
    else:
        _table(rows, out)
        for finding in findings:
            err.write(format_line(finding) + "\n")
    return 1 if has_errors(findings) else 0


def _table(rows: list[dict[str, Any]], out: TextIO) -> None:
    cells = [COLUMNS] + [(r["operation_id"], str(r["fields"].get("outcome")), str(r["fields"].get("risk_class")),
                          str(r["fields"].get("execution_timestamp")), str(r["fields"].get("approved_by")),
                          r["tag"] or "-", f"{r['path']}:{r['line']}") for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for row in cells:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def show_entry(start: str, operation_id: str, output_format: str, out: TextIO, err: TextIO) -> int:
    ws = open_workspace(start)
    check_operation_id(operation_id)
    entries, _findings, tags = _ledger(ws)
    matches = [e for e in entries if e.operation_id == operation_id]
    if not matches:
        err.write(f"opsgov: {operation_id} has no ledger entry in {ws.policy.ledger_path or 'the ledger'}\n")
        return 1
    if output_format == "json":
        payload: Any = _row(matches[0], tags) if len(matches) == 1 else [_row(e, tags) for e in matches]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return 0 if len(matches) == 1 else 1
    for entry in matches:
        sealed = _row(entry, tags)["tag"]
        out.write(f"# {entry.path}:{at_entry(entry)[1]}" + (f" (sealed in tag {sealed})" if sealed else "") + "\n")
        out.write("---\n" + render_entry(entry.fields))
    return 0 if len(matches) == 1 else 1
