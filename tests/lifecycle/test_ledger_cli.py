"""``opsgov ledger record|rollback|approve|list|show`` end to end, in real repositories."""
from __future__ import annotations

import json

from conftest import Repo
from lifecycle_helpers import OP, RECORDED_YAML, declare, record_args

pytest_plugins = ["conftest_lifecycle"]

ENTRY = "---\n" + RECORDED_YAML


def test_record_takes_defaults_from_the_declaration_and_git_identity(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args()) == (0, f"recorded {OP} in ops/ledger/2026-01.yaml:2\n", "")
    assert declared.read("ops/ledger/2026-01.yaml") == ENTRY
    assert run_cli("validate") == (0, "", "")


def test_record_accepts_now_and_every_field(declared: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(*record_args(requested_by="Alice <alice@example.com>", approval_timestamp="now",
                                          execution_timestamp="now", outcome="PARTIAL", notes="half done",
                                          emergency=""))
    assert (code, err) == (0, "")
    fields = json.loads(run_cli("ledger", "show", OP, "--format", "json")[1])["fields"]
    assert fields["approval_timestamp"] == fields["execution_timestamp"]
    assert fields["approval_timestamp"].endswith("Z") and len(fields["approval_timestamp"]) == 20
    assert (fields["requested_by"], fields["outcome"], fields["notes"], fields["emergency"]) == (
        "Alice <alice@example.com>", "PARTIAL", "half done", True)


def test_record_usage_problems_exit_2(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args(approval_timestamp=None)) == (
        2, "", "opsgov: error: --approval-timestamp is required (an ISO 8601 UTC instant such as "
               "2026-01-27T10:00:00Z, or 'now')\n")
    assert run_cli(*record_args(execution_timestamp="2026-01-27 10:00")) == (
        2, "", "opsgov: error: --execution-timestamp '2026-01-27 10:00' is not an ISO 8601 instant in UTC: write "
               "e.g. 2026-01-27T10:00:00Z or 'now'\n")
    assert run_cli(*record_args("OPS-2026-02-30-001")) == (
        2, "", "opsgov: error: 'OPS-2026-02-30-001' is not an operation id: write OPS-YYYY-MM-DD-NNN with a real "
               "date (e.g. OPS-2026-01-27-001)\n")
    assert run_cli(*record_args("OPS-2026-01-28-001")) == (
        2, "", "opsgov: error: the operation record ops/operations/OPS-2026-01-28-001.md does not exist: declare "
               "the operation first ('opsgov new')\n")
    assert run_cli(*record_args(approved_by=None))[0] == 2
    declared.git("config", "--unset", "user.email")
    code, _out, err = run_cli(*record_args())
    assert (code, err) == (2, "opsgov: error: requested_by defaults to git's user.email, which is not set: pass "
                              "--requested-by or run 'git config user.email you@example.com'\n")
    assert not (declared.path / "ops/ledger").exists()


def test_record_refuses_a_duplicate_and_rule_errors_and_writes_nothing(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli(*record_args())
    before = declared.read("ops/ledger/2026-01.yaml")
    code, out, _ = run_cli(*record_args())
    assert code == 1
    assert out.splitlines()[0] == ("ops/ledger/2026-01.yaml:2:1: L005 OPS-2026-01-27-001 already has a ledger "
                                   "entry (fix: one entry per operation: 'opsgov ledger rollback' updates it)")
    assert out.splitlines()[-1] == "opsgov: OPS-2026-01-27-001 was not recorded: fix the above and run again"
    declare(declared, "OPS-2026-01-27-002", RISK_CLASS="SERVICE_RESTART")
    code, out, _ = run_cli(*record_args("OPS-2026-01-27-002", approval_timestamp="2026-01-27T11:00:00Z"))
    assert (code, out.splitlines()[0]) == (1, (
        "ops/ledger/2026-01.yaml:18:21: L104 OPS-2026-01-27-002: approved at 2026-01-27T11:00:00Z, after execution "
        "at 2026-01-27T10:00:00Z (fix: approve before executing; only an entry marked emergency: true may execute "
        "first)"))
    assert declared.read("ops/ledger/2026-01.yaml") == before


def test_record_prints_warnings_and_writes(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declare(declared, "OPS-2026-01-27-002", RISK_CLASS="SERVICE_RESTART")
    code, out, _ = run_cli(*record_args("OPS-2026-01-27-002", approved_by="SELF"))
    assert code == 0
    assert out == (
        "ops/ledger/2026-01.yaml:5:14: L101 warning: OPS-2026-01-27-002: SERVICE_RESTART is self-approved ('SELF'); "
        "P5 recommends a second person (fix: have someone else approve, or set solo_mode: true for a one-person "
        "team)\nFound 0 error(s), 1 warning(s).\nrecorded OPS-2026-01-27-002 in ops/ledger/2026-01.yaml:2\n")


def test_record_json_output(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(*record_args(), "--format", "json")
    assert (code, json.loads(out)) == (0, {"ok": True, "findings": []})


def test_rollback_keeps_the_approval_and_adds_the_rollback(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli(*record_args())
    code, out, err = run_cli("ledger", "rollback", OP, "--at", "2026-01-27T11:00:00Z", "--evidence",
                             "curl -fsS localhost:9090/-/ready: Prometheus is Ready.")
    assert (code, out, err) == (0, f"rolled back {OP} in ops/ledger/2026-01.yaml:2\n", "")
    assert declared.read("ops/ledger/2026-01.yaml") == ENTRY.replace(
        "outcome: SUCCESS\n", "outcome: ROLLBACK\nrollback_timestamp: 2026-01-27T11:00:00Z\n"
        "rollback_evidence: 'curl -fsS localhost:9090/-/ready: Prometheus is Ready.'\n")
    code, out, _ = run_cli("ledger", "rollback", OP, "--at", "2026-01-27T12:00:00Z", "--evidence", "again")
    assert (code, out) == (1, (
        f"ops/ledger/2026-01.yaml:13:21: H002 {OP}: field 'rollback_timestamp' changed from '2026-01-27T11:00:00Z' "
        "to '2026-01-27T12:00:00Z'\n"
        f"ops/ledger/2026-01.yaml:14:20: H002 {OP}: field 'rollback_evidence' changed from 'curl -fsS "
        "localhost:9090/-/ready: Prometheus is Ready.' to 'again'\n"
        "Found 2 error(s), 0 warning(s).\n"
        f"opsgov: {OP} was not changed\n"))


def test_rollback_before_execution_and_partial(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli(*record_args())
    code, out, _ = run_cli("ledger", "rollback", OP, "--at", "2026-01-27T08:00:00Z", "--evidence", "x")
    assert (code, out.splitlines()[0]) == (1, (
        f"ops/ledger/2026-01.yaml:13:21: L109 {OP}: rollback_timestamp 2026-01-27T08:00:00Z is before "
        "execution_timestamp 2026-01-27T10:00:00Z"))
    assert run_cli("ledger", "rollback", OP, "--at", "now", "--evidence", "half", "--outcome", "PARTIAL")[0] == 0
    assert "outcome: PARTIAL\nrollback_timestamp: 20" in declared.read("ops/ledger/2026-01.yaml")
    assert run_cli("ledger", "rollback", OP, "--at", "2026-02-01T00:00:00Z", "--evidence", "x")[0] == 1


def test_rollback_of_an_unrecorded_operation(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("ledger", "rollback", OP, "--at", "now", "--evidence", "x") == (
        2, "", f"opsgov: error: {OP} has no ledger entry; record it with 'opsgov ledger record' (or fix the ledger, "
               "see 'opsgov validate')\n")


def test_emergency_approval(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(*record_args(approved_by="SELF", approval_timestamp="now", execution_timestamp="now",
                                        emergency=""))
    assert (code, out.split(" ", 2)[1]) == (0, "L108")
    assert run_cli("ledger", "approve", OP, "--by", "Operator <OPERATOR@example.com>", "--at", "now") == (
        2, "", "opsgov: error: an emergency operation must be approved by someone other than the requester\n")
    code, out, err = run_cli("ledger", "approve", OP, "--by", "carol@example.com", "--at", "now")
    assert (code, out, err) == (0, f"approved {OP} in ops/ledger/2026-01.yaml:2\n", "")
    assert "approved_by: carol@example.com\napproval_timestamp: 20" in declared.read("ops/ledger/2026-01.yaml")
    assert run_cli("validate") == (0, "", "")
    assert run_cli("ledger", "approve", OP, "--by", "dave@example.com", "--at", "now") == (
        2, "", f"opsgov: error: {OP} is already approved by carol@example.com\n")


def test_approve_refuses_a_non_emergency_entry(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli(*record_args())
    assert run_cli("ledger", "approve", OP, "--by", "carol@example.com", "--at", "now") == (
        2, "", f"opsgov: error: {OP} is not an emergency operation: its approval was recorded before execution "
               "and cannot change (the ledger is append-only)\n")


def test_list_and_show(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declare(declared, "OPS-2026-01-27-002")
    run_cli(*record_args("OPS-2026-01-27-002", approved_by="SELF"))
    run_cli(*record_args())
    code, out, err = run_cli("ledger", "list")
    assert (code, err) == (0, "")
    assert out == (
        "OPERATION_ID        OUTCOME  RISK_CLASS       EXECUTED              APPROVED_BY      TAG  LOCATION\n"
        "OPS-2026-01-27-001  SUCCESS  LOW_RISK_CONFIG  2026-01-27T10:00:00Z  bob@example.com  -    "
        "ops/ledger/2026-01.yaml:14\n"
        "OPS-2026-01-27-002  SUCCESS  LOW_RISK_CONFIG  2026-01-27T10:00:00Z  SELF             -    "
        "ops/ledger/2026-01.yaml:2\n")
    listed = json.loads(run_cli("ledger", "list", "--format", "json")[1])
    assert listed["ok"] is True and [e["operation_id"] for e in listed["entries"]] == [OP, "OPS-2026-01-27-002"]
    assert run_cli("ledger", "show", OP) == (0, "# ops/ledger/2026-01.yaml:14\n" + ENTRY, "")
    assert run_cli("ledger", "show", "OPS-2026-01-27-003") == (
        1, "", "opsgov: OPS-2026-01-27-003 has no ledger entry in ops/ledger\n")


def test_list_reports_broken_ledger_files(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declared.write("ops/ledger/2026-01.yaml", "---\noperation_id: [\n")
    code, out, err = run_cli("ledger", "list")
    assert code == 1
    assert out == "OPERATION_ID  OUTCOME  RISK_CLASS  EXECUTED  APPROVED_BY  TAG  LOCATION\n"
    assert err.startswith("ops/ledger/2026-01.yaml:3:1: F005 YAML syntax error")


def test_markdown_backend_through_the_cli(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declared.write(".opsgov.yaml", "ledger:\n  backend: markdown\n")
    assert run_cli(*record_args()) == (0, f"recorded {OP} in docs/OPS_CHANGELOG.md:6\n", "")
    assert run_cli("ledger", "rollback", OP, "--at", "2026-01-27T11:00:00Z", "--evidence", "ok")[0] == 0
    assert run_cli("validate") == (0, "", "")
    assert json.loads(run_cli("ledger", "show", OP, "--format", "json")[1])["fields"]["outcome"] == "ROLLBACK"


def _section6(repo: Repo) -> str:
    text = repo.read(f"ops/operations/{OP}.md")
    block = text.split("## 6) Signoff & Ledger Entry", 1)[1]
    return block.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_record_and_rollback_keep_section_6_equal_to_the_entry(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = declared.read(f"ops/operations/{OP}.md")
    assert run_cli(*record_args())[0] == 0
    assert _section6(declared) == ENTRY.removeprefix("---\n")
    # Only the lines of section 6's block changed.
    after = declared.read(f"ops/operations/{OP}.md")
    assert after.split("## 6) Signoff & Ledger Entry")[0] == before.split("## 6) Signoff & Ledger Entry")[0]
    assert run_cli("ledger", "rollback", OP, "--at", "2026-01-27T11:00:00Z", "--evidence", "reverted; healthy")[0] == 0
    assert _section6(declared) == declared.read("ops/ledger/2026-01.yaml").removeprefix("---\n")
    assert "outcome: ROLLBACK\n" in _section6(declared)
    assert run_cli("validate") == (0, "", "")
