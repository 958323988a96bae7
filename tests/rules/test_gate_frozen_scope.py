"""An approved scope is frozen: a change is judged against the scope recorded at the trusted base (G021).

Black box: the real CLI in a child process, in real repositories (staged, range, pre-push, pre-receive).
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, declaration_text, init_repo  # noqa: E402
from conftest_gate import OPS1, PROM, add_entry, declare, record  # noqa: E402
from security_helpers import finding_codes, opsgov  # noqa: E402

from opsgov_hooks.records.declaration import Declaration  # noqa: E402
from opsgov_hooks.records.scope import SCOPE_FIELDS, changed_fields, scope_digest, scope_of  # noqa: E402

pytest_plugins = ["conftest_gate"]

GOVERNANCE = "docs/governance/OPS_GOVERNOR.md"


def _approved(repo: Repo) -> str:
    """OPS1 declared for ops/monitoring/** and recorded (approved), committed; returns that commit."""
    if not (repo.path / GOVERNANCE).exists():
        repo.write(GOVERNANCE, "# the standard\n")
        repo.commit("the standard, before opsgov governs the repository")
    declare(repo)
    add_entry(repo)
    return _commit(repo, "approved operation")


def _commit(repo: Repo, message: str) -> str:
    repo.commit(message)
    return repo.head()


def _widen(repo: Repo, **fields: object) -> None:
    """Rewrite OPS1's declaration with ``fields`` and edit the standard it now claims to cover."""
    text = declaration_text(OPS1, **{"ALLOWED_PATHS": ["ops/monitoring/**", "docs/governance/**"], **fields})
    repo.write(record(OPS1), text)
    repo.write(GOVERNANCE, "# the standard, loosened\n")


def test_scope_module_is_canonical() -> None:
    base = Declaration.from_mapping({
        "OPERATION_ID": OPS1, "OPERATION_NAME": "n", "OBJECTIVE": "o", "RISK_CLASS": "READ_ONLY",
        "BLAST_RADIUS": "b", "ROLLBACK_STRATEGY": "r", "ALLOWED_PATHS": ["b/**", "a/**"],
        "ALLOWED_SERVICES": ["nginx"]}, record(OPS1))
    reordered = Declaration.from_mapping({**_fields(base), "ALLOWED_PATHS": ["a/**", "b/**", "a/**"]}, base.path)
    assert list(scope_of(base)) == list(SCOPE_FIELDS)
    assert scope_of(base)["ALLOWED_PATHS"] == ["a/**", "b/**"]
    assert scope_digest(base) == scope_digest(reordered) and scope_digest(base).startswith("sha256:")
    assert changed_fields(base, reordered) == []
    renamed = Declaration.from_mapping({**_fields(base), "OPERATION_NAME": "other"}, base.path)
    assert scope_digest(renamed) == scope_digest(base)   # the name is not scope
    for key in SCOPE_FIELDS:
        value: object = ["x/**"] if key.startswith("ALLOWED") else "SERVICE_RESTART"
        other = Declaration.from_mapping({**_fields(base), key: value}, base.path)
        assert changed_fields(base, other) == [key]
        assert scope_digest(other) != scope_digest(base)


def _fields(d: Declaration) -> dict[str, object]:
    return {"OPERATION_ID": d.operation_id, "OPERATION_NAME": d.name, "OBJECTIVE": d.objective,
            "RISK_CLASS": d.risk_class, "BLAST_RADIUS": d.blast_radius, "ROLLBACK_STRATEGY": d.rollback_strategy,
            "ALLOWED_PATHS": list(d.allowed_paths), "ALLOWED_SERVICES": list(d.allowed_services)}


def test_staged_widening_of_approved_paths_is_refused(gate_repo: Repo) -> None:
    _approved(gate_repo)
    _widen(gate_repo)
    gate_repo.stage()
    code, out, _ = opsgov(gate_repo.path, "check")
    assert code == 1
    assert finding_codes(out) == ["G004", "G021"]   # judged against the approved scope, and the edit refused
    assert f"{GOVERNANCE}:1:1: G004 {GOVERNANCE} is outside the ALLOWED_PATHS of {OPS1}" in out
    assert f"{record(OPS1)}:2:15: G021 {OPS1} was approved with a different ALLOWED_PATHS" in out


def test_staged_widening_to_everything_is_refused(gate_repo: Repo) -> None:
    _approved(gate_repo)
    _widen(gate_repo, ALLOWED_PATHS=["'**'"])
    gate_repo.stage()
    code, out, _ = opsgov(gate_repo.path, "check")
    assert code == 1 and finding_codes(out) == ["G004", "G021"]


def test_the_same_edit_without_widening_is_refused_as_before(gate_repo: Repo) -> None:
    _approved(gate_repo)
    gate_repo.write(GOVERNANCE, "# the standard, loosened\n")
    gate_repo.stage()
    code, out, _ = opsgov(gate_repo.path, "check")
    assert code == 1 and finding_codes(out) == ["G001"]


@pytest.mark.parametrize("field, value, code_list", [
    ("ALLOWED_SERVICES", ["prometheus", "postgresql"], ["G021"]),
    ("RISK_CLASS", "READ_ONLY", ["L006", "G021"]),
    ("BLAST_RADIUS", "nothing at all", ["G021"]),
    ("ROLLBACK_STRATEGY", "none needed", ["G021"]),
])
def test_every_scope_field_is_frozen(gate_repo: Repo, field: str, value: object, code_list: list[str]) -> None:
    _approved(gate_repo)
    gate_repo.write(record(OPS1), declaration_text(OPS1, **{field: value}))
    gate_repo.stage()
    code, out, _ = opsgov(gate_repo.path, "check")
    assert code == 1
    assert sorted(finding_codes(out)) == sorted(code_list)
    assert f"approved with a different {field}" in out


def test_unapproved_operation_may_still_change_its_scope(gate_repo: Repo) -> None:
    declare(gate_repo)
    gate_repo.commit("declared, not yet approved")
    gate_repo.write(record(OPS1), declaration_text(OPS1, ALLOWED_PATHS=["ops/monitoring/**", "ops/alerting/**"]))
    add_entry(gate_repo)
    gate_repo.stage()
    assert opsgov(gate_repo.path, "check") == (0, "", "")


def test_non_scope_fields_may_change(gate_repo: Repo) -> None:
    _approved(gate_repo)
    gate_repo.write(record(OPS1), declaration_text(OPS1, OBJECTIVE="Reduce scrape load (typo fixed)"))
    gate_repo.stage()
    assert opsgov(gate_repo.path, "check") == (0, "", "")


def test_range_judges_every_commit_against_the_scope_at_base(gate_repo: Repo) -> None:
    base = _approved(gate_repo)
    gate_repo.write(record(OPS1), declaration_text(OPS1, ALLOWED_PATHS=["'**'"]))
    gate_repo.commit("widen", )
    gate_repo.write(GOVERNANCE, "# loosened\n")
    gate_repo.commit("use the widened scope\n\nOps-Id: " + OPS1)
    # Putting the declaration back at the end does not launder the commit that used the widening.
    gate_repo.write(record(OPS1), declaration_text(OPS1))
    gate_repo.commit("restore")
    code, out, _ = opsgov(gate_repo.path, "check", "--range", f"{base}..HEAD")
    assert code == 1 and finding_codes(out) == ["G004"]
    assert f"{GOVERNANCE} is outside the ALLOWED_PATHS of {OPS1}" in out


def test_range_reports_the_frozen_field_edit(gate_repo: Repo) -> None:
    base = _approved(gate_repo)
    _widen(gate_repo)
    gate_repo.commit("widen and use")
    code, out, _ = opsgov(gate_repo.path, "check", "--range", f"{base}..HEAD")
    assert code == 1 and finding_codes(out) == ["G004", "G021"]


def test_pre_push_refuses_the_widening(gate_repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    gate_repo.git("remote", "add", "origin", str(remote))
    pushed = _approved(gate_repo)
    gate_repo.git("push", "-q", "origin", "HEAD:refs/heads/main")
    _widen(gate_repo)
    gate_repo.commit("widen and use")
    code, out, _ = opsgov(gate_repo.path, "check", "--pre-push", env={
        "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main",
        "PRE_COMMIT_FROM_REF": pushed, "PRE_COMMIT_TO_REF": gate_repo.head(),
        "PRE_COMMIT_REMOTE_NAME": "origin"})
    assert code == 1 and finding_codes(out) == ["G004", "G021"], out


def test_pre_receive_refuses_the_widening(tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo = init_repo(tmp_path / "work")
    repo.git("remote", "add", "origin", str(bare))
    repo.write(GOVERNANCE, "# the standard\n")
    repo.commit("initial")
    assert _push(repo)[0] == 0   # before the server governs anything
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check --pre-receive\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    _approved(repo)
    assert _push(repo)[0] == 0
    _widen(repo)
    repo.commit("widen and use")
    code, out = _push(repo)
    assert code == 1
    remote = [line for line in out.splitlines() if line.startswith("remote: ")]
    assert any(" G021 " in line for line in remote) and any(" G004 " in line for line in remote), out


def _push(repo: Repo) -> tuple[int, str]:
    proc = subprocess.run(["git", "push", "--porcelain", "origin", "HEAD:refs/heads/main"], cwd=repo.path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    return proc.returncode, proc.stdout
