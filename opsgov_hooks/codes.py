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
  A   audit report (``opsgov report``): evidence gaps over a period
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
    # --- A: audit report ---------------------------------------------------
    Code("A001", "governed commit not traced to an operation", "'opsgov report': a commit of the period changes governed paths, but no Ops-Id trailer, no record it writes and no open operation's ALLOWED_PATHS tie it to an operation. The change has no authorisation on record."),
    Code("A002", "emergency approval overdue", "'opsgov report': an emergency operation (emergency: true) executed before approval, and was approved later than emergency_approval_hours after execution."),
    Code("A003", "operation not closed by a tag", "'opsgov report': the operation has a ledger entry but no ops-YYYY-MM-DD-NNN tag; close it with 'opsgov tag'."),
    Code("A004", "lightweight ops tag", "'opsgov report': an ops-* tag is lightweight: it carries no message, no tagger and no signature, so it is no evidence; replace it with an annotated tag."),
    Code("A005", "unsigned ops tag", "'opsgov report': require_signed_tags is set but the operation's tag carries no signature."),
)


def explain(code: str) -> Code | None:
    return CODES.get(code)
