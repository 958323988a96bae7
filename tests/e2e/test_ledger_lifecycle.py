"""One lifecycle, in one order: 'ledger record' runs the gate's per-operation rules first and shows every
problem at once; 'opsgov run' takes steps until the tag; 'ledger amend' corrects an uncommitted entry;
'--outcome ROLLBACK' takes its rollback fields."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Repo, init_repo
from lifecycle_helpers import OP, declare, record_args

pytest_plugins = ["conftest_lifecycle"]

NEW = ["new", "--name", "Tune scrape interval", "--objective", "Reduce scrape load", "--risk", "LOW_RISK_CONFIG",
       "--blast-radius", "metrics freshness", "--rollback", "git revert", "--path", "ops/monitoring/**",
       "--service", "prometheus"]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> Repo:  # type: ignore[no-untyped-def]
    """A repository with one commit and an operation declared by 'opsgov new' (nothing done yet)."""
    repo = init_repo(tmp_path / "repo")
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    repo.chdir(monkeypatch)
    code, out, _ = run_cli(*NEW)
    assert code == 0
    repo.op = out.split()[0]  # type: ignore[attr-defined]
    return repo


def codes(out: str) -> list[str]:
    return [m[1] for m in re.finditer(r":\d+:\d+: ([A-Z]\d{3}) ", out)]


def test_record_shows_every_problem_at_once_and_writes_nothing(fresh: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    op = fresh.op  # type: ignore[attr-defined]
    before = fresh.read(f"ops/operations/{op}.md")
    code, out, _ = run_cli("ledger", "record", op, "--approved-by", "bob@example.com", "--approval-timestamp",
                           "now", "--execution-timestamp", "now", "--changes-summary", "x", "--rollback-ref",
                           "1a2b3c4")
    assert code == 1
    assert sorted(codes(out)) == ["H006", "R003", "R003", "R003", "R003", "R003", "X001"], out
    assert out.endswith(f"opsgov: {op} was not recorded: fix the above and run again\n")
    assert not (fresh.path / "ops" / "ledger").exists()
    assert fresh.read(f"ops/operations/{op}.md") == before


def test_steps_are_taken_until_the_tag(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args())[0] == 0
    # The gate asked for more evidence after the entry was recorded: the step is still recorded.
    code, _out, err = run_cli("run", OP, "--verify", "true", "--", "true")
    assert code == 0, err


def test_amend_corrects_an_uncommitted_entry_and_section_6(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args())[0] == 0
    base = declared.git("rev-parse", "--short=12", "HEAD").strip()
    code, out, _ = run_cli("ledger", "amend", OP, "--rollback-ref", base, "--changes-summary", "scrape 15s -> 30s")
    assert (code, out) == (0, f"amended {OP} in ops/ledger/2026-01.yaml:2\n")
    ledger = declared.read("ops/ledger/2026-01.yaml")
    assert f"rollback_ref: {base}\n" in ledger and "changes_summary: scrape 15s -> 30s\n" in ledger
    section6 = declared.read(f"ops/operations/{OP}.md").split("## 6) Signoff & Ledger Entry", 1)[1]
    assert f"rollback_ref: {base}\n" in section6 and "changes_summary: scrape 15s -> 30s\n" in section6
    assert run_cli("validate") == (0, "", "")


def test_amend_refuses_a_committed_entry_and_names_the_rollback_command(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args())[0] == 0
    declared.commit("record")
    code, out, err = run_cli("ledger", "amend", OP, "--notes", "more")
    assert (code, out) == (2, "")
    assert err == (f"opsgov: error: {OP}'s entry is committed (ops/ledger/2026-01.yaml:2 at HEAD), and the ledger "
                   "is append-only in history: record a rollback with: opsgov ledger rollback "
                   f"{OP} --at now --evidence TEXT\n")


def test_amend_runs_the_rules_first(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args())[0] == 0
    before = declared.read("ops/ledger/2026-01.yaml")
    code, out, _ = run_cli("ledger", "amend", OP, "--rollback-ref", "1a2b3c4")
    assert code == 1 and codes(out) == ["H006"], out
    assert declared.read("ops/ledger/2026-01.yaml") == before


def test_outcome_rollback_takes_its_fields(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(*record_args(outcome="ROLLBACK"))
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: --outcome ROLLBACK needs --rollback-timestamp (ISO 8601 UTC, or 'now') and "
                   "--rollback-evidence (what shows the rollback worked); or record the entry as executed and then "
                   f"the rollback: opsgov ledger rollback {OP} --at now --evidence TEXT\n")
    code, out, _ = run_cli(*record_args(outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z",
                                        rollback_evidence="config restored; promtool check config passed"))
    assert code == 0, out
    ledger = declared.read("ops/ledger/2026-01.yaml")
    assert ("outcome: ROLLBACK\nrollback_timestamp: 2026-01-27T11:00:00Z\n"
            "rollback_evidence: config restored; promtool check config passed\n") in ledger
    assert run_cli("validate") == (0, "", "")


def test_rollback_fields_need_a_rollback_outcome(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli(*record_args(rollback_evidence="x"))
    assert code == 2 and "go with --outcome ROLLBACK or PARTIAL" in err
