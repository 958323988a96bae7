"""P5 ledger entries, read from any of the standard's three storage options.

* B (``yaml``, the default): ``ops/ledger/YYYY-MM.yaml``, one ``---`` document per entry;
* A (``markdown``): ``docs/OPS_CHANGELOG.md``, ``---``-delimited YAML blocks between prose;
* C (``tags``): annotated ``ops-YYYY-MM-DD-NNN`` tags whose message carries the entry.

Each parser returns entries that passed the schema and the calendar checks, and
findings for the rest, so one bad entry never hides the others.
"""
from __future__ import annotations

import dataclasses
import posixpath
from typing import Any

from opsgov_hooks import schemas
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.ids import id_date, parse_utc
from opsgov_hooks.yamlstrict import Document, check_bytes, load_documents

TIMESTAMP_FIELDS = ("approval_timestamp", "execution_timestamp", "rollback_timestamp")


@dataclasses.dataclass(frozen=True)
class LedgerEntry:
    fields: dict[str, Any]
    path: str               # the file, or refs/tags/<name> for a tag
    line: int               # first line of the entry's YAML
    end_line: int           # line after its last line (exclusive)
    column: int = 1

    @property
    def operation_id(self) -> str:
        return str(self.fields["operation_id"])

    def get(self, key: str) -> Any:
        return self.fields.get(key)


def check_entry(doc: Document, *, data: Any = None) -> list[Finding]:
    """Schema and calendar findings for one entry."""
    value = doc.data if data is None else data
    findings = schemas.validate(schemas.LEDGER_ENTRY, doc, data=value)
    if findings:
        return findings
    op_id = value["operation_id"]
    if id_date(op_id) is None:
        line, col = doc.position(("operation_id",))
        findings.append(error("L002", f"operation_id {op_id} does not carry a real calendar date", doc.path,
                              line, col))
    for key in TIMESTAMP_FIELDS:
        if key in value and parse_utc(value[key]) is None:
            line, col = doc.position((key,))
            findings.append(error("L004", f"{key} {value[key]!r} is not a real UTC instant", doc.path, line, col,
                                  hint="write e.g. 2026-01-27T10:00:00Z"))
    return findings


def _entries_from_docs(docs: list[Document]) -> tuple[list[LedgerEntry], list[Finding]]:
    entries, findings = [], []
    for doc in docs:
        if doc.data is None:
            continue
        line, col = doc.position()
        if not isinstance(doc.data, dict):
            findings.append(error("F011", "a ledger entry must be a YAML mapping", doc.path, line, col))
            continue
        problems = check_entry(doc)
        findings.extend(problems)
        if not problems:
            end = doc.node.end_mark.line + 1 if doc.node.end_mark.column == 0 else doc.node.end_mark.line + 2
            entries.append(LedgerEntry(doc.data, doc.path, line, end, col))
    return entries, findings


def parse_ledger_yaml(path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
    """A backend B month file. Its name must be the month of each of its entries."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return [], findings
    docs, findings = load_documents(path, text)
    entries, more = _entries_from_docs(docs)
    findings += more
    month = posixpath.basename(path).removesuffix(".yaml")
    for entry in entries:
        if entry.operation_id[4:11] != month:
            findings.append(error("L007", f"{entry.operation_id} belongs in {entry.operation_id[4:11]}.yaml, "
                                  f"not {month}.yaml", path, entry.line, entry.column,
                                  hint="move the entry to the file of its operation id's month"))
    return entries, findings


def yaml_blocks(text: str) -> tuple[list[tuple[str, int]], list[tuple[int, str]]]:
    """The ``---``-delimited blocks of a Markdown changelog: ([(yaml, first_line)], [(line, problem)])."""
    blocks: list[tuple[str, int]] = []
    lines = text.splitlines(keepends=True)
    start: int | None = None
    for i, line in enumerate(lines):
        if line.rstrip("\r\n") != "---":
            continue
        if start is None:
            start = i
        else:
            blocks.append(("".join(lines[start + 1:i]), start + 2))
            start = None
    problems = [(start + 1, "a '---' block is never closed")] if start is not None else []
    return blocks, problems


def parse_changelog(path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
    """A backend A changelog: Markdown prose with ``---``-delimited YAML entry blocks."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return [], findings
    blocks, problems = yaml_blocks(text)
    findings = [error("F010", message, path, line, 1, hint="close the entry with a '---' line")
                for line, message in problems]
    entries: list[LedgerEntry] = []
    for block, first_line in blocks:
        docs, more = load_documents(path, block, line_offset=first_line - 1)
        findings += more
        got, more = _entries_from_docs(docs)
        entries += got
        findings += more
    return entries, findings


def entry_yaml_from_tag_message(message: str) -> tuple[str, int]:
    """The YAML part of a tag message and the message line it starts on.

    ``opsgov tag`` writes a one-line title, a blank line, then the entry; with the
    tags backend the message may be the entry itself.
    """
    lines = message.splitlines(keepends=True)
    start = 0
    if lines and not lines[0].startswith(("---", "operation_id:")):
        start = 1
        while start < len(lines) and not lines[start].strip():
            start += 1
    return "".join(lines[start:]), start + 1


def parse_tag_entry(ref: str, message: str) -> tuple[LedgerEntry | None, list[Finding]]:
    body, first_line = entry_yaml_from_tag_message(message)
    if not body.strip():
        return None, [error("T002", "the tag message carries no ledger entry", ref)]
    docs, findings = load_documents(ref, body, line_offset=first_line - 1)
    if findings:
        return None, findings
    entries, findings = _entries_from_docs(docs)
    if len(entries) + len(findings) > 1 or (not entries and not findings):
        return None, findings or [error("T002", "the tag message must carry exactly one ledger entry", ref)]
    return (entries[0] if entries else None), findings
