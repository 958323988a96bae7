"""Operation records and ledger entries, valid and invalid, in each storage option, via `opsgov validate`."""
from __future__ import annotations

import subprocess

import pytest

from conftest import Repo, declaration_text, entry_text
from opsgov_hooks.policy.config import default_policy
from opsgov_hooks.records.declaration import parse_operation_record
from opsgov_hooks.records.ledger import parse_changelog, parse_ledger_yaml, parse_tag_entry

OP = "ops/operations/OPS-2026-01-27-001.md"
LEDGER = "ops/ledger/2026-01.yaml"
CHANGELOG = "docs/OPS_CHANGELOG.md"
MANDATORY = ["OPERATION_ID", "OPERATION_NAME", "OBJECTIVE", "RISK_CLASS", "BLAST_RADIUS", "ROLLBACK_STRATEGY",
             "ALLOWED_PATHS", "ALLOWED_SERVICES"]
P5_FIELDS = ["operation_id", "operation_name", "requested_by", "approved_by", "approval_timestamp",
             "execution_timestamp", "risk_class", "blast_radius", "changes_summary", "rollback_ref", "outcome"]
SUMMARY_1 = "Found 1 error(s), 0 warning(s)."


@pytest.fixture
def validate(repo: Repo, run_cli, monkeypatch):  # type: ignore[no-untyped-def]
    """Write files into the repository, run `opsgov validate [args]`: (exit code, stdout lines)."""
    repo.chdir(monkeypatch)

    def _run(files: dict[str, str | bytes], *args: str) -> tuple[int, list[str]]:
        for path, content in files.items():
            repo.write(path, content)
        code, out, err = run_cli("validate", *args)
        assert "Traceback" not in out + err
        assert err == ""
        return code, out.splitlines()

    return _run


# -- operation records ---------------------------------------------------------------

def test_valid_operation_record(validate) -> None:  # type: ignore[no-untyped-def]
    assert validate({OP: declaration_text()}) == (0, [])


def test_valid_record_with_empty_services_and_custom_class(validate) -> None:  # type: ignore[no-untyped-def]
    files = {".opsgov.yaml": "custom_risk_classes: [DB_MIGRATION]\n",
             OP: declaration_text(RISK_CLASS="DB_MIGRATION", ALLOWED_SERVICES=[])}
    assert validate(files) == (0, [])


@pytest.mark.parametrize("field", MANDATORY)
def test_each_missing_declaration_field_is_named(validate, field: str) -> None:  # type: ignore[no-untyped-def]
    missing: dict[str, object] = {field: None}
    code, lines = validate({OP: declaration_text(OP[15:33], **missing)})
    assert code == 1 and lines[1:] == [SUMMARY_1]
    assert lines[0].startswith(f"{OP}:2:1: D001 mandatory field '{field}' is missing (fix: ")


@pytest.mark.parametrize(("glob", "shown"), [
    ("/etc/x", "'/etc/x'"), ("../x", "'../x'"), ("ops/../../x", "'ops/../../x'"), ("'C:\\x'", "'C:\\\\x'"),
    ("'C:/x'", "'C:/x'"), ("'~/x'", "'~/x'"), ("'ops\\x'", "'ops\\\\x'"),
])
def test_allowed_paths_outside_the_repository_are_refused(validate, glob: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(ALLOWED_PATHS=["ops/ok/**", glob])})
    assert (code, lines) == (1, [
        f"{OP}:10:5: D002 ALLOWED_PATHS.1: {shown} is not in the expected form "
        "(fix: A repository-relative glob, e.g. ops/monitoring/** or deploy/prometheus.yml.)", SUMMARY_1])


@pytest.mark.parametrize(("glob", "problem"), [
    ("'#ops'", "starts with '#', which gitignore syntax reads as a comment"),
    ("'ops/['", "matches no path (blank, or an unclosed '[')"),
    ("'ops/[z-a]'", "is not a valid glob (bad character range z-a)"),
])
def test_allowed_paths_that_select_nothing_are_refused(validate, glob: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(ALLOWED_PATHS=[glob])})
    shown = glob.strip("'")
    assert (code, lines) == (1, [f"{OP}:9:5: D002 ALLOWED_PATHS.0: {shown!r} {problem} "
                                 "(fix: write a repository-relative glob, e.g. ops/monitoring/**)", SUMMARY_1])


