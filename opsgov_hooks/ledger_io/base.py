"""What every ledger backend shares: a plan (bytes before and after) checked before anything is written.

A backend never writes while planning. The caller plans under the lock, looks at
the plan's findings (and runs the rules on the planned entry), and only then
commits it; the lock is held from the read to the replace, so no concurrent
writer's entry can be lost in between.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from opsgov_hooks.findings import Finding, UsageError, error
from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.ledger_io.edit import Edit, apply_edits, entry_edits, newline_of
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.yamlstrict import Document, load_documents

BOM = "\ufeff"


@dataclasses.dataclass
class Plan:
    path: str                      # repository path (or a label, for the tags backend's pending entries)
    target: str                    # the file to write
    before: bytes | None
    after: bytes
    entry: LedgerEntry | None      # the appended or updated entry, parsed from ``after``
    entries: list[LedgerEntry]     # every entry of ``after``
    findings: list[Finding]        # problems of the planned entry (the rest of the file is not judged here)


class FileBackend:
    """Backends A and B: entries are ``---``-delimited YAML in repository files."""

    name = "file"

    def __init__(self, root: str, lock_path: str) -> None:
        self.root = root
        self.lock_path = lock_path

    # -- backend specifics ------------------------------------------------------
    def file_for(self, operation_id: str) -> str:
        raise NotImplementedError

    def parse(self, path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
        raise NotImplementedError

    def append_text(self, before: str, entry_text: str, newline: str) -> str:
        raise NotImplementedError

    def locate(self, path: str, text: str, operation_id: str) -> tuple[int, Document]:
        """(character offset of the YAML piece in ``text``, the entry's document parsed from that piece)."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------
    def read(self, path: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, path), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def plan_append(self, fields: Mapping[str, Any]) -> Plan:
        op_id = str(fields["operation_id"])
        path = self.file_for(op_id)
        before = self.read(path)
        bom, text = _decode(path, before) if before is not None else ("", "")
        existing, problems = self.parse(path, before) if before is not None else ([], [])
        broken = next((f for f in problems if f.code.startswith("F")), None)
        if broken is not None:
            raise UsageError(f"{path}:{broken.line}:{broken.column}: {broken.code} {broken.message}; fix the "
                             "ledger file before appending to it (opsgov validate)")
        duplicate = next((e for e in existing if e.operation_id == op_id), None)
        newline = newline_of(text)
        after_text = self.append_text(text, render_entry(fields, newline), newline)
        first_new_line = text.count("\n") + (1 if text and not text.endswith("\n") else 0) + 1
        plan = self._plan(path, before, bom + after_text, op_id, first_new_line)
        if duplicate is not None:
            plan.findings.insert(0, error("L005", f"{op_id} already has a ledger entry", *at_entry(duplicate),
                                          hint="one entry per operation: 'opsgov ledger rollback' updates it"))
        return plan

    def plan_update(self, operation_id: str, changes: Mapping[str, Any]) -> Plan:
        path = self.file_for(operation_id)
        before = self.read(path)
        if before is None:
            raise UsageError(f"{path} does not exist: {operation_id} has no ledger entry to update "
                             "(record it first with 'opsgov ledger record')")
        bom, text = _decode(path, before)
        offset, doc = self.locate(path, text, operation_id)
        after_text = apply_edits(text, entry_edits(doc, text[offset:], changes), offset)
        plan = self._plan(path, before, bom + after_text, operation_id, 1)
        self._verify(path, before, plan.after, operation_id, changes)
        return plan

    def pending(self) -> tuple[list[LedgerEntry], list[Finding]]:
        """Entries written but not yet where the gate reads them: none in a ledger file (the tags
        backend keeps each one in ``.git/opsgov/pending/`` until its tag carries it)."""
        return [], []

    def commit(self, plan: Plan) -> None:
        write_atomic(plan.target, plan.after)

    def _plan(self, path: str, before: bytes | None, after_text: str, op_id: str, first_line: int) -> Plan:
        after = after_text.encode("utf-8")
        entries, findings = self.parse(path, after)
        entry = next((e for e in entries if e.operation_id == op_id and e.line >= first_line), None)
        mine = [f for f in findings if f.line >= first_line]
        if first_line == 1 and entry is not None:
            mine = [f for f in findings if entry.line <= f.line < max(entry.end_line, entry.line + 1)]
        return Plan(path, os.path.join(self.root, path), before, after, entry, entries, mine)

    def _verify(self, path: str, before: bytes, after: bytes, operation_id: str,
                changes: Mapping[str, Any]) -> None:
        """The edit must change exactly the requested fields of exactly one entry, and break nothing."""
        old, old_findings = self.parse(path, before)
        new, new_findings = self.parse(path, after)
        expected = [{**e.fields, **changes} if e.operation_id == operation_id else e.fields for e in old]
        if [e.fields for e in new] != expected or _syntax(new_findings) != _syntax(old_findings):
            raise UsageError(f"{path}: the in-place update of {operation_id} would not read back as written; "
                             "nothing was changed (please report this with the file)")


def _syntax(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings if f.code.startswith("F")]


def only_match(path: str, docs: list[tuple[int, Document]], operation_id: str) -> tuple[int, Document]:
    """The single document (with its offset) whose operation_id is ``operation_id``."""
    matches = [(off, d) for off, d in docs if isinstance(d.data, dict) and d.data.get("operation_id") == operation_id]
    if len(matches) != 1:
        what = "no ledger entry" if not matches else f"{len(matches)} ledger entries"
        raise UsageError(f"{path} has {what} for {operation_id}; run 'opsgov validate' and fix the ledger")
    return matches[0]


def _decode(path: str, raw: bytes) -> tuple[str, str]:
    """(BOM, text): the BOM is kept aside so offsets match the parser's and it is written back."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8; run 'opsgov validate {path}' and fix it first") from None
    if text.startswith(BOM):
        return BOM, text[1:]
    return "", text


def parsed_documents(path: str, text: str) -> list[Document]:
    """Every document of a YAML piece; a piece that does not parse stops an update (never guess)."""
    docs, findings = load_documents(path, text)
    if findings:
        first = findings[0]
        raise UsageError(f"{path}:{first.line}:{first.column}: {first.code} {first.message}; fix the ledger "
                         "file before updating it (opsgov validate)")
    return docs


__all__ = ["Edit", "FileBackend", "Plan", "only_match", "parsed_documents"]
