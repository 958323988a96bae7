"""Operation records: ``ops/operations/<OPERATION_ID>.md``, a runbook whose front matter is the declaration."""
from __future__ import annotations

import dataclasses
import functools
import posixpath
from typing import Any

from opsgov_hooks.policy import schemas
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.policy import globs
from opsgov_hooks.records.ids import id_date
from opsgov_hooks.records.yamlstrict import Document, check_bytes, load_documents


# Many records share their ALLOWED_PATHS patterns, and compiling one with pathspec costs more than
# the rest of the record's checks: each distinct pattern is judged once per process.
_glob_problem = functools.lru_cache(maxsize=65536)(globs.glob_problem)


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
    id_position: tuple[int, int] = (2, 1)   # (line, column) of the OPERATION_ID value

    @classmethod
    def from_mapping(cls, data: dict[str, Any], path: str, body: str = "", body_line: int = 1,
                     id_position: tuple[int, int] = (2, 1)) -> Declaration:
        return cls(
            operation_id=str(data["OPERATION_ID"]), name=str(data["OPERATION_NAME"]),
            objective=str(data["OBJECTIVE"]), risk_class=str(data["RISK_CLASS"]),
            blast_radius=str(data["BLAST_RADIUS"]), rollback_strategy=str(data["ROLLBACK_STRATEGY"]),
            allowed_paths=tuple(data["ALLOWED_PATHS"]),
            allowed_services=tuple(data["ALLOWED_SERVICES"]),
            path=path, body=body, body_line=body_line, id_position=id_position,
        )


def split_front_matter(path: str, text: str) -> tuple[str, str, int] | Finding:
    """(yaml, body, body_line) of a Markdown file with ``---`` front matter, or a finding.

    The front matter opens with a ``---`` line on the first line and closes with the
    next ``---`` or ``...`` line (trailing spaces and a CRLF ending allowed). Lines
    are counted on ``\n`` only, as editors and git count them.
    """
    # Lines are found one by one and the parts sliced out of the text: a runbook is mostly
    # body, which is neither split into lines nor joined again.
    end = opening_end = text.find("\n")
    if (text if end < 0 else text[:end]).rstrip() != "---":
        return error("F010", "an operation record must start with a '---' line and its YAML declaration", path,
                     hint="see docs/records.md for the operation record format")
    number = 1                  # the 0-based number of the line starting at ``start``
    start = end + 1
    while end >= 0:
        end = text.find("\n", start)
        if (text[start:] if end < 0 else text[start:end]).rstrip() in ("---", "..."):
            front = text[opening_end + 1:start] if number > 1 else "\n"   # lines 2..number, each with its '\n'
            return front, "" if end < 0 else text[end + 1:], number + 2
        number, start = number + 1, end + 1
    return error("F010", "the front matter opened on line 1 is never closed by a '---' line", path, 1, 1,
                 hint="end the declaration with a '---' line before the runbook")


def parse_operation_record(path: str, raw: bytes, policy: Policy) -> tuple[Declaration | None, list[Finding]]:
    """The declaration of one operation record, or the findings that make it invalid."""
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
        line, col = docs[0].position() if docs else (2, 1)
        return None, [error("F011", "the front matter must be one YAML mapping of declaration fields", path,
                            line, col, hint="write one 'FIELD: value' line per declaration field")]
    doc = docs[0]
    findings = schemas.validate(schemas.DECLARATION, doc)
    if findings:
        return None, findings
    findings = _semantic_checks(doc, policy)
    declaration = Declaration.from_mapping(doc.data, path, body, body_line, doc.position(("OPERATION_ID",)))
    return (None if findings else declaration), findings


def _semantic_checks(doc: Document, policy: Policy) -> list[Finding]:
    """What the schema cannot say: calendar dates, configured classes, the file name, usable globs."""
    data = doc.data
    op_id = data["OPERATION_ID"]
    findings = []

    def at(code: str, where: tuple[str | int, ...], message: str, hint: str | None = None) -> None:
        line, col = doc.position(where)
        findings.append(error(code, message, doc.path, line, col, hint))

    if id_date(op_id) is None:
        at("D007", ("OPERATION_ID",), f"OPERATION_ID {op_id} does not carry a real calendar date",
           "the date part is the UTC day the operation was declared, YYYY-MM-DD")
    stem = posixpath.basename(doc.path).removesuffix(".md")
    if stem != op_id:
        at("D005", ("OPERATION_ID",), f"OPERATION_ID {op_id} does not match the file name {stem}.md",
           f"rename the file to {op_id}.md or correct the id")
    if data["RISK_CLASS"] not in policy.risk_classes:
        at("D004", ("RISK_CLASS",), f"unknown RISK_CLASS {data['RISK_CLASS']}",
           f"use one of {', '.join(policy.risk_classes)}, or declare it in custom_risk_classes")
    for i, pattern in enumerate(data["ALLOWED_PATHS"]):
        problem = _glob_problem(pattern) or globs.negation_problem(data["ALLOWED_PATHS"], i)
        if problem:
            at("D002", ("ALLOWED_PATHS", i), f"ALLOWED_PATHS.{i}: {pattern!r} {problem}",
               "write a repository-relative glob, e.g. ops/monitoring/**")
    return findings
