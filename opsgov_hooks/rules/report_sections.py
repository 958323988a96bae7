"""Reporting-contract rules (R codes), for closed operations (those with a ledger entry).

Every operation ends with the five report sections of the standard, each with
real content (template guidance in ``<!-- -->`` comments does not count), and its
"6) Signoff & Ledger Entry" section carries a YAML block that agrees with the
ledger entry, field by field.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.markdown import Outline, Section, fenced_block, outline_of, strip_comments
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import parse_utc
from opsgov_hooks.records.ledger import TIMESTAMP_FIELDS, LedgerEntry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.records.yamlstrict import Document, load_documents

REPORT_SECTIONS = ("EXEC SUMMARY", "CHANGES MADE", "VERIFICATION EVIDENCE", "RISK ASSESSMENT", "NEXT SAFE ACTIONS")
SIGNOFF_KEYS = ("operation_id",)
_ALIASES = {"executive summary": "exec summary"}
YAML_INFO = re.compile(r"(?:yaml|yml)\b.*", re.IGNORECASE)


def _closed(records: RecordSet) -> Iterator[tuple[Declaration, LedgerEntry, Outline]]:
    entries = records.entries_by_id()
    for d in records.declarations:
        entry = entries.get(d.operation_id)
        if entry is not None:
            yield d, entry, outline_of(d.body, d.body_line)


# -- R001-R003: the five report sections --------------------------------------------------------

def report_sections(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    for d, entry, outline in _closed(records):
        report = outline.find(lambda t: t == "report" or t.startswith("report "))
        if report is None:
            yield error("R001", f"{d.operation_id} is closed (ledger entry {entry.path}:{entry.line}) but its "
                        "record has no '## 5) Report' section", d.path, d.body_line, 1,
                        hint="add it with the five sections: " + ", ".join(REPORT_SECTIONS))
            continue
        yield from _subsections(d, outline, report)


def _subsections(d: Declaration, outline: Outline, report: Section) -> Iterator[Finding]:
    heading_line = outline.file_line(report.heading.index)
    found: dict[str, Section] = {}   # each wanted name's first section, aliases included, in order
    for title, first in outline.first_by_title(report).items():
        found.setdefault(_ALIASES.get(title, title), first)
    for name in REPORT_SECTIONS:
        section = found.get(name.casefold())
        if section is None:
            yield error("R002", f"the report has no {name} section", d.path, heading_line, 1,
                        hint=f"add '### {name}' under the Report heading")
        elif not _content(outline.lines[section.start:section.end]):
            yield error("R003", f"the report's {name} section is empty", d.path,
                        outline.file_line(section.heading.index), 1, hint=_WHAT[name])


def _content(lines: list[str]) -> str:
    """The section's text without comments and surrounding blanks (a comment starts with ``<!--``:
    most sections have none, and skip the substitution)."""
    text = "\n".join(lines)
    return (strip_comments(text) if "<!--" in text else text).strip()


_WHAT = {
    "EXEC SUMMARY": "write one paragraph: what was done, and the outcome",
    "CHANGES MADE": "list the files and services changed",
    "VERIFICATION EVIDENCE": "quote the key outputs that prove the result",
    "RISK ASSESSMENT": "state the residual risk",
    "NEXT SAFE ACTIONS": "say what to do next, bounded",
}


# -- R004, R005: section 6 agrees with the ledger -----------------------------------------------------

def signoff_agrees(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    for d, entry, outline in _closed(records):
        section = find_signoff(outline)
        block = _yaml_block(outline, section) if section is not None else None
        if section is None or block is None:
            line = outline.file_line(section.heading.index) if section is not None else d.body_line
            yield error("R004", f"{d.operation_id} is closed but its record has no '6) Signoff & Ledger Entry' "
                        "section with a ```yaml block of the ledger entry", d.path, line, 1,
                        hint=f"copy the ledger entry ({entry.path}:{entry.line}) into a ```yaml block there")
            continue
        text, first_line = block
        docs, findings = load_documents(d.path, text, line_offset=first_line - 1)
        yield from findings
        if not findings:
            yield from _compare(d, entry, docs, first_line)


def _yaml_block(outline: Outline, section: Section) -> tuple[str, int] | None:
    """The first ```yaml fenced block of a section: (its text, the file line of its first line)."""
    block = fenced_block(outline, section, YAML_INFO)
    if block is None:
        return None
    opening, closing = block
    return "\n".join(outline.lines[opening + 1:closing]) + "\n", outline.file_line(opening + 1)


def find_signoff(outline: Outline) -> Section | None:
    return outline.find(lambda t: t.startswith("signoff") or " signoff" in t)


def _compare(d: Declaration, entry: LedgerEntry, docs: list[Document], first_line: int) -> Iterator[Finding]:
    where = f"the ledger entry ({entry.path}:{entry.line})"
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        yield error("R005", "section 6 must hold one YAML mapping: the ledger entry", d.path, first_line, 1)
        return
    doc = docs[0]
    for key in SIGNOFF_KEYS:
        if key not in doc.data:
            yield error("R005", f"section 6 has no {key} (it must agree with {where})", d.path, first_line, 1,
                        hint=f"add {key}: {entry.get(key)}")
    for key, value in doc.data.items():
        if not _same(key, value, entry.get(key)):
            line, col = doc.position((key,))
            yield error("R005", f"section 6 says {key}: {value!r} but {where} says {entry.get(key)!r}", d.path,
                        line, col, hint="section 6 and the ledger entry are one record: make them agree")


def _same(key: str, signoff: Any, ledger: Any) -> bool:
    if signoff == ledger:   # the common answer, without parsing two timestamps (equal text is one instant)
        return True
    if key in TIMESTAMP_FIELDS and isinstance(signoff, str) and isinstance(ledger, str):
        a, b = parse_utc(signoff), parse_utc(ledger)
        if a is not None and b is not None:
            return a == b
    return bool(signoff == ledger)
