"""Per-operation rule findings remembered by the operation's records (rules/memo.py).

The contract: with the memo, cold or warm, serial or on two cores, the findings are
exactly those of running every rule over the whole record set; an operation whose
records are unchanged is not judged again; one whose records changed is.
"""
from __future__ import annotations

import datetime
from typing import Any

import pytest

from conftest import Repo, declaration_text, entry_text, runbook_body
from opsgov_hooks.speed import store as cachestore
from opsgov_hooks.policy.config import default_policy
from opsgov_hooks.findings import sort_findings
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.rules import timestamps
from opsgov_hooks.speed import memo
from opsgov_hooks.check.runner import run_record_rules
from opsgov_hooks.git.sources import WorktreeSource

UTC = datetime.timezone.utc


def _op(n: int) -> str:
    return f"OPS-2026-01-{n:02d}-001"


def corpus(repo: Repo) -> None:
    """Operations that break different per-operation rules (and some that pass)."""
    broken_bodies = {
        3: runbook_body(_op(3)).replace("Status: PASS", "Status: MAYBE"),               # X006
        4: runbook_body(_op(4)).replace("## 5) Report", "## 5) Notes"),                 # R001
        5: runbook_body(_op(5)).replace(f"operation_id: {_op(5)}", "operation_id: OPS-2026-01-01-009"),  # R005
        6: runbook_body(_op(6)).replace("systemctl is-active prometheus", "systemctl restart nginx"),  # X010
        7: "## 3) Execution log\n\nnothing yet\n",                                       # X001
    }
    entries = []
    for n in range(2, 12):
        text = declaration_text(_op(n))
        if n in broken_bodies:
            text = text.replace(runbook_body(_op(n)), broken_bodies[n])
        if n != 9:  # 9: declared, no entry (open)
            entries.append(entry_text(_op(n), outcome="SUCCESS" if n != 8 else "MAYBE"))
        repo.write(f"ops/operations/{_op(n)}.md", text)
    entries.append(entry_text("OPS-2026-01-20-001"))  # L008: an entry without a declaration
    entries.append(entry_text(_op(2), approval_timestamp="2026-01-02T09:00:00Z",
                              execution_timestamp="2099-01-02T10:00:00Z"))  # a second entry for 2, in the future
    repo.write("ops/ledger/2026-01.yaml", "".join(entries))


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    seen: list[str] = []
    real = memo._judge

    def counting(group: Any, policy: Any, rules: Any) -> Any:
        seen.append(group[0])
        return real(group, policy, rules)

    monkeypatch.setattr(memo, "_judge", counting)
    return seen


def _records(repo: Repo) -> RecordSet:
    return load_records(WorktreeSource(str(repo.path)), default_policy(), cache=False)


def _lines(findings: Any) -> list[str]:
    return [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in sort_findings(findings)]


def _with_memo(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(cachestore, "_OPEN", {})  # as a new process would
    store = cachestore.open_store(Git(str(repo.path)), "findings", default_policy())
    assert store is not None
    return _lines(run_record_rules(_records(repo), default_policy(), memo=store))


def test_memo_cold_and_warm_equal_the_plain_run(repo: Repo, judged: list[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    corpus(repo)
    plain = _lines(run_record_rules(_records(repo), default_policy()))
    assert {line.split(": ")[1].split()[0] for line in plain} >= {"X001", "X006", "X010", "R001", "R005", "L008",
                                                                  "L105"}
    assert _with_memo(repo, monkeypatch) == plain
    assert len(judged) == 11  # ten declared operations and the undeclared entry
    judged.clear()
    assert _with_memo(repo, monkeypatch) == plain
    assert judged == []


def test_two_cores_give_the_same_findings(repo: Repo, judged: list[str], monkeypatch: pytest.MonkeyPatch,
                                          forks: list[int]) -> None:
    corpus(repo)
    plain = _lines(run_record_rules(_records(repo), default_policy()))
    monkeypatch.setattr(memo, "PARALLEL_MIN_OPERATIONS", 2)
    assert _with_memo(repo, monkeypatch) == plain
    assert len(forks) == 1 and forks[0] > 0
    judged.clear()
    assert _with_memo(repo, monkeypatch) == plain  # what the child judged was kept too
    assert judged == []


def test_an_edited_operation_is_judged_again_and_only_it(repo: Repo, judged: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    corpus(repo)
    _with_memo(repo, monkeypatch)
    judged.clear()
    path = repo.path / "ops" / "operations" / f"{_op(3)}.md"
    path.write_text(path.read_text().replace("Status: MAYBE", "Status: PASS"))
    after = _with_memo(repo, monkeypatch)
    assert judged == [_op(3)]
    assert after == _lines(run_record_rules(_records(repo), default_policy()))
    assert not any(f"{_op(3)}.md" in line and " X006 " in line for line in after)


def test_an_edited_entry_is_judged_again(repo: Repo, judged: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus(repo)
    _with_memo(repo, monkeypatch)
    judged.clear()
    ledger = repo.path / "ops" / "ledger" / "2026-01.yaml"
    ledger.write_text(ledger.read_text().replace("outcome: MAYBE", "outcome: SUCCESS"))
    _with_memo(repo, monkeypatch)
    assert judged == [_op(8)]


def test_the_clock_rules_are_never_kept(repo: Repo, judged: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus(repo)
    clock = [datetime.datetime(2026, 2, 1, tzinfo=UTC)]
    monkeypatch.setattr(timestamps, "utc_now", lambda: clock[0])
    assert any(" L105 " in line for line in _with_memo(repo, monkeypatch))
    clock[0] = datetime.datetime(2100, 1, 1, tzinfo=UTC)
    assert not any(" L105 " in line for line in _with_memo(repo, monkeypatch))


def test_a_damaged_kept_value_is_judged_again(repo: Repo, judged: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus(repo)
    plain = _with_memo(repo, monkeypatch)
    store = cachestore.open_store(Git(str(repo.path)), "findings", default_policy())
    assert store is not None
    for key in list(store.entries)[:3]:
        store.entries[key] = (("not", "a", "finding"),)
    store.dirty = True
    store.save()
    judged.clear()
    assert _with_memo(repo, monkeypatch) == plain
    assert len(judged) == 3


def test_each_runbook_is_parsed_once_and_dropped_after_its_operations_rules(repo: Repo, judged: list[str],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules of one operation share its parsed log and outline; kept for every operation they were a
    third of a cold run's memory, so they are dropped once its rules have run."""
    from opsgov_hooks.records.markdown import outline_of
    from opsgov_hooks.rules import execution

    corpus(repo)
    plain = _lines(run_record_rules(_records(repo), default_policy()))
    parsed: list[str] = []
    real = execution.parse_log

    def counting(body: str, body_line: int) -> Any:
        parsed.append(body)
        return real(body, body_line)

    monkeypatch.setattr(execution, "parse_log", counting)
    execution.log_of.cache_clear()
    outline_of.cache_clear()
    assert _with_memo(repo, monkeypatch) == plain
    assert len(parsed) == len(set(parsed)) == 10   # one parse per declared operation
    assert execution.log_of.cache_info().currsize == 0 and outline_of.cache_info().currsize == 0
