"""Each security guarantee gets a black-box test through the CLI (issue 13, item 7), besides its unit test.

Among them the two behaviours a mutation spot check found untested: notes grow only at the end (H004),
and a service whose name extends an allowed one stays refused.
"""
from __future__ import annotations

import os
import subprocess

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, entry_text  # noqa: E402
from conftest_gate import LEDGER, OPS1, PROM, close, operation  # noqa: E402
from execution_helpers import RECORD, closed, runbook, step  # noqa: E402
from security_helpers import finding_codes, opsgov  # noqa: E402

from opsgov_hooks.execution.cmdpolicy import service_allowed  # noqa: E402

pytest_plugins = ["conftest_gate"]


def _with_notes(repo: Repo, notes: str) -> None:
    text = repo.read(LEDGER)
    head, _sep, _rest = text.partition("notes:")
    repo.write(LEDGER, (head if "notes:" in text else text) + f"notes: '{notes}'\n")


@pytest.fixture
def noted(gate_repo: Repo) -> Repo:
    operation(gate_repo)
    _with_notes(gate_repo, "reloaded at 10:00")
    gate_repo.commit("recorded, with notes")
    return gate_repo


def test_notes_may_grow_at_the_end(noted: Repo) -> None:
    _with_notes(noted, "reloaded at 10:00; scrape duration back to normal at 10:20")
    noted.stage()
    assert opsgov(noted.path, "check") == (0, "", "")


def test_notes_may_not_grow_at_the_front(noted: Repo) -> None:
    """A prepended 'Correction:' rewrites history: the old notes are still in there, but not as the start."""
    _with_notes(noted, "Correction: never reloaded. reloaded at 10:00")
    noted.stage()
    code, out, _err = opsgov(noted.path, "check")
    assert code == 1 and finding_codes(out) == ["H004"]


def test_notes_may_not_grow_in_the_middle(noted: Repo) -> None:
    _with_notes(noted, "reloaded (not really) at 10:00")
    noted.stage()
    code, out, _err = opsgov(noted.path, "check")
    assert code == 1 and finding_codes(out) == ["H004"]


def test_a_service_extending_an_allowed_name_is_refused() -> None:
    assert not service_allowed("nginx-admin", ["nginx"]) and not service_allowed("nginx2", ["nginx"])
    assert service_allowed("nginx.service", ["nginx"])


def test_a_closed_operation_permits_nothing(gate_repo: Repo) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    close(gate_repo)
    gate_repo.write(PROM, "scrape_interval: 60s\n")
    gate_repo.stage()
    code, out, _err = opsgov(gate_repo.path, "check")
    assert code == 1 and finding_codes(out) == ["G005"]


def test_a_sealed_entry_cannot_be_edited(gate_repo: Repo) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    close(gate_repo)
    base = gate_repo.head()
    gate_repo.write(LEDGER, gate_repo.read(LEDGER).replace("scrape_interval 15s -> 30s", "nothing changed"))
    gate_repo.commit(f"rewrite the summary\n\nOps-Id: {OPS1}")
    code, out, _err = opsgov(gate_repo.path, "check", "--range", f"{base}..HEAD")
    assert code == 1 and "H002" in finding_codes(out)
    code, out, _err = opsgov(gate_repo.path, "check", "--all")
    assert code == 1 and "T005" in finding_codes(out)


def test_a_rollback_commit_must_be_reachable_from_the_tag(gate_repo: Repo) -> None:
    gate_repo.git("checkout", "-q", "-b", "side")
    gate_repo.write("side.txt", "x\n")
    gate_repo.commit("only on a side branch")
    side = gate_repo.head()
    gate_repo.git("checkout", "-q", "-")
    operation(gate_repo)
    gate_repo.write(LEDGER, entry_text(OPS1, rollback_ref=side[:12]))
    gate_repo.commit("the operation")
    close(gate_repo)
    code, out, _err = opsgov(gate_repo.path, "check", "--all")
    assert code == 1 and "H009" in finding_codes(out)


def test_evidence_counts_only_from_passing_steps(repo: Repo) -> None:
    steps = (step(1, "systemctl reload prometheus", status="FAIL")
             + step(2, "git revert HEAD", rollback=True, verify="echo reverted"))
    closed(repo, runbook(steps=steps), outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z",
           rollback_evidence="reverted")
    code, out, _err = opsgov(repo.path, "validate")
    assert code == 1 and "X012" in finding_codes(out), out


def test_the_ledger_file_is_replaced_atomically(gate_repo: Repo) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    ledger = gate_repo.path / LEDGER
    before = os.stat(ledger).st_ino
    code, out, err = opsgov(gate_repo.path, "ledger", "rollback", OPS1, "--at", "2026-01-28T08:00:00Z",
                            "--evidence", "reverted")
    assert code == 0, out + err
    assert os.stat(ledger).st_ino != before                      # a new file renamed into place
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["2026-01.yaml"]   # no temporary left behind
    assert "outcome: ROLLBACK" in ledger.read_text(encoding="utf-8")


def test_a_multi_service_restart_needs_every_service(gate_repo: Repo) -> None:
    operation(gate_repo)
    gate_repo.write(RECORD, runbook(steps=step(1, "systemctl restart prometheus grafana-server")))
    code, out, _err = opsgov(gate_repo.path, "validate")
    assert code == 1 and finding_codes(out) == ["X010"] and "grafana-server" in out
    assert subprocess.run(["git", "status"], cwd=gate_repo.path, capture_output=True).returncode == 0