def test_empty_allowed_paths_and_blank_text_are_refused(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(OBJECTIVE="'  '", ALLOWED_PATHS=[], ALLOWED_SERVICES="prometheus")})
    assert (code, lines) == (1, [
        f"{OP}:4:12: D002 OBJECTIVE: must not be blank (fix: What the operation is meant to achieve.)",
        f"{OP}:8:16: D002 ALLOWED_PATHS: must not be empty (fix: The hard allowlist of files the operation may "
        "modify: repository-relative globs (gitignore syntax, ** for any depth). No absolute path, no '..'.)",
        f"{OP}:9:19: D002 ALLOWED_SERVICES: 'prometheus' is not of type array (fix: The hard allowlist of services "
        "the operation may restart or reload (may be empty for operations that restart nothing).)",
        "Found 3 error(s), 0 warning(s)."])


def test_unknown_fields_get_a_did_you_mean_hint(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(OPERATON_NAME="x", blast_radius="y", COLOUR="red")})
    assert (code, lines) == (1, [
        f"{OP}:12:1: D003 unknown field 'OPERATON_NAME' (fix: did you mean 'OPERATION_NAME'?)",
        f"{OP}:13:1: D003 unknown field 'blast_radius' (fix: did you mean 'BLAST_RADIUS'?)",
        f"{OP}:14:1: D003 unknown field 'COLOUR' (fix: known fields: ALLOWED_PATHS, ALLOWED_SERVICES, BLAST_RADIUS, "
        "OBJECTIVE, OPERATION_ID, OPERATION_NAME, RISK_CLASS, ROLLBACK_STRATEGY)",
        "Found 3 error(s), 0 warning(s)."])


def test_unknown_risk_class(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(RISK_CLASS="DB_MIGRATION")})
    assert (code, lines) == (1, [
        f"{OP}:5:13: D004 unknown RISK_CLASS DB_MIGRATION (fix: use one of READ_ONLY, LOW_RISK_CONFIG, "
        "SERVICE_RESTART, FILESYSTEM_WRITE, or declare it in custom_risk_classes)", SUMMARY_1])


def test_lower_case_risk_class_is_refused_by_form(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(RISK_CLASS="read_only")})
    assert code == 1 and lines[0].startswith(f"{OP}:5:13: D002 RISK_CLASS: 'read_only' is not in the expected form")


