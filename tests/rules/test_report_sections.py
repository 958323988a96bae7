"""Reporting-contract rules R001-R005, each with a passing and a failing case, through ``opsgov validate``."""
from __future__ import annotations

import pytest

from conftest import Repo
from execution_helpers import OP, RECORD, REPORT, closed, runbook, signoff_yaml


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo.chdir(monkeypatch)
    return repo


def lines(run_cli) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate")
    assert err == ""
    return code, [line for line in out.splitlines() if not line.startswith("Found ")]


def line_of(repo: Repo, text: str) -> int:
    return repo.read(RECORD).splitlines().index(text) + 1


def test_open_operation_needs_no_report(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook(report={}).split("## 5) Report")[0]
    here.write(RECORD, record)
    assert lines(run_cli) == (0, [])


def test_r001_closed_without_report(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook().replace("## 5) Report", "## 5) Notes")
    closed(here, record)
    body_line = here.read(RECORD).splitlines().index("---", 1) + 2
    assert lines(run_cli) == (1, [
        f"{RECORD}:{body_line}:1: R001 {OP} is closed (ledger entry ops/ledger/2026-01.yaml:1) but its record has "
        "no '## 5) Report' section (fix: add it with the five sections: EXEC SUMMARY, CHANGES MADE, VERIFICATION "
        "EVIDENCE, RISK ASSESSMENT, NEXT SAFE ACTIONS)"])


def test_r002_missing_sections(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    report = {k: v for k, v in REPORT.items() if k not in ("RISK ASSESSMENT", "NEXT SAFE ACTIONS")}
    closed(here, runbook(report=report))
    heading = line_of(here, "## 5) Report")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{heading}:1: R002 the report has no NEXT SAFE ACTIONS section (fix: add '### NEXT SAFE ACTIONS' "
        "under the Report heading)",
        f"{RECORD}:{heading}:1: R002 the report has no RISK ASSESSMENT section (fix: add '### RISK ASSESSMENT' "
        "under the Report heading)"])


def test_r002_section_outside_the_report_does_not_count(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    report = {k: v for k, v in REPORT.items() if k != "EXEC SUMMARY"}
    record = runbook(report=report).replace("## 3) Execution log", "### EXEC SUMMARY\n\nToo early.\n\n"
                                            "## 3) Execution log")
    closed(here, record)
    code, found = lines(run_cli)
    assert (code, [f.split(" R002 ")[1] for f in found]) == (1, [
        "the report has no EXEC SUMMARY section (fix: add '### EXEC SUMMARY' under the Report heading)"])


def test_r003_empty_and_comment_only_sections(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    report = dict(REPORT, **{"CHANGES MADE": "<!-- Files and services changed. -->", "RISK ASSESSMENT": "  "})
    closed(here, runbook(report=report))
    assert lines(run_cli) == (1, [
        f"{RECORD}:{line_of(here, '### CHANGES MADE')}:1: R003 the report's CHANGES MADE section is empty "
        "(fix: list the files and services changed)",
        f"{RECORD}:{line_of(here, '### RISK ASSESSMENT')}:1: R003 the report's RISK ASSESSMENT section is empty "
        "(fix: state the residual risk)"])


def test_report_headings_may_be_numbered_and_nested(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook()
    for i, name in enumerate(REPORT, 1):
        record = record.replace(f"### {name}\n", f"### 5.{i} {name.title()}\n")
    record = record.replace("- ops/monitoring/prometheus.yml", "#### Files\n\n- ops/monitoring/prometheus.yml")
    closed(here, record)
    assert lines(run_cli) == (0, [])


def test_r004_no_signoff_section(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook().split("## 6) Signoff & Ledger Entry")[0]
    closed(here, record)
    body_line = here.read(RECORD).splitlines().index("---", 1) + 2
    assert lines(run_cli) == (1, [
        f"{RECORD}:{body_line}:1: R004 {OP} is closed but its record has no '6) Signoff & Ledger Entry' section with "
        "a ```yaml block of the ledger entry (fix: copy the ledger entry (ops/ledger/2026-01.yaml:1) into a "
        "```yaml block there)"])


def test_r004_signoff_section_without_block(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook().split("```yaml")[0] + "Approved by bob.\n"
    closed(here, record)
    code, found = lines(run_cli)
    assert (code, [f.split(": ", 2)[:2] for f in found]) == (
        1, [[f"{RECORD}:{line_of(here, '## 6) Signoff & Ledger Entry')}:1", "R004 " + OP + " is closed but its "
             "record has no '6) Signoff & Ledger Entry' section with a ```yaml block of the ledger entry (fix"]])


def test_r005_signoff_disagrees_with_ledger(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    block = signoff_yaml(approved_by="carol@example.com", outcome="<SUCCESS | ROLLBACK | PARTIAL>")
    closed(here, runbook(signoff=block))
    approved, outcome = line_of(here, "approved_by: carol@example.com"), \
        line_of(here, "outcome: <SUCCESS | ROLLBACK | PARTIAL>")
    hint = " (fix: section 6 and the ledger entry are one record: make them agree)"
    assert lines(run_cli) == (1, [
        f"{RECORD}:{approved}:14: R005 section 6 says approved_by: 'carol@example.com' but the ledger entry "
        f"(ops/ledger/2026-01.yaml:1) says 'bob@example.com'{hint}",
        f"{RECORD}:{outcome}:10: R005 section 6 says outcome: '<SUCCESS | ROLLBACK | PARTIAL>' but the ledger entry "
        f"(ops/ledger/2026-01.yaml:1) says 'SUCCESS'{hint}"])


def test_r005_missing_operation_id_and_extra_notes(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    block = "\n".join(line for line in signoff_yaml().splitlines() if not line.startswith("operation_id"))
    closed(here, runbook(signoff=block + "\nnotes: <optional>\n"))
    first = line_of(here, "```yaml") + 1
    notes = line_of(here, "notes: <optional>")
    code, found = lines(run_cli)
    assert (code, [f.split(" (fix:")[0] for f in found]) == (1, [
        f"{RECORD}:{first}:1: R005 section 6 has no operation_id (it must agree with the ledger entry "
        "(ops/ledger/2026-01.yaml:1))",
        f"{RECORD}:{notes}:8: R005 section 6 says notes: '<optional>' but the ledger entry "
        "(ops/ledger/2026-01.yaml:1) says None"])


def test_r005_a_partial_block_that_agrees_passes(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    closed(here, runbook(signoff=f"operation_id: {OP}\napproved_by: bob@example.com\noutcome: SUCCESS\n"))
    assert lines(run_cli) == (0, [])


def test_r005_timestamps_compare_as_instants(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    block = signoff_yaml(approval_timestamp="2026-01-27T09:00:00+00:00")
    closed(here, runbook(signoff=block))
    assert lines(run_cli) == (0, [])


def test_signoff_yaml_is_read_strictly(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    block = signoff_yaml() + "approved_by: mallory\n"
    closed(here, runbook(signoff=block))
    code, found = lines(run_cli)
    assert code == 1
    assert [f.split(": ", 2)[1].split()[0] for f in found] == ["F006"]
    assert found[0].startswith(f"{RECORD}:{here.read(RECORD).splitlines().index('approved_by: mallory') + 1}:1:")


def test_the_first_of_a_name_and_its_alias_is_the_section_judged(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    # 'Executive Summary' stands for EXEC SUMMARY: of the two, the one written first is judged.
    report = {"Executive Summary": "", **REPORT, "NEXT SAFE ACTIONS": ""}
    closed(here, runbook(report=report))
    assert lines(run_cli) == (1, [
        f"{RECORD}:{line_of(here, '### Executive Summary')}:1: R003 the report's EXEC SUMMARY section is empty "
        "(fix: write one paragraph: what was done, and the outcome)",
        f"{RECORD}:{line_of(here, '### NEXT SAFE ACTIONS')}:1: R003 the report's NEXT SAFE ACTIONS section is empty "
        "(fix: say what to do next, bounded)"])
    report = {**REPORT, "Executive Summary": ""}    # now the full EXEC SUMMARY comes first
    closed(here, runbook(report=report))
    assert lines(run_cli) == (0, [])


def test_section_6_values_agree_by_equality_or_as_one_instant() -> None:
    from opsgov_hooks.rules.report_sections import _same

    assert _same("approval_timestamp", "2026-01-27T09:00:00Z", "2026-01-27T09:00:00+00:00")
    assert _same("approval_timestamp", "not a time", "not a time")
    assert not _same("approval_timestamp", "not a time", "2026-01-27T09:00:00Z")
    assert not _same("notes", "2026-01-27T09:00:00Z", "2026-01-27T09:00:00+00:00")   # only timestamps are instants
    assert _same("emergency", False, False) and not _same("emergency", False, "false")
