"""Ledger timestamps: approval before execution, nothing in the future, id date, emergencies."""
from __future__ import annotations

import datetime

import pytest

from conftest import Repo, entry_text
from lifecycle_helpers import NOW, OP, declare

from opsgov_hooks.policy.config import default_policy, policy_from_mapping
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.output.text import format_line
from opsgov_hooks.rules.timestamps import check_timestamps
from opsgov_hooks.git.sources import WorktreeSource

pytest_plugins = ["conftest_lifecycle"]

LEDGER = "ops/ledger/2026-01.yaml"
AT = f"{LEDGER}:2:1"                  # the entry (its operation_id line)
AT_APPROVAL = f"{LEDGER}:6:21"        # the value of approval_timestamp
AT_EXECUTION = f"{LEDGER}:7:22"
AT_ROLLBACK = f"{LEDGER}:13:21"       # rollback_timestamp, added after outcome


def _check(repo: Repo, now: datetime.datetime = NOW, config: dict[str, object] | None = None, **entry: str) -> list[str]:
    declare(repo, OP, commit=False)
    repo.write(LEDGER, entry_text(OP, **entry))
    policy = policy_from_mapping(config, ".opsgov.yaml") if config else default_policy()
    records = load_records(WorktreeSource(str(repo.path)), policy)
    assert records.findings == []
    return [format_line(f) for f in check_timestamps(records, policy, now)]


def test_a_plausible_story_passes(repo: Repo) -> None:
    assert _check(repo, approval_timestamp="2026-01-27T10:00:00Z", execution_timestamp="2026-01-27T10:00:00Z") == []


def test_approval_after_execution(repo: Repo) -> None:
    assert _check(repo, approval_timestamp="2026-01-27T10:00:01Z") == [
        f"{AT_APPROVAL}: L104 {OP}: approved at 2026-01-27T10:00:01Z, after execution at 2026-01-27T10:00:00Z (fix: approve "
        "before executing; only an entry marked emergency: true may execute first)"]


def test_future_timestamps_beyond_the_clock_skew(repo: Repo) -> None:
    now = datetime.datetime(2026, 1, 27, 9, 54, tzinfo=datetime.timezone.utc)  # default skew 300s: until 09:59
    assert _check(repo, now=now) == [
        f"{AT_EXECUTION}: L105 {OP}: execution_timestamp 2026-01-27T10:00:00Z is in the future (fix: record what happened, in "
        "UTC, after it happened)"]
    assert _check(repo, now=now, config={"clock_skew_seconds": 360}) == []  # 09:54 + 6 min = 10:00
    assert _check(repo, now=now, config={"clock_skew_seconds": 359}) != []


def test_id_dated_after_execution(repo: Repo) -> None:
    assert _check(repo, approval_timestamp="2026-01-26T09:00:00Z", execution_timestamp="2026-01-26T23:59:59Z") == [
        f"{AT}: L106 {OP}: the id is dated 2026-01-27, after the execution date 2026-01-26 (fix: an operation is "
        "declared before it runs)"]


def test_rollback_before_execution(repo: Repo) -> None:
    assert _check(repo, outcome="ROLLBACK", rollback_timestamp="2026-01-27T09:59:00Z",
                  rollback_evidence="ok") == [
        f"{AT_ROLLBACK}: L109 {OP}: rollback_timestamp 2026-01-27T09:59:00Z is before execution_timestamp "
        "2026-01-27T10:00:00Z"]
    assert _check(repo, outcome="ROLLBACK", rollback_timestamp="2026-01-27T10:30:00Z", rollback_evidence="ok") == []


EMERGENCY = {"emergency": "true", "execution_timestamp": "2026-01-27T10:00:00Z"}


def test_emergency_approved_by_another_person_within_the_window(repo: Repo) -> None:
    assert _check(repo, approval_timestamp="2026-01-28T09:59:59Z", **EMERGENCY) == []


def test_emergency_approved_too_late(repo: Repo) -> None:
    assert _check(repo, approval_timestamp="2026-01-28T10:00:01Z", **EMERGENCY) == [
        f"{AT_APPROVAL}: L107 {OP}: emergency approval at 2026-01-28T10:00:01Z came after the 24h window (due by "
        "2026-01-28T10:00:00Z)"]
    assert _check(repo, config={"emergency_approval_hours": 48}, approval_timestamp="2026-01-28T10:00:01Z",
                  **EMERGENCY) == []


def test_emergency_pending_then_overdue(repo: Repo) -> None:
    during = datetime.datetime(2026, 1, 27, 20, 0, tzinfo=datetime.timezone.utc)
    pending = _check(repo, now=during, approved_by="SELF", approval_timestamp="2026-01-27T10:00:00Z", **EMERGENCY)
    assert pending == [
        f"{AT_APPROVAL}: L108 warning: {OP}: emergency operation awaiting approval by someone other than the requester (due "
        "by 2026-01-28T10:00:00Z) (fix: opsgov ledger approve OPS-ID --by NAME --at TIMESTAMP)"]
    overdue = _check(repo, approved_by="alice@example.com", approval_timestamp="2026-01-27T10:00:00Z", **EMERGENCY)
    assert overdue == [
        f"{AT_APPROVAL}: L107 {OP}: emergency approval overdue: no one other than the requester approved it by "
        "2026-01-28T10:00:00Z (fix: record the second approval ('opsgov ledger approve') and review why it was "
        "late)"]


def test_emergency_self_approval_after_execution_is_not_an_approval(repo: Repo) -> None:
    later = _check(repo, approved_by="SELF", approval_timestamp="2026-01-27T11:00:00Z", **EMERGENCY)
    assert [line.split(" ")[1] for line in later] == ["L107"]


@pytest.mark.parametrize("now, expected", [
    (datetime.datetime(2026, 1, 27, 12, tzinfo=datetime.timezone.utc), 0),
    (datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc), 1),
])
def test_validate_uses_the_real_clock(repo: Repo, run_cli, monkeypatch, now: datetime.datetime,  # type: ignore[no-untyped-def]
                                      expected: int) -> None:
    """The registered rule asks the clock; an overdue emergency fails `opsgov validate` once its window closed."""
    import opsgov_hooks.rules.timestamps as module

    monkeypatch.setattr(module, "utc_now", lambda: now)
    declare(repo, OP, commit=False)
    repo.write(LEDGER, entry_text(OP, approved_by="SELF", approval_timestamp="2026-01-27T10:00:00Z", **EMERGENCY))
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert (code, out.split(" ")[1]) == (expected, "L108" if expected == 0 else "L107")