def test_id_must_match_the_file_name(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({"ops/operations/OPS-2026-01-27-002.md": declaration_text()})
    assert (code, lines) == (1, [
        "ops/operations/OPS-2026-01-27-002.md:2:15: D005 OPERATION_ID OPS-2026-01-27-001 does not match the file "
        "name OPS-2026-01-27-002.md (fix: rename the file to OPS-2026-01-27-001.md or correct the id)", SUMMARY_1])


def test_duplicate_operation_id(validate) -> None:  # type: ignore[no-untyped-def]
    files = {OP: declaration_text(), "ops/operations/archive/OPS-2026-01-27-001.md": declaration_text()}
    code, lines = validate(files)
    assert (code, lines) == (1, [
        "ops/operations/archive/OPS-2026-01-27-001.md:2:15: D006 OPS-2026-01-27-001 is already declared in "
        f"{OP} (fix: give this operation a new id with 'opsgov new')", SUMMARY_1])


@pytest.mark.parametrize("op_id", ["OPS-2026-02-30-001", "OPS-2025-02-29-001", "OPS-2026-13-01-001",
                                   "OPS-2026-00-10-001"])
def test_id_with_an_impossible_date(validate, op_id: str) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({f"ops/operations/{op_id}.md": declaration_text(op_id)})
    assert (code, lines) == (1, [
        f"ops/operations/{op_id}.md:2:15: D007 OPERATION_ID {op_id} does not carry a real calendar date "
        "(fix: the date part is the UTC day the operation was declared, YYYY-MM-DD)", SUMMARY_1])


def test_leap_day_is_a_real_date(validate) -> None:  # type: ignore[no-untyped-def]
    assert validate({"ops/operations/OPS-2028-02-29-001.md": declaration_text("OPS-2028-02-29-001")}) == (0, [])


@pytest.mark.parametrize(("content", "expected"), [
    ("# Runbook\n\nno front matter\n", f"{OP}:1:1: F010 an operation record must start with a '---' line and its "
     "YAML declaration (fix: see docs/records.md for the operation record format)"),
    ("---\nOPERATION_ID: OPS-2026-01-27-001\n", f"{OP}:1:1: F010 the front matter opened on line 1 is never closed "
     "by a '---' line (fix: end the declaration with a '---' line before the runbook)"),
    ("---\njust text\n---\n", f"{OP}:2:1: F011 the front matter must be one YAML mapping of declaration fields "
     "(fix: write one 'FIELD: value' line per declaration field)"),
    ("---\n- a\n- b\n---\n", f"{OP}:2:1: F011 the front matter must be one YAML mapping of declaration fields "
     "(fix: write one 'FIELD: value' line per declaration field)"),
    ("---\n---\n# body\n", f"{OP}:2:1: F011 the front matter must be one YAML mapping of declaration fields "
     "(fix: write one 'FIELD: value' line per declaration field)"),
    ("---\nOPERATION_ID: a\nOPERATION_ID: b\n---\n", f"{OP}:3:1: F006 duplicate key 'OPERATION_ID' "
     "(fix: keep one of the two; YAML would silently drop the first)"),
])
def test_malformed_front_matter(validate, content: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert validate({OP: content}) == (1, [expected, SUMMARY_1])


def test_front_matter_closed_by_dots_crlf_and_bom(validate) -> None:  # type: ignore[no-untyped-def]
    text = declaration_text().replace("---\n\n#", "...\n\n#", 1)
    assert "...\n" in text
    crlf = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    assert validate({OP: crlf}) == (0, [])
    declaration, findings = parse_operation_record(OP, crlf, default_policy())
    assert findings == [] and declaration is not None
    assert declaration.body_line == 13 and declaration.body.startswith("\r\n# OPS-2026-01-27-001")


def test_positions_in_a_crlf_record(validate) -> None:  # type: ignore[no-untyped-def]
    text = declaration_text(RISK_CLASS="NOPE").replace("\n", "\r\n")
    code, lines = validate({OP: text})
    assert code == 1 and lines[0].startswith(f"{OP}:5:13: D004 unknown RISK_CLASS NOPE")


def test_a_record_in_the_operations_dir_that_is_not_markdown_is_ignored(validate) -> None:  # type: ignore[no-untyped-def]
    assert validate({OP: declaration_text(), "ops/operations/notes.txt": "anything"}) == (0, [])


# -- ledger entries (backend B) ------------------------------------------------------------

def _ok_files(entries: str, path: str = LEDGER) -> dict[str, str | bytes]:
    return {OP: declaration_text(), path: entries}


@pytest.mark.parametrize("field", P5_FIELDS)
def test_each_missing_ledger_field_is_named(validate, field: str) -> None:  # type: ignore[no-untyped-def]
    missing: dict[str, object] = {field: None}
    code, lines = validate(_ok_files(entry_text("OPS-2026-01-27-001", **missing)))
    assert code == 1 and lines[1:] == [SUMMARY_1]
    assert lines[0].startswith(f"{LEDGER}:2:1: L001 mandatory field '{field}' is missing (fix: ")


def test_notes_are_optional_and_may_be_null(validate) -> None:  # type: ignore[no-untyped-def]
    assert validate(_ok_files(entry_text(notes=""))) == (0, [])
    assert validate(_ok_files(entry_text(notes="'checked by carol'"))) == (0, [])


def test_rollback_needs_its_timestamp_and_evidence(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(outcome="ROLLBACK")))
    assert (code, lines) == (1, [
        f"{LEDGER}:12:10: L001 mandatory field 'rollback_evidence' is missing (needed when outcome is ROLLBACK) "
        "(fix: Verification evidence of the rollback.)",
        f"{LEDGER}:12:10: L001 mandatory field 'rollback_timestamp' is missing (needed when outcome is ROLLBACK) "
        "(fix: An ISO 8601 instant in UTC, e.g. 2026-01-27T10:00:00Z.)",
        "Found 2 error(s), 0 warning(s)."])
    rolled_back = entry_text(outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z",
                             rollback_evidence="'systemctl is-active prometheus: active'")
    assert validate(_ok_files(rolled_back)) == (0, [])


def test_invalid_ledger_values(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(outcome="FAILED", rollback_ref="HEAD~1",
                                                changes_summary="'  '", approved_by="''")))
    assert (code, lines) == (1, [
        f"{LEDGER}:5:14: L002 approved_by: must not be empty (fix: Who approved it: a user name or e-mail address, "
        "or SELF for a solo operator.)",
        f"{LEDGER}:10:18: L002 changes_summary: '  ' is not in the expected form "
        "(fix: A one-line summary of the changes.)",
        f"{LEDGER}:11:15: L002 rollback_ref: 'HEAD~1' is not in the expected form (fix: How to undo the operation: "
        "a commit (7 to 40 hex digits, or commit:<rev>), 'command: <text>' or 'procedure: <text or repository path>'.)",
        f"{LEDGER}:12:10: L002 outcome: 'FAILED' is not one of SUCCESS, ROLLBACK, PARTIAL "
        "(fix: SUCCESS, ROLLBACK or PARTIAL.)",
        "Found 4 error(s), 0 warning(s)."])


