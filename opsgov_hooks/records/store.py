"""Load every record a policy knows of from one source, into plain lists.

Loading only parses and validates each file on its own; what needs several
records at once (duplicates, agreement between ledger and declaration) is a rule
in :mod:`opsgov_hooks.rules.records`.
"""
from __future__ import annotations

import dataclasses

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.declaration import Declaration, parse_operation_record
from opsgov_hooks.records.ledger import LedgerEntry, parse_changelog, parse_ledger_yaml


@dataclasses.dataclass
class RecordSet:
    declarations: list[Declaration] = dataclasses.field(default_factory=list)
    entries: list[LedgerEntry] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    files: list[str] = dataclasses.field(default_factory=list)
    invalid_ids: set[str] = dataclasses.field(default_factory=set)   # declared, but the record is invalid

    def declaration(self, operation_id: str) -> Declaration | None:
        return next((d for d in self.declarations if d.operation_id == operation_id), None)

    def entry(self, operation_id: str) -> LedgerEntry | None:
        return next((e for e in self.entries if e.operation_id == operation_id), None)

    def by_id(self) -> dict[str, Declaration]:
        return {d.operation_id: d for d in self.declarations}

    def restricted(self, operation_ids: set[str]) -> RecordSet:
        """The declarations and entries of ``operation_ids`` only (for per-operation rules)."""
        return RecordSet([d for d in self.declarations if d.operation_id in operation_ids],
                         [e for e in self.entries if e.operation_id in operation_ids],
                         [], list(self.files), set(self.invalid_ids))

    def entries_by_id(self) -> dict[str, LedgerEntry]:
        return {e.operation_id: e for e in self.entries}

    def extend(self, other: RecordSet) -> None:
        """Add ``other`` (one file's records, a tree's) after what this set holds."""
        self.declarations.extend(other.declarations)
        self.entries.extend(other.entries)
        self.findings.extend(other.findings)
        self.files.extend(other.files)
        self.invalid_ids.update(other.invalid_ids)


def record_kind(path: str, policy: Policy) -> str | None:
    """'operation', 'ledger' or None for a repository path."""
    if path.startswith(policy.operations_dir + "/") and path.endswith(".md"):
        return "operation"
    if policy.ledger_backend == "yaml" and path.startswith(policy.ledger_path + "/") \
            and path.endswith((".yaml", ".yml")):
        return "ledger"   # a .yml file is read, to be told its name is wrong, rather than silently ignored
    if policy.ledger_backend == "markdown" and path == policy.ledger_path:
        return "ledger"
    return None


def record_prefixes(policy: Policy) -> list[str]:
    prefixes = [policy.operations_dir]
    if policy.ledger_backend != "tags":
        prefixes.append(policy.ledger_path)
    return prefixes


def parse_record_file(path: str, raw: bytes | None, policy: Policy, records: RecordSet) -> None:
    """Parse one record file into ``records``."""
    kind = record_kind(path, policy)
    if raw is None:
        records.findings.append(error("F012", "the file cannot be read", path))
        return
    records.files.append(path)
    if kind == "operation":
        declaration, findings = parse_operation_record(path, raw, policy)
        if declaration is not None:
            records.declarations.append(declaration)
        else:
            records.invalid_ids.add(path.rsplit("/", 1)[-1].removesuffix(".md"))
        records.findings.extend(findings)
    elif kind == "ledger":
        parse = parse_changelog if policy.ledger_backend == "markdown" else parse_ledger_yaml
        entries, findings = parse(path, raw)
        records.entries.extend(entries)
        records.findings.extend(findings)
