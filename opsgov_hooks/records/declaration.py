"""Operation records: ``ops/operations/<OPERATION_ID>.md``, a runbook whose front matter is the declaration."""
from __future__ import annotations

import dataclasses
import posixpath
from typing import Any

from opsgov_hooks import schemas
from opsgov_hooks.config import Policy
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.ids import id_date
from opsgov_hooks.yamlstrict import Document, check_bytes, load_documents


@dataclasses.dataclass(frozen=True)
class Declaration:
    operation_id: str
    name: str
    objective: str
    risk_class: str
    blast_radius: str
    rollback_strategy: str
    allowed_paths: tuple[str, ...]
    allowed_services: tuple[str, ...]
    path: str
    body: str = ""          # the Markdown runbook after the front matter
    body_line: int = 1      # the file line where ``body`` starts

    @classmethod
    def from_mapping(cls, data: dict[str, Any], path: str, body: str = "", body_line: int = 1) -> Declaration:
        return cls(
            operation_id=str(data["OPERATION_ID"]), name=str(data["OPERATION_NAME"]),
            objective=str(data["OBJECTIVE"]), risk_class=str(data["RISK_CLASS"]),
            blast_radius=str(data["BLAST_RADIUS"]), rollback_strategy=str(data["ROLLBACK_STRATEGY"]),
            allowed_paths=tuple(data["ALLOWED_PATHS"]),
            allowed_services=tuple(data["ALLOWED_SERVICES"]),
            path=path, body=body, body_line=body_line,
        )


def split_front_matter(path: str, text: str) -> tuple[str, str, int] | Finding:
    """(yaml, body, body_line) of a Markdown file with ``---`` front matter, or a finding."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return error("F010", "an operation record must start with '---' and its YAML declaration", path,
                     hint="see docs/records.md for the operation record format")
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 2
    return error("F010", "the front matter is not closed by a '---' line", path, 1, 1)


def parse_operation_record(path: str, raw: bytes, policy: Policy) -> tuple[Declaration | None, list[Finding]]:
    text, findings = check_bytes(path, raw)
    if text is None:
        return None, findings
    split = split_front_matter(path, text)
    if isinstance(split, Finding):
        return None, [split]
    front, body, body_line = split
    docs, findings = load_documents(path, front, line_offset=1)
    if findings:
        return None, findings
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        return None, [error("F011", "the front matter must be one YAML mapping of declaration fields", path, 2)]
    doc = docs[0]
    findings = schemas.validate(schemas.DECLARATION, doc)
    if findings:
        return None, findings
    findings = _semantic_checks(doc, policy)
    declaration = Declaration.from_mapping(doc.data, path, body, body_line)
    return (None if findings else declaration), findings


def _semantic_checks(doc: Document, policy: Policy) -> list[Finding]:
    """What the schema cannot say: calendar dates, configured classes, the file name."""
    findings = []
    data = doc.data
    op_id = data["OPERATION_ID"]
    if id_date(op_id) is None:
        line, col = doc.position(("OPERATION_ID",))
        findings.append(error("D007", f"OPERATION_ID {op_id} does not carry a real calendar date", doc.path,
                              line, col))
    stem = posixpath.basename(doc.path).removesuffix(".md")
    if stem != op_id:
        line, col = doc.position(("OPERATION_ID",))
        findings.append(error("D005", f"OPERATION_ID {op_id} does not match the file name {stem}.md", doc.path,
                              line, col, hint=f"rename the file to {op_id}.md or correct the id"))
    if data["RISK_CLASS"] not in policy.risk_classes:
        line, col = doc.position(("RISK_CLASS",))
        findings.append(error("D004", f"unknown RISK_CLASS {data['RISK_CLASS']}", doc.path, line, col,
                              hint=f"use one of {', '.join(policy.risk_classes)}, or declare it in "
                                   "custom_risk_classes"))
    return findings