@pytest.mark.parametrize("ref", ["abc1234", "0123456789abcdef0123456789abcdef01234567", "commit:HEAD~1",
                                 "'commit: v1.2'", "'command: git revert abc1234'", "'procedure: docs/rollback.md'",
                                 "'procedure: restore the config from the backup'"])
def test_rollback_ref_forms(validate, ref: str) -> None:  # type: ignore[no-untyped-def]
    assert validate(_ok_files(entry_text(rollback_ref=ref))) == (0, [])


@pytest.mark.parametrize("ref", ["abc12", "HEAD", "'commit: -x'", "'command:'", "'abc1234\n'", "|\n  abc1234"])
def test_bad_rollback_refs(validate, ref: str) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(rollback_ref=ref)))
    assert code == 1 and " L002 rollback_ref: " in lines[0]


def test_operation_id_in_the_ledger(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text("OPS-2026-1-27-001")))
    assert code == 1 and lines[0].startswith(f"{LEDGER}:2:15: L002 operation_id: 'OPS-2026-1-27-001' is not in the "
                                             "expected form")


def test_operation_id_with_an_impossible_date_in_the_ledger(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({"ops/ledger/2026-02.yaml": entry_text("OPS-2026-02-30-001")})
    assert (code, lines) == (1, [
        "ops/ledger/2026-02.yaml:2:15: L002 operation_id OPS-2026-02-30-001 does not carry a real calendar date",
        SUMMARY_1])


def test_unknown_ledger_field(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(aproved_by="x")))
    assert (code, lines) == (1, [f"{LEDGER}:13:1: L003 unknown field 'aproved_by' (fix: did you mean 'approved_by'?)",
                                 SUMMARY_1])


