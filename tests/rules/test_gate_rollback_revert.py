"""A rollback is a revert (G022): the rollback exemption lets a closed operation only bring files back.

Black box: the real CLI (``opsgov ledger rollback``, ``opsgov check``) in real repositories.
"""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import LEDGER, OPS1, PROM, close, operation  # noqa: E402
from security_helpers import finding_codes, opsgov  # noqa: E402

pytest_plugins = ["conftest_gate"]

ALERTS = "ops/monitoring/alerts.yml"


@pytest.fixture
def closed(gate_repo: Repo) -> Repo:
    """PROM existed before OPS1; OPS1 changed it and created ALERTS, then was closed by its tag."""
    gate_repo.write(PROM, "scrape_interval: 15s\n")
    gate_repo.commit("before the operation")
    operation(gate_repo)
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    gate_repo.write(ALERTS, "groups: []\n")
    gate_repo.commit("the operation")
    close(gate_repo)
    return gate_repo


def _rollback(repo: Repo) -> None:
    code, out, err = opsgov(repo.path, "ledger", "rollback", OPS1, "--at", "2026-01-28T08:00:00Z",
                            "--evidence", "prometheus reloaded, targets up")
    assert code == 0, out + err
    repo.stage()


def test_a_true_revert_passes(closed: Repo) -> None:
    _rollback(closed)
    closed.write(PROM, "scrape_interval: 15s\n")
    closed.git("rm", "-q", "--", ALERTS)
    assert opsgov(closed.path, "check") == (0, "", "")


def test_new_text_in_a_file_of_the_operation_is_refused(closed: Repo) -> None:
    _rollback(closed)
    closed.write(PROM, "scrape_interval: 15s\nremote_write: [{url: http://elsewhere}]\n")
    closed.stage()
    code, out, _ = opsgov(closed.path, "check")
    assert code == 1 and finding_codes(out) == ["G022"]
    before = closed.git("rev-parse", "HEAD~1").strip()[:12]
    assert out.splitlines()[0] == (
        f"{PROM}:1:1: G022 {PROM} is not a revert: a rollback may only bring it back to its content before {OPS1}'s "
        f"first change (fix: restore it as before {OPS1}: git checkout {before} -- {PROM}; anything else is new "
        f"work: declare a new operation for this change ('opsgov new'))")


def test_a_brand_new_file_in_scope_is_refused(closed: Repo) -> None:
    _rollback(closed)
    closed.write(PROM, "scrape_interval: 15s\n")
    closed.write("ops/monitoring/new.yml", "x: 1\n")
    closed.stage()
    code, out, _ = opsgov(closed.path, "check")
    assert code == 1 and finding_codes(out) == ["G022"]
    assert "G022 ops/monitoring/new.yml is not a revert: OPS-2026-01-27-001 never changed it" in out


def test_a_created_file_may_only_be_removed(closed: Repo) -> None:
    _rollback(closed)
    closed.write(ALERTS, "groups: [changed]\n")
    closed.stage()
    code, out, _ = opsgov(closed.path, "check")
    assert code == 1 and finding_codes(out) == ["G022"]
    assert f"{OPS1} created it, so its rollback may only remove it (fix: remove it, as before {OPS1}: " \
           f"git rm -- {ALERTS};" in out


def test_deleting_a_file_that_existed_before_is_refused(closed: Repo) -> None:
    _rollback(closed)
    closed.git("rm", "-q", "--", PROM)
    code, out, _ = opsgov(closed.path, "check")
    assert code == 1 and finding_codes(out) == ["G022"]


def test_range_mode_judges_the_rollback_commit_the_same(closed: Repo) -> None:
    base = closed.head()
    _rollback(closed)
    closed.write(PROM, "scrape_interval: 5s\n")
    closed.commit("rollback that is not one")
    code, out, _ = opsgov(closed.path, "check", "--range", f"{base}..HEAD")
    assert code == 1 and finding_codes(out) == ["G022"]
    assert f"(commit {closed.head()[:12]})" in out
    closed.git("reset", "-q", "--hard", base)
    _rollback(closed)
    closed.write(PROM, "scrape_interval: 15s\n")
    closed.commit("a real rollback")
    assert opsgov(closed.path, "check", "--range", f"{base}..HEAD") == (0, "", "")


def test_the_content_to_restore_is_the_one_before_the_operations_first_change(gate_repo: Repo) -> None:
    """Two commits of the operation changed the file: undoing only the second is not the revert."""
    gate_repo.write(PROM, "scrape_interval: 15s\n")
    gate_repo.commit("before the operation")
    operation(gate_repo)
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    gate_repo.commit("the operation, first step")
    gate_repo.write(PROM, "scrape_interval: 60s\n")
    gate_repo.commit(f"the operation, second step\n\nOps-Id: {OPS1}")
    close(gate_repo)
    _rollback(gate_repo)
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    gate_repo.stage()
    code, out, _ = opsgov(gate_repo.path, "check")
    assert code == 1 and finding_codes(out) == ["G022"]
    gate_repo.write(PROM, "scrape_interval: 15s\n")
    gate_repo.stage()
    assert opsgov(gate_repo.path, "check") == (0, "", "")


def test_ledger_update_alone_passes(closed: Repo) -> None:
    _rollback(closed)
    assert closed.read(LEDGER).count("outcome: ROLLBACK") == 1
    assert opsgov(closed.path, "check") == (0, "", "")
