"""Every finding code opsgov can emit, with its meaning.

Codes are stable: once released, a code keeps its meaning forever (as ruff's and
flake8's do), so users can rely on them in suppressions, dashboards and audits.
``docs/rules.md`` is generated from this table (``python -m tools.docgen``)
and a test keeps the two in agreement.

Ranges: see :data:`RANGES`.
"""
from __future__ import annotations

import dataclasses


# The first letter of a code says which part of opsgov emits it.
RANGES: dict[str, str] = {
    "F": "files and YAML syntax (the strict loader)",
    "D": "operation records (declarations)",
    "L": "ledger entries",
    "C": "configuration",
    "G": "the gate: association, scope contract, NOT ALLOWED",
    "H": "history: append-only ledger, rollback references",
    "T": "ops-* tags",
    "X": "execution log (steps, verification gates)",
    "R": "reporting contract (the five report sections, sign-off section)",
    "A": "audit report (opsgov report): evidence gaps over a period",
    "P": "signed approvals (opsgov approve, require_signed_approvals)",
}


@dataclasses.dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str


def _table(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


CODES: dict[str, Code] = _table(
    # --- F: files and YAML ------------------------------------------------
    Code("F001", "file is not UTF-8", "Records must be UTF-8 text (a UTF-8 byte order mark is accepted); the position of the first bad byte is reported. UTF-16 files are refused with this code too."),
    Code("F002", "file is binary", "A NUL byte was found: a record file must be text."),
    Code("F003", "file is empty", "An empty record (or one of only blanks) is not a record."),
    Code("F004", "file too large", "Record files (and tag messages) over 1 MiB are refused unread, so a hostile file cannot exhaust the gate."),
    Code("F005", "YAML syntax error", "The YAML parser could not read the file, or it nests deeper than 64 levels; the position is where it gave up."),
    Code("F006", "duplicate key", "A mapping names the same key twice. PyYAML would silently keep the last one; opsgov refuses."),
    Code("F007", "anchor or alias", "Anchors (&a) and aliases (*a) are refused: no record needs them, and they are how YAML bombs and copied approvals work. They are refused as the parser meets them, before anything is expanded."),
    Code("F008", "merge key", "Merge keys (<<) are refused for the same reason as aliases."),
    Code("F009", "explicit tag", "Explicit YAML tags (!!python/object, !!binary, !custom, even !!str) are refused; records hold plain strings, lists and mappings."),
    Code("F010", "record block not delimited", "An operation record must start with a '---' line and a YAML front matter block closed by a '---' (or '...') line; in a Markdown changelog (ledger backend A) each entry block opened by '---' must be closed by '---'."),
    Code("F011", "not a mapping", "A record document (front matter, ledger entry, configuration) must be a YAML mapping of keys to values, not a scalar or a list; its keys must be plain text."),
    Code("F012", "unreadable file", "The file could not be read (permissions, a broken link, a directory)."),
    Code("F013", "special file where a record should be", "A FIFO, socket or device stands at a record's path. opsgov never opens one (reading a FIFO waits forever): replace it with the record file."),
    Code("F014", "Unicode line separator in a record", "The file holds U+2028, U+2029 or U+0085. YAML reads each as a line break, git and most editors do not: a value can hide a field on the same visible line, and every line number after it would be off. Use a real line break."),
    # --- D: declarations ---------------------------------------------------
    Code("D001", "mandatory field missing", "One of OPERATION_ID and the seven mandatory declaration fields is missing: the operation is invalid (Ops Governor: 'If any of these are missing, operation is invalid')."),
    Code("D002", "invalid field value", "A declaration field has the wrong type or form: empty text, a malformed id, an ALLOWED_PATHS entry that is absolute, climbs out with '..', is a Windows path or is a glob that selects nothing."),
    Code("D003", "unknown field", "The declaration has a key the standard does not define (often a typo of a mandatory field; the hint suggests the closest one)."),
    Code("D004", "unknown risk class", "RISK_CLASS is neither one of READ_ONLY, LOW_RISK_CONFIG, SERVICE_RESTART, FILESYSTEM_WRITE nor a custom class declared in the config (custom_risk_classes)."),
    Code("D005", "id does not match file name", "<operations_dir>/<OPERATION_ID>.md: the file name and OPERATION_ID must agree."),
    Code("D006", "duplicate operation id", "Two operation records declare the same OPERATION_ID."),
    Code("D007", "invalid date in id", "The date part of an OPS-YYYY-MM-DD-NNN id is not a real calendar date (e.g. 2026-02-30)."),
    # --- L: ledger entries -------------------------------------------------
    Code("L001", "ledger field missing", "A P5 ledger field is missing; with outcome ROLLBACK, rollback_timestamp and rollback_evidence are mandatory too."),
    Code("L002", "invalid ledger value", "A ledger field has the wrong type or form (id or its calendar date, outcome, rollback_ref, an empty text)."),
    Code("L003", "unknown ledger field", "The entry has a key P5 does not define (the hint suggests the closest one)."),
    Code("L004", "invalid timestamp", "A timestamp is not a real ISO 8601 instant in UTC (Z or +00:00), e.g. 2026-01-27T10:00:00Z."),
    Code("L005", "duplicate ledger entry", "Two ledger entries carry the same operation_id."),
    # --- lifecycle: L1xx sign-off and timestamps, H history, T tags ---------
    # (kept in one block to merge cleanly; docs/rules.md lists codes in code order)
    Code("L101", "self-approval where sign-off is recommended", "P5 recommends a second person for this risk class (SERVICE_RESTART, FILESYSTEM_WRITE by default); approved_by is SELF or the requester. A warning: the operation may proceed, and the config may set solo_mode: true for a one-person team."),
    Code("L102", "sign-off required from someone other than the requester", "The risk class requires sign-off (custom high-risk classes by default): approved_by must name a person other than requested_by, compared after normalising case and e-mail form ('Alice <alice@x>' equals 'alice@x'). SELF is accepted only with solo_mode: true in the config."),
    Code("L103", "approver not on the allow-list", "The config's approvers list names the only people who may approve; this entry's approver (the requester, for SELF) is not among them."),
    Code("L104", "approved after execution", "approval_timestamp is later than execution_timestamp. Only an entry marked emergency: true may execute first, and then someone other than the requester must approve it within emergency_approval_hours."),
    Code("L105", "timestamp in the future", "A timestamp is later than now plus clock_skew_seconds: a ledger records what happened, not what is planned."),
    Code("L106", "operation id dated after execution", "The date in OPS-YYYY-MM-DD-NNN is later than the execution date: an operation is declared before it runs."),
    Code("L107", "emergency approval overdue or late", "An emergency operation executed before approval and was not approved by someone other than the requester within emergency_approval_hours of execution."),
    Code("L108", "emergency approval pending", "An emergency operation executed before a second person approved it; it is still within emergency_approval_hours. A warning until the window closes, then L107."),
    Code("L109", "rollback before execution", "rollback_timestamp is earlier than execution_timestamp: an operation cannot be rolled back before it ran."),
    Code("L121", "identity a reader cannot see as written", "requested_by or approved_by holds a control, format (zero-width space, bidi override), private-use or other default-ignorable character, or is not in Unicode NFKC form: the name a reader sees is not the text the gate compares."),
    Code("L122", "mixed-script or confusable identity", "requested_by or approved_by mixes scripts within a word (a Cyrillic 'а' in 'аlice'), or writes a word only with non-Latin letters that each look like a Latin one (Unicode TR39 confusables): a reader would take it for another person."),
    # --- H: history --------------------------------------------------------
    Code("H001", "ledger entry removed", "The ledger is append-only: an entry present at the base revision (HEAD for a staged change, BASE for a range) is gone."),
    Code("H002", "ledger entry changed", "The ledger is append-only: a field of an existing entry changed, appeared or disappeared. Only the rollback update (outcome, rollback_timestamp, rollback_evidence), growing notes, and an emergency entry's pending approval may change."),
    Code("H003", "invalid outcome change", "outcome may only move from SUCCESS to ROLLBACK or PARTIAL, or from PARTIAL to ROLLBACK, and only together with rollback_timestamp and rollback_evidence ('opsgov ledger rollback')."),
    Code("H004", "notes rewritten", "notes may grow (the new text starts with the old text) but never be rewritten or shortened."),
    Code("H005", "two operations share one id", "Two different operations (different name, requester or execution time) carry the same OPS id, typically allocated on two branches on the same day and brought together by a merge. Give one of them a new id."),
    Code("H006", "rollback commit does not exist", "rollback_ref names a commit that is not in the repository."),
    Code("H007", "rollback reference is not a commit", "rollback_ref names a tree, blob or tag object, not a commit."),
    Code("H008", "ambiguous rollback reference", "The abbreviated hash in rollback_ref matches more than one object: write more digits (or the full 40)."),
    Code("H009", "rollback commit unreachable", "The commit exists but is not an ancestor of the checked HEAD (for a tagged operation, of the tag's commit): it exists only on an unmerged or deleted branch, and may be garbage-collected."),
    Code("H010", "history too shallow", "This clone is shallow, so a rollback commit that cannot be found may simply not have been fetched. Fetch the full history ('git fetch --unshallow', or fetch-depth: 0 in actions/checkout)."),
    Code("H011", "rollback procedure path missing", "rollback_ref: procedure: names a repository path that does not exist in the checked tree."),
    Code("H012", "rollback procedure path leaves the repository", "rollback_ref: procedure: names a relative path that, once '..' is resolved, lies outside the repository (docs/../../../etc/passwd.md): a procedure is a file the repository holds."),
    # --- T: ops-* tags -------------------------------------------------------
    Code("T001", "lightweight ops tag", "Every ops-* tag must be annotated: a lightweight tag has no message to carry the ledger entry, no tagger, no signature, and does not travel with 'git push --follow-tags'."),
    Code("T003", "tag object name differs from its ref", "The name written inside the tag object is not the name of the ref that points at it: the tag was renamed or copied, which is how one operation's seal is passed off as another's."),
    Code("T004", "tag name and entry id disagree", "The tag is not named ops-<operation id in lower case> of the entry it carries, or the name is not an ops id at all."),
    Code("T005", "tag entry differs from the ledger", "The entry sealed in the tag is not the ledger's entry for the operation, and the ledger did not move on from it in a way the append-only rule allows (a rollback)."),
    Code("T006", "tagged commit does not hold the entry", "The tag points at a commit whose tree does not hold the operation's ledger entry as sealed in the tag: tag the commit that records the entry."),
    Code("T007", "tag signature missing or invalid", "require_signed_tags is set: every ops-* tag must carry a signature that 'git verify-tag' accepts (SSH signatures are checked against allowed_signers_file)."),
    Code("T008", "tag signer is not the approver", "require_signed_tags is set: the tag must be signed by the entry's approved_by (the requester, for SELF)."),
    Code("T009", "tag already exists", "opsgov never moves or overwrites a tag: the operation is already closed here, or another branch took its id first."),
    Code("T010", "operation not ready to close", "'opsgov tag' needs the operation's declaration and ledger entry at the tagged revision."),
    Code("L006", "ledger disagrees with declaration", "The entry's risk_class or operation_name differs from the operation's declaration."),
    Code("L007", "entry in the wrong month file", "Backend B keeps an entry in <ledger path>/YYYY-MM.yaml of its operation id's month; a ledger file must be named YYYY-MM.yaml."),
    Code("L008", "ledger entry without declaration", "No operation record declares this operation_id."),
    Code("L009", "no ledger entry in tag message", "An ops-* tag read as the ledger (backend C) must carry exactly one ledger entry in its message."),
    # --- C: configuration --------------------------------------------------
    Code("C001", "invalid configuration", "The configuration does not match schemas/config.schema.json, or names an unknown risk class in a per-class setting (signoff, verification_gates). A broken configuration stops every command with exit code 2: opsgov never falls back to defaults."),
    Code("C002", "invalid pattern", "A regular expression in the configuration does not compile, or a glob selects nothing (a comment, a blank, an unclosed '[')."),
    # --- G: the gate ---------------------------------------------------------
    Code("G001", "change belongs to no operation", "A change touches a governed path (governed_paths, the records, the configuration) but belongs to no operation: it adds or modifies no operation record or ledger entry, names none in an 'Ops-Id:' trailer, and no open operation's ALLOWED_PATHS cover the path. With --all: a governed file no declared operation covers."),
    Code("G002", "operation not validly declared", "The change belongs to an operation (by its records or a trailer) whose declaration is missing or invalid in the tree the change produces. An operation must be declared at or before the commit that makes its change."),
    Code("G003", "ledger entry missing", "An operation the change belongs to has no valid P5 ledger entry in the resulting tree (staged), or by the end of the range (CI, push). With allow_ledger_followup, a staged change only warns: the standard lets the entry follow in an immediate follow-up commit."),
    Code("G004", "outside the scope contract", "A touched file lies outside the ALLOWED_PATHS of every operation the change belongs to (their own record files aside). When the change names its operations (records or trailers) this covers every touched file, governed or not."),
    Code("G005", "operation closed", "The only operation that could permit the change is closed: its ops-* tag is already in the history the change builds on. A closed operation gives no further permit; declare a new operation."),
    Code("G006", "NOT ALLOWED path", "A touched path (added, modified, deleted or renamed) matches a forbidden path rule: the standard's NOT ALLOWED list, or the configuration's 'forbidden' rules."),
    Code("G007", "NOT ALLOWED content", "An added line matches a forbidden content pattern (e.g. a write to a trading Redis stream, a firewall or user-permission command)."),
    Code("G008", "secret in an added line", "detect-secrets flags an added line as a secret: a key, token, password or private key. Only added lines are scanned, line by line (no file is parsed), with detect-secrets' plugins and filters (lock files, hashes, ids) or those of the trusted revision's .secrets.baseline, whose known secrets are not new. Pinned ids (a 40-hex rev:, a lock file's commit) are not secrets. A line that is not a secret can say so with '# pragma: allowlist secret'."),
    Code("G009", "bad Ops-Id trailer", "An 'Ops-Id:' commit trailer is not an operation id, or names no operation declared in the commit's tree."),
    # (security round 2: G021-G029)
    Code("G021", "approved scope changed", "The operation has a ledger entry at the trusted base (HEAD for a staged change, BASE for a range, the ref's old value for a push): its RISK_CLASS, ALLOWED_PATHS, ALLOWED_SERVICES, BLAST_RADIUS and ROLLBACK_STRATEGY are what was approved. The change edits one of them. Every change is judged against the scope as approved, never as the change rewrites it; a different scope needs a new operation with its own approval."),
    Code("G022", "rollback is not a revert", "The change relies on the rollback exemption (it records the rollback of a closed operation, which re-opens it for that change only), so it may only bring files back: each path it touches in the operation's scope must end with exactly the content it had before the operation's first change to it (on the first-parent history since the operation was declared), or be removed if the operation created it. Anything else is new work and needs a new operation."),
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
    Code("X021", "command opsgov cannot read", "A recorded command's effect cannot be read from its words: an interpreter's inline code or script file (python -c, perl -e, a .sh file), eval or source, a shell reading a script file or standard input, or a script that does not tokenise. opsgov cannot tell whether it breaks the scope contract, so it refuses it (opsgov run refuses before running); write the commands out, or set opaque_commands: allow in the configuration."),
    # --- R: reporting contract ---------------------------------------------------
    Code("R001", "closed operation without a report", "A closed operation (one with a ledger entry) ends with the Reporting Contract: its record needs a '5) Report' section."),
    Code("R002", "report section missing", "The report has five sections: EXEC SUMMARY, CHANGES MADE, VERIFICATION EVIDENCE, RISK ASSESSMENT, NEXT SAFE ACTIONS."),
    Code("R003", "report section empty", "A report section holds nothing but whitespace or template comments."),
    Code("R004", "sign-off section missing", "A closed operation's record has a '6) Signoff & Ledger Entry' section with a ```yaml block of its ledger entry."),
    Code("R005", "sign-off disagrees with the ledger", "The section 6 block names the operation_id, and every field it gives equals the ledger entry's (timestamps compared as instants): the runbook and the ledger never contradict each other."),
    # --- A: audit report ---------------------------------------------------
    Code("A001", "governed commit not traced to an operation", "'opsgov report': a commit of the period changes governed paths, but no Ops-Id trailer, no record it writes and no open operation's ALLOWED_PATHS tie it to an operation. The change has no authorisation on record."),
    Code("A002", "emergency approval overdue", "'opsgov report': an emergency operation (emergency: true) executed before approval, and was approved later than emergency_approval_hours after execution."),
    Code("A003", "operation not closed by a tag", "'opsgov report': the operation has a ledger entry but no ops-YYYY-MM-DD-NNN tag; close it with 'opsgov tag'."),
    Code("A004", "lightweight ops tag", "'opsgov report': an ops-* tag is lightweight: it carries no message, no tagger and no signature, so it is no evidence; replace it with an annotated tag."),
    Code("A005", "unsigned ops tag", "'opsgov report': require_signed_tags is set but the operation's tag carries no signature."),
    # signed approvals: require_signed_approvals for the operation's risk class
    Code("P001", "signed approval missing", "The operation's risk class requires a signed approval and ops/approvals/OPS-ID.yaml is not committed: the approver runs 'opsgov approve OPS-ID' in their own clone."),
    Code("P002", "invalid approval record", "ops/approvals/OPS-ID.yaml is not the record 'opsgov approve' writes (a YAML mapping of operation_id, scope_digest, risk_class, approved_by, approval_timestamp), or it approves another operation."),
    Code("P003", "approval signature missing or invalid", "The commit that added the approval record carries no signature git accepts: unsigned, tampered with, or made with a key that is not in allowed_signers_file as the trusted revision has it."),
    Code("P004", "approval signer is not the approver", "The approval commit is signed by someone other than the approver the record names."),
    Code("P005", "approval signed by the requester", "The approval is signed by the operation's requester; someone else must approve (unless solo_mode: true)."),
    Code("P006", "approved scope differs from the declaration", "The approval's scope digest is not the digest of the declaration as judged: the scope (risk class, blast radius, rollback strategy, allowed paths or services) changed after approval."),
    Code("P007", "change made before approval", "A governed change of the operation does not descend from its approval commit: it was made before, or beside, the approval (emergency entries excepted)."),
    Code("P008", "ledger disagrees with the signed approval", "The ledger entry's approved_by or approval_timestamp is not the signed approval's."),
    Code("P009", "allowed signers changed by the same change", "The approval's key is not trusted at the base revision and the change being judged edits allowed_signers_file: a change cannot vouch for its own key; land the key first."),
)


def explain(code: str) -> Code | None:
    return CODES.get(code)