@pytest.mark.parametrize(("field", "value", "column"), [
    ("approval_timestamp", "2026-02-30T10:00:00Z", 21),
    ("approval_timestamp", "2026-01-27T25:00:00Z", 21),
    ("execution_timestamp", "2026-01-27 10:00:00", 22),
    ("execution_timestamp", "2026-01-27T10:00:00", 22),
    ("execution_timestamp", "2026-01-27T10:00:00+02:00", 22),
    ("execution_timestamp", "'27/01/2026 10:00'", 22),
])
def test_timestamps_must_be_real_utc_instants(validate, field: str, value: str, column: int) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(**{field: value})))
    line = 6 if field == "approval_timestamp" else 7
    assert code == 1 and lines[1:] == [SUMMARY_1]
    assert lines[0].startswith(f"{LEDGER}:{line}:{column}: L004 ")


@pytest.mark.parametrize("value", ["2026-01-27T10:00:00Z", "2026-01-27T10:00Z", "2026-01-27T10:00:00.123Z",
                                   "2026-01-27T10:00:00+00:00", "'2026-01-27T10:00:00Z'"])
def test_utc_timestamp_forms(validate, value: str) -> None:  # type: ignore[no-untyped-def]
    assert validate(_ok_files(entry_text(execution_timestamp=value))) == (0, [])


def test_duplicate_ledger_entry(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text() + entry_text()))
    assert (code, lines) == (1, [
        f"{LEDGER}:14:15: L005 OPS-2026-01-27-001 already has a ledger entry at {LEDGER}:1 "
        "(fix: one entry per operation: update the existing entry instead)", SUMMARY_1])


def test_ledger_must_agree_with_the_declaration(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(risk_class="SERVICE_RESTART", operation_name="Other")))
    assert (code, lines) == (1, [
        f"{LEDGER}:3:17: L006 operation_name 'Other' differs from the declaration's 'Tune Prometheus scrape "
        f"interval' ({OP}) (fix: set operation_name: Tune Prometheus scrape interval)",
        f"{LEDGER}:8:13: L006 risk_class 'SERVICE_RESTART' differs from the declaration's 'LOW_RISK_CONFIG' "
        f"({OP}) (fix: set risk_class: LOW_RISK_CONFIG)", "Found 2 error(s), 0 warning(s)."])


def test_entry_in_the_wrong_month_file(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(), "ops/ledger/2026-02.yaml"))
    assert (code, lines) == (1, [
        "ops/ledger/2026-02.yaml:2:15: L007 OPS-2026-01-27-001 belongs in 2026-01.yaml, not 2026-02.yaml "
        "(fix: move the entry to the file of its operation id's month)", SUMMARY_1])


@pytest.mark.parametrize("name", ["2026-1.yaml", "january.yaml", "2026-01.yml", "2026-13.yaml"])
def test_ledger_file_names(validate, name: str) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate(_ok_files(entry_text(), f"ops/ledger/{name}"))
    assert (code, lines) == (1, [
        f"ops/ledger/{name}:1:1: L007 ledger files are named YYYY-MM.yaml, not {name} "
        "(fix: one file per month of the operation ids, e.g. ops/ledger/2026-01.yaml)", SUMMARY_1])


