"""``check --all`` remembered: a repeated run answers as a fresh one would, and never from stale inputs.

Every test runs the real command in a real repository, twice or more; "judged again"
is observed by counting calls of the part that does the work.
"""
from __future__ import annotations

import datetime
import os
from typing import Any

import pytest

from conftest import Repo, entry_text
from conftest_gate import LEDGER, OPS1, add_entry, declare
from opsgov_hooks.speed import store as cachestore
from opsgov_hooks.check import pipeline
from opsgov_hooks.rules import timestamps

pytest_plugins = ["conftest_gate"]

UTC = datetime.timezone.utc


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Heads that were really judged (not answered from the results cache); each run a fresh process."""
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.delenv("OPSGOV_RECORDING", raising=False)
    seen: list[str] = []
    real = pipeline._check_all

    def counting(git: Any, head: str, policy: Any) -> Any:
        seen.append(head)
        return real(git, head, policy)

    monkeypatch.setattr(pipeline, "_check_all", counting)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    return seen


@pytest.fixture
def all_check(check: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def _run(repo: Repo) -> tuple[int, str, str]:
        monkeypatch.setattr(cachestore, "_OPEN", {})  # as a new process would
        return check(repo, "--all")  # type: ignore[no-any-return]

    return _run


def _broken(repo: Repo) -> None:
    """One declared operation whose ledger entry names a commit that does not exist (H006)."""
    declare(repo)
    add_entry(repo, rollback_ref="0123456789abcdef0123456789abcdef01234567")
    repo.commit("records")


def test_a_repeated_run_answers_the_same_without_judging_again(gate_repo: Repo, judged: list[str],
                                                               all_check: Any) -> None:
    _broken(gate_repo)
    first = all_check(gate_repo)
    assert first[0] == 1 and " H006 " in first[1]
    assert all_check(gate_repo) == first
    assert judged == [gate_repo.head()]


@pytest.mark.parametrize("change", ["commit", "tag", "branch", "object", "recording"])
def test_any_input_that_moves_makes_it_judge_again(gate_repo: Repo, judged: list[str], all_check: Any,
                                                   monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    _broken(gate_repo)
    all_check(gate_repo)
    if change == "commit":
        gate_repo.write("README.md", "# changed\n")
        gate_repo.commit("unrelated")
    elif change == "tag":
        gate_repo.git("tag", "v1")
    elif change == "branch":
        gate_repo.git("branch", "other")
    elif change == "object":  # e.g. a fetch: an abbreviated rollback_ref could now be ambiguous
        gate_repo.git("hash-object", "-w", "--stdin", input=b"new object\n")
    else:
        monkeypatch.setenv("OPSGOV_RECORDING", "ops/operations/x.md")
    all_check(gate_repo)
    assert len(judged) == 2


def test_a_rollback_ref_fixed_by_a_new_commit_is_seen(gate_repo: Repo, judged: list[str], all_check: Any) -> None:
    _broken(gate_repo)
    assert all_check(gate_repo)[0] == 1
    good = gate_repo.head()
    gate_repo.write(LEDGER, entry_text(OPS1, approval_timestamp="2026-01-27T09:00:00Z",
                                       execution_timestamp="2026-01-27T10:00:00Z", rollback_ref=good))
    gate_repo.commit("correct the reference")  # (an append-only violation for a range; --all judges HEAD)
    assert all_check(gate_repo) == (0, "", "")


def test_kept_findings_expire_when_the_clock_could_change_them(gate_repo: Repo, judged: list[str],
                                                               all_check: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pending emergency approval (L108 warning) becomes overdue (L107 error) at its deadline."""
    declare(gate_repo)
    add_entry(gate_repo, emergency="true", approved_by="SELF", approval_timestamp="2026-01-27T10:00:00Z")
    gate_repo.commit("emergency, approval pending")
    clock = [datetime.datetime(2026, 1, 27, 20, tzinfo=UTC)]
    monkeypatch.setattr(timestamps, "utc_now", lambda: clock[0])
    pending = all_check(gate_repo)
    assert pending[0] == 0 and " L108 " in pending[1]
    clock[0] = datetime.datetime(2026, 1, 28, 9, tzinfo=UTC)   # still inside the window: kept
    assert all_check(gate_repo) == pending
    assert len(judged) == 1
    clock[0] = datetime.datetime(2026, 1, 28, 10, tzinfo=UTC)  # the deadline itself: judged again, still due
    assert all_check(gate_repo) == pending
    assert len(judged) == 2
    clock[0] = datetime.datetime(2026, 1, 28, 10, 0, 1, tzinfo=UTC)  # a second later: overdue
    overdue = all_check(gate_repo)
    assert overdue[0] == 1 and " L107 " in overdue[1]
    assert len(judged) == 3


def test_a_future_timestamp_is_judged_again_once_it_has_passed(gate_repo: Repo, judged: list[str],
                                                               all_check: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    declare(gate_repo)
    add_entry(gate_repo)
    gate_repo.commit("records")
    clock = [datetime.datetime(2026, 1, 27, 9, 30, tzinfo=UTC)]   # before execution_timestamp 10:00 (+ skew)
    monkeypatch.setattr(timestamps, "utc_now", lambda: clock[0])
    early = all_check(gate_repo)
    assert early[0] == 1 and " L105 " in early[1]
    clock[0] = datetime.datetime(2026, 1, 28, tzinfo=UTC)
    assert all_check(gate_repo) == (0, "", "")
    assert len(judged) == 2


def test_signed_tag_policies_are_never_kept(gate_repo: Repo, judged: list[str], all_check: Any) -> None:
    gate_repo.write(".opsgov.yaml", "require_signed_tags: true\n")
    gate_repo.commit("config")
    all_check(gate_repo)
    all_check(gate_repo)
    assert len(judged) == 2


def test_a_damaged_results_file_is_a_miss(gate_repo: Repo, judged: list[str], all_check: Any) -> None:
    _broken(gate_repo)
    first = all_check(gate_repo)
    [kept] = (gate_repo.path / ".git" / "opsgov-cache").glob("results-*")
    for garbage in (b"", b"\x00" * 50, kept.read_bytes()[:-10]):
        kept.write_bytes(garbage)
        assert all_check(gate_repo) == first
    assert len(judged) == 4


def test_no_cache_means_judging_every_time(gate_repo: Repo, judged: list[str], all_check: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGOV_NO_CACHE", "1")
    _broken(gate_repo)
    all_check(gate_repo)
    all_check(gate_repo)
    assert len(judged) == 2
    assert not (gate_repo.path / ".git" / "opsgov-cache").exists()


@pytest.mark.parametrize("how", ["one core", "child fails"])
def test_history_rules_in_a_child_give_what_they_give_here(gate_repo: Repo, all_check: Any,
                                                           monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """--all runs the history rules in a forked child; without one (or if it fails) they run here, the same."""
    from opsgov_hooks.speed import parallel

    monkeypatch.setenv("OPSGOV_NO_CACHE", "1")
    _broken(gate_repo)
    gate_repo.git("tag", "ops-2026-01-27-001")  # lightweight: T001, another history rule
    forked = all_check(gate_repo)
    assert forked[0] == 1 and " H006 " in forked[1] and " T001 " in forked[1]
    if how == "one core":
        monkeypatch.setattr(parallel, "cores", lambda: 1)
    else:
        monkeypatch.setattr(parallel, "join_worker", lambda pid, fd: (os.close(fd), os.waitpid(pid, 0), None)[2])
    assert all_check(gate_repo) == forked
