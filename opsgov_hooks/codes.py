"""Every finding code opsgov can emit, with its meaning.

Codes are stable: once released, a code keeps its meaning forever (as ruff's and
flake8's do), so users can rely on them in suppressions, dashboards and audits.
``docs/rules.md`` is generated from this table (``python -m opsgov_hooks.docgen``)
and a test keeps the two in agreement.

Ranges:
  F   files and YAML syntax (the strict loader)
  D   operation records (declarations)
  L   ledger entries
  C   configuration
  G   the gate: association, scope contract, NOT ALLOWED
  H   history: append-only ledger, rollback references
  T   ops-* tags
  X   execution log (steps, verification gates)
  R   reporting contract (the five report sections, sign-off section)
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str


def _table(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


CODES: dict[str, Code] = _table(
    # --- F: files and YAML ------------------------------------------------
    Code("F001", "file is not UTF-8", "Records must be UTF-8 text; the byte offset of the first bad byte is reported."),
    Code("F002", "file is binary", "A NUL byte was found: a record file must be text."),
    Code("F003", "file is empty", "An empty record is not a record."),
    Code("F004", "file too large", "Record files over 1 MiB are refused unread, so a hostile file cannot exhaust the gate."),
    Code("F005", "YAML syntax error", "The YAML parser could not read the file; the position is where it gave up."),
    Code("F006", "duplicate key", "A mapping names the same key twice. PyYAML would silently keep the last one; opsgov refuses."),
    Code("F007", "anchor or alias", "Anchors (&a) and aliases (*a) are refused: no record needs them, and they are how YAML bombs and copied approvals work."),
    Code("F008", "merge key", "Merge keys (<<) are refused for the same reason as aliases."),
    Code("F009", "explicit tag", "Explicit YAML tags (!!python/object, !!binary, !custom...) are refused; records hold plain strings, lists and mappings."),
    Code("F010", "front matter missing", "An operation record must start with a '---' line and a YAML front matter block closed by '---'."),
    Code("F011", "not a mapping", "A record document must be a YAML mapping of keys to values."),
    Code("F012", "unreadable file", "The file could not be read (permissions, a broken link, a directory)."),
    # --- D: declarations ---------------------------------------------------
    Code("D001", "mandatory field missing", "One of OPERATION_ID and the seven mandatory declaration fields is missing: the operation is invalid (Ops Governor: 'If any of these are missing, operation is invalid')."),
    Code("D002", "invalid field value", "A declaration field has the wrong type or form (empty text, a path outside the repository, a malformed id)."),
    Code("D003", "unknown field", "The declaration has a key the standard does not define (often a typo of a mandatory field)."),
    Code("D004", "unknown risk class", "RISK_CLASS is neither one of READ_ONLY, LOW_RISK_CONFIG, SERVICE_RESTART, FILESYSTEM_WRITE nor a custom class declared in the config."),
    Code("D005", "id does not match file name", "ops/operations/<OPERATION_ID>.md: the file name and OPERATION_ID must agree."),
    Code("D006", "duplicate operation id", "Two operation records declare the same OPERATION_ID."),
    Code("D007", "invalid date in id", "The date part of an OPS-YYYY-MM-DD-NNN id is not a real calendar date."),
    # --- L: ledger entries -------------------------------------------------
    Code("L001", "ledger field missing", "A P5 ledger field is missing."),
    Code("L002", "invalid ledger value", "A ledger field has the wrong type or form (id, timestamp, outcome, rollback_ref)."),
    Code("L003", "unknown ledger field", "The entry has a key P5 does not define."),
    Code("L004", "invalid timestamp", "A timestamp is not a real ISO 8601 instant in UTC (Z or +00:00)."),
    Code("L005", "duplicate ledger entry", "Two ledger entries carry the same operation_id."),
    Code("L006", "ledger disagrees with declaration", "The entry's risk_class or operation_name differs from the operation's declaration."),
    Code("L007", "entry in the wrong month file", "Backend B keeps an entry in ops/ledger/YYYY-MM.yaml of its operation id's month."),
    Code("L008", "ledger entry without declaration", "No operation record declares this operation_id."),
    # --- C: configuration --------------------------------------------------
    Code("C001", "invalid configuration", "The configuration does not match schemas/config.schema.json."),
    Code("C002", "invalid pattern", "A forbidden rule's content pattern is not a valid regular expression, or a glob is malformed."),
    # --- X: execution log -----------------------------------------------------
    Code("X001", "closed operation without an execution log", "An operation with a ledger entry is closed, and the standard logs every step of it: its record needs a '3) Execution log' section with at least one step."),
    Code("X002", "malformed execution log line", "A step header that is not [STEP N | <UTC timestamp>] (or [STEP N | <timestamp> | ROLLBACK]), an unknown step mark, or a Command:/Result:/Status:/Verification: label outside a step."),
    Code("X003", "step numbering broken", "Steps are numbered 1..N in order, without gaps or repeats."),
    Code("X004", "step timestamp not UTC ISO 8601", "A step's timestamp must be an ISO 8601 instant in UTC, e.g. 2026-01-27T10:00:00Z."),
    Code("X005", "step timestamps go backwards", "Steps run one after another, so each step's timestamp is at or after the previous one's."),
    Code("X006", "incomplete step", "Every step has Command:, Result:, Status: PASS|FAIL and Verification:, each once, and a non-empty command."),
    Code("X007", "step never finished", "A step is still marked IN PROGRESS: the recorder was stopped (killed, crashed) before it could write the result, or is still running. Its effect is unknown, so it counts as failed; 'opsgov run --rollback' records it as FAIL and continues with the rollback."),
    Code("X008", "fix forward after a failure", "After a FAIL only rollback steps may follow ('If verification FAILS: STOP and execute rollback. Never fix forward blindly'). To try again, declare a new operation."),
    Code("X009", "SUCCESS after a failed step", "An operation with a failed step was rolled back or is partial: its ledger outcome cannot be SUCCESS."),
    Code("X010", "service outside ALLOWED_SERVICES", "A recorded command starts, stops, restarts or reloads a service that the declaration's ALLOWED_SERVICES does not name, acts on every service at once, or acts on services opsgov cannot tell. Read-only inspection (status, is-active, logs) of any service is allowed."),
    Code("X011", "NOT ALLOWED command", "A recorded command matches a forbidden rule's 'commands' expressions (by default: writes to the trading Redis streams, firewall, network and permission changes)."),
    Code("X012", "verification gate not met", "A closed operation lacks the verification evidence its risk class needs (verification_gates: by default SERVICE_RESTART needs status, logs and functional evidence; LOW_RISK_CONFIG and FILESYSTEM_WRITE a functional check). Evidence is a verification command of a passing step that matches evidence_patterns."),
    # --- R: reporting contract ---------------------------------------------------
    Code("R001", "closed operation without a report", "A closed operation (one with a ledger entry) ends with the Reporting Contract: its record needs a '5) Report' section."),
    Code("R002", "report section missing", "The report has five sections: EXEC SUMMARY, CHANGES MADE, VERIFICATION EVIDENCE, RISK ASSESSMENT, NEXT SAFE ACTIONS."),
    Code("R003", "report section empty", "A report section holds nothing but whitespace or template comments."),
    Code("R004", "sign-off section missing", "A closed operation's record has a '6) Signoff & Ledger Entry' section with a ```yaml block of its ledger entry."),
    Code("R005", "sign-off disagrees with the ledger", "The section 6 block must name operation_id, requested_by, approved_by, approval_timestamp, execution_timestamp and outcome, and every field it gives must equal the ledger entry's."),
)


def explain(code: str) -> Code | None:
    return CODES.get(code)