def test_entry_without_declaration(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({LEDGER: entry_text()})
    assert (code, lines) == (1, [
        f"{LEDGER}:2:15: L008 no operation record declares OPS-2026-01-27-001 "
        f"(fix: declare it in {OP} ('opsgov new'))", SUMMARY_1])


def test_entry_of_an_invalid_declaration_is_not_reported_twice(validate) -> None:  # type: ignore[no-untyped-def]
    code, lines = validate({OP: declaration_text(OBJECTIVE=None), LEDGER: entry_text()})
    assert code == 1 and [line.split(": ")[1].split()[0] for line in lines[:-1]] == ["D001"]


def test_one_bad_entry_does_not_hide_the_others(validate) -> None:  # type: ignore[no-untyped-def]
    second = declaration_text("OPS-2026-01-28-001")
    # (executed on its id's day: the lifecycle rule L106 refuses an id dated after the execution)
    text = (entry_text(outcome="MAYBE") + entry_text("OPS-2026-01-28-001", execution_timestamp="2026-01-28T10:00:00Z")
            + "---\nnot: [closed\n")
    code, lines = validate({OP: declaration_text(), "ops/operations/OPS-2026-01-28-001.md": second, LEDGER: text})
    assert code == 1
    assert [line.split(": ")[1][:4] for line in lines[:-1]] == ["L002", "F005"]


# -- line spans: what an in-place update may replace ---------------------------------------

def test_ledger_entry_spans_in_a_month_file() -> None:
    text = ("# ledger for January\n"
            + entry_text()
            + "\n# reviewed\n"
            + entry_text("OPS-2026-01-28-001", notes="|\n  line one\n  line two\n\n")
            + "...\n"
            + entry_text("OPS-2026-01-29-001").replace("---\n", "---\n# first key below\n"))
    entries, findings = parse_ledger_yaml(LEDGER, text.encode())
    assert findings == []
    lines = text.split("\n")
    spans = [lines[e.line - 1:e.end_line - 1] for e in entries]
    assert [(e.line, e.end_line) for e in entries] == [(2, 14), (16, 31), (34, 47)]
    assert spans[0][0] == "---" and spans[0][-1] == "outcome: SUCCESS"
    assert spans[1][0] == "---" and spans[1][-1] == "  line two"
    assert spans[2][:2] == ["---", "# first key below"] and spans[2][-1] == "outcome: SUCCESS"


def test_spans_with_crlf_line_endings() -> None:
    text = (entry_text() + entry_text("OPS-2026-01-28-001")).replace("\n", "\r\n")
    entries, findings = parse_ledger_yaml(LEDGER, text.encode())
    assert findings == [] and [(e.line, e.end_line) for e in entries] == [(1, 13), (13, 25)]


# -- backend A: Markdown changelog -------------------------------------------------------

MARKDOWN_CONFIG = "ledger:\n  backend: markdown\n"


def _changelog(*entries: str) -> str:
    parts = ["# Ops changelog\n\nEntries below, newest last.\n\nSection\n---\n\n```yaml\n---\nexample: 1\n---\n```\n\n"]
    for i, entry in enumerate(entries):
        parts.append(entry + "---\n\nSome prose about it; a thematic break as ***\n\n***\n\n")
    return "".join(parts)


def test_markdown_changelog_valid(validate) -> None:  # type: ignore[no-untyped-def]
    second = declaration_text("OPS-2026-01-28-001")
    files = {".opsgov.yaml": MARKDOWN_CONFIG, OP: declaration_text(),
             "ops/operations/OPS-2026-01-28-001.md": second,
             CHANGELOG: _changelog(entry_text(), entry_text("OPS-2026-01-28-001",
                                                            execution_timestamp="2026-01-28T10:00:00Z"))}
    assert validate(files) == (0, [])


def test_markdown_changelog_positions_and_spans(validate) -> None:  # type: ignore[no-untyped-def]
    text = _changelog(entry_text(), entry_text("OPS-2026-01-28-001", outcome="NOPE"))
    code, lines = validate({".opsgov.yaml": MARKDOWN_CONFIG, OP: declaration_text(),
                            "ops/operations/OPS-2026-01-28-001.md": declaration_text("OPS-2026-01-28-001"),
                            CHANGELOG: text})
    assert (code, lines) == (1, [f"{CHANGELOG}:43:10: L002 outcome: 'NOPE' is not one of SUCCESS, ROLLBACK, "
                                 "PARTIAL (fix: SUCCESS, ROLLBACK or PARTIAL.)", SUMMARY_1])
    entries, _ = parse_changelog(CHANGELOG, text.encode())
    assert [(e.line, e.end_line) for e in entries] == [(14, 27)]
    block = text.split("\n")[14 - 1:27 - 1]
    assert block[0] == "---" and block[-1] == "---" and block[1] == "operation_id: OPS-2026-01-27-001"


def test_markdown_changelog_unclosed_block(validate) -> None:  # type: ignore[no-untyped-def]
    text = _changelog(entry_text()) + entry_text("OPS-2026-01-28-001")
    code, lines = validate({".opsgov.yaml": MARKDOWN_CONFIG, OP: declaration_text(), CHANGELOG: text})
    assert (code, lines) == (1, [f"{CHANGELOG}:32:1: F010 this '---' entry block is never closed "
                                 "(fix: close the entry with a '---' line)", SUMMARY_1])


def test_markdown_changelog_hostile_block(validate) -> None:  # type: ignore[no-untyped-def]
    text = _changelog(entry_text(approved_by="&who bob", requested_by="*who"))
    code, lines = validate({".opsgov.yaml": MARKDOWN_CONFIG, OP: declaration_text(), CHANGELOG: text})
    assert (code, lines) == (1, [
        f"{CHANGELOG}:17:15: F007 YAML alias '*who' is not allowed in records (fix: write the value out in full)",
        f"{CHANGELOG}:18:14: F007 YAML anchor '&who' is not allowed in records (fix: write the value out in full)",
        "Found 2 error(s), 0 warning(s)."])


def test_markdown_changelog_with_a_custom_path(validate) -> None:  # type: ignore[no-untyped-def]
    files = {".opsgov.yaml": "ledger:\n  backend: markdown\n  path: CHANGES.md\n", OP: declaration_text(),
             "CHANGES.md": "# Changes\n\n" + entry_text() + "---\n"}
    assert validate(files) == (0, [])
    code, lines = validate({"CHANGES.md": "# Changes\n\n" + entry_text(outcome="X") + "---\n"})
    assert code == 1 and lines[0].startswith("CHANGES.md:14:10: L002 outcome: 'X'")


# -- backend C: annotated tags ------------------------------------------------------------

TAGS_CONFIG = "ledger:\n  backend: tags\n"


def _tag(repo: Repo, name: str, message: str, *extra: str) -> None:
    repo.git("tag", "-a", *extra, name, "-m", message)


def test_tags_backend_valid(repo: Repo, validate) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", TAGS_CONFIG)
    repo.write(OP, declaration_text())
    repo.commit("declare")
    _tag(repo, "ops-2026-01-27-001", entry_text())
    assert validate({}) == (0, [])


def test_tags_backend_entry_after_a_title(repo: Repo, validate) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", TAGS_CONFIG)
    repo.write(OP, declaration_text())
    repo.commit("declare")
    _tag(repo, "ops-2026-01-27-001", "OPS-2026-01-27-001: Tune Prometheus\n\n" + entry_text(outcome="NOPE"))
    code, lines = validate({})
    assert (code, lines) == (1, [
        "refs/tags/ops-2026-01-27-001:14:10: L002 outcome: 'NOPE' is not one of SUCCESS, ROLLBACK, PARTIAL "
        "(fix: SUCCESS, ROLLBACK or PARTIAL.)", SUMMARY_1])


def test_tags_backend_entry_without_title_keeps_its_lines(repo: Repo, validate) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", TAGS_CONFIG)
    repo.commit("config")
    _tag(repo, "ops-2026-01-27-001", entry_text(outcome="NOPE"))
    code, lines = validate({})
    assert code == 1 and lines[0].startswith("refs/tags/ops-2026-01-27-001:12:10: L002 outcome: 'NOPE'")


def test_tags_backend_message_without_entry(repo: Repo, validate) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", TAGS_CONFIG)
    repo.commit("config")
    _tag(repo, "ops-2026-01-27-001", "closed the operation")
    _tag(repo, "ops-2026-01-27-002", "title\n\n" + entry_text("OPS-2026-01-27-002") + entry_text("OPS-2026-01-27-002"))
    code, lines = validate({})
    assert (code, lines) == (1, [
        "refs/tags/ops-2026-01-27-001:1:1: L009 the tag message carries no ledger entry "
        "(fix: recreate the tag with 'opsgov tag', which writes the entry into its message)",
        "refs/tags/ops-2026-01-27-002:3:1: L009 the tag message must carry exactly one ledger entry",
        "Found 2 error(s), 0 warning(s)."])


def test_tags_backend_signed_tag_signature_is_not_part_of_the_entry(repo: Repo, validate, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    repo.write(".opsgov.yaml", TAGS_CONFIG)
    repo.write(OP, declaration_text())
    repo.commit("declare")
    _tag(repo, "ops-2026-01-27-001", entry_text(), "-s")
    assert "-----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "-p", "ops-2026-01-27-001")
    assert validate({}) == (0, [])


def test_tags_backend_outside_git_is_a_usage_error(tmp_path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / ".opsgov.yaml").write_text(TAGS_CONFIG)
    monkeypatch.chdir(tmp_path / "plain")
    code, out, err = run_cli("validate")
    assert (code, out) == (2, "")
    assert err == f"opsgov: error: {tmp_path / 'plain'} is not inside a git repository; run opsgov from a clone of " \
                  "the repository (or 'git init' first)\n"


def test_tag_entry_parser_directly() -> None:
    entry, findings = parse_tag_entry("refs/tags/ops-2026-01-27-001", "Title\n\n" + entry_text())
    assert findings == [] and entry is not None
    assert (entry.line, entry.end_line, entry.operation_id) == (3, 15, "OPS-2026-01-27-001")
    entry, findings = parse_tag_entry("refs/tags/x", "x" * (1024 * 1024 + 1))
    assert entry is None and [f.code for f in findings] == ["F004"]


def test_markdown_changelog_with_crlf_and_bom() -> None:
    text = "\ufeff# Changelog\r\n\r\n" + entry_text().replace("\n", "\r\n") + "---\r\n\r\nprose\r\n"
    entries, findings = parse_changelog(CHANGELOG, text.encode())
    assert findings == [] and [(e.line, e.end_line) for e in entries] == [(3, 16)]


def test_mangled_records_never_raise() -> None:
    """A seeded mini-fuzz over every parser: whatever the bytes, findings, never an exception."""
    import random

    from opsgov_hooks.policy.config import parse_config, parse_pyproject

    rng = random.Random(20260127)
    seeds = [entry_text().encode(), declaration_text().encode(), b"a: [1, {b: 2}]\n",
             "k: \x01\x7f\u2028\x85 \"\\x01\"\n".encode(), b"[tool.opsgov]\nsolo_mode = true\n",
             b"forbidden:\n  - id: x\n    message: y\n    patterns: ['a']\n"]
    alphabet = list(b"-:[]{}&*!|>'\"#%@`,?\n\t \\=.") + list(range(256))
    for _ in range(1500):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(raw) + 1)
            if rng.random() < 0.5 or not raw:
                raw[pos:pos] = bytes([rng.choice(alphabet)])
            else:
                del raw[pos:pos + rng.randint(1, 5)]
        data = bytes(raw)
        parse_ledger_yaml(LEDGER, data)
        parse_changelog(CHANGELOG, data)
        parse_operation_record(OP, data, default_policy())
        parse_config(".opsgov.yaml", data)
        parse_pyproject("pyproject.toml", data)
        parse_tag_entry("refs/tags/ops-2026-01-27-001", data.decode("utf-8", "replace"))


def test_find_yaml_entry_cuts_out_exactly_what_the_full_parse_gives() -> None:
    from conftest import entry_text
    from opsgov_hooks.records.ledger import find_yaml_entry, parse_ledger_yaml

    raw = ("# January\n" + entry_text("OPS-2026-01-27-001") + entry_text("OPS-2026-01-27-002", notes="|\n  ---\n  x")
           + "--- # third\n" + entry_text("OPS-2026-01-28-001").removeprefix("---\n")).encode()
    full, findings = parse_ledger_yaml("ops/ledger/2026-01.yaml", raw)
    assert findings == [] and len(full) == 3
    for entry in full:
        found = find_yaml_entry("ops/ledger/2026-01.yaml", raw, entry.operation_id)
        assert found is not None
        assert (found.fields, found.line, found.end_line) == (entry.fields, entry.line, entry.end_line)
    assert find_yaml_entry("ops/ledger/2026-01.yaml", raw, "OPS-2026-01-29-001") is None
