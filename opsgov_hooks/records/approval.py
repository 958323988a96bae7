"""Signed approvals: ``ops/approvals/<OPERATION_ID>.yaml``, the record ``opsgov approve`` commits and signs.

The record binds what the approver saw: the operation id, a digest of the declaration's scope
as approved, the risk class, who approved and when. Its *signature* is not in the file: it is the
signature of the commit that adds the file (git's own signing, the approver's key), so the commit
graph also proves the order (the operation's changes must descend from that commit).

The digest is :func:`opsgov_hooks.records.scope.scope_digest`: the same scope fields the
frozen-scope rule guards (risk class, allowed paths and services, blast radius, rollback
strategy), canonical JSON, ``sha256:<hex>``. The operation id is bound by the record's own
``operation_id`` field, which the signature covers too. Any change of scope after the approval
(a path added, the rollback strategy reworded, another risk class) voids it.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.ids import ID_RE, parse_utc
from opsgov_hooks.records.yamlstrict import check_bytes, load_documents

FIELDS = ("operation_id", "scope_digest", "risk_class", "approved_by", "approval_timestamp")
DIGEST_PREFIX = "sha256:"


@dataclasses.dataclass(frozen=True)
class Approval:
    operation_id: str
    scope_digest: str
    risk_class: str
    approved_by: str
    approval_timestamp: str
    path: str = ""


def render_approval(approval: Approval) -> str:
    """The record's text: one ``key: value`` line per field, each value quoted so it reads back as a string."""
    lines = ["# Signed approval: the commit adding this file is signed by the approver ('opsgov approve').",
             "# Verify it with: opsgov check --all (or git verify-commit on that commit)."]
    for key in FIELDS:
        lines.append(f"{key}: {json.dumps(getattr(approval, key), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def parse_approval(path: str, raw: bytes) -> tuple[Approval | None, list[Finding]]:
    """The approval a record holds, or the findings (P002) that make it unusable."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return None, [_invalid(path, f.message, f.line, f.column) for f in findings]
    docs, findings = load_documents(path, text)
    if findings:
        return None, [_invalid(path, f.message, f.line, f.column) for f in findings]
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        return None, [_invalid(path, "an approval record is one YAML mapping of " + ", ".join(FIELDS))]
    doc = docs[0]
    data: dict[str, Any] = doc.data
    problems = []
    for key in FIELDS:
        if not isinstance(data.get(key), str) or not data[key].strip():
            line, col = doc.position((key,))
            problems.append(_invalid(path, f"{key} is missing or not a text value", line, col))
    for key in sorted(set(data) - set(FIELDS), key=str):
        line, col = doc.position((key,), key=True)
        problems.append(_invalid(path, f"unknown field {key!r}", line, col))
    if problems:
        return None, problems
    values = {key: str(data[key]).strip() for key in FIELDS}
    approval = Approval(**values, path=path)
    if not ID_RE.match(approval.operation_id):
        line, col = doc.position(("operation_id",))
        problems.append(_invalid(path, f"operation_id {approval.operation_id!r} is not an operation id", line, col))
    if not approval.scope_digest.startswith(DIGEST_PREFIX):
        line, col = doc.position(("scope_digest",))
        problems.append(_invalid(path, f"scope_digest must start with {DIGEST_PREFIX!r}", line, col))
    if parse_utc(approval.approval_timestamp) is None:
        line, col = doc.position(("approval_timestamp",))
        problems.append(_invalid(path, "approval_timestamp is not an ISO 8601 UTC instant", line, col))
    return (None, problems) if problems else (approval, [])


def _invalid(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return error("P002", f"invalid approval record: {message}", path, line, column,
                 hint="do not edit approval records by hand: the approver re-creates it with 'opsgov approve'")
