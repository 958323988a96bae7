"""Submodules (gitlinks) under governed paths: their contents cannot be inspected, so moving one
is a governed change that needs an operation."""
from __future__ import annotations

import os
import subprocess

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, Check, codes, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]


def gitlink(repo: Repo, path: str, seed: str) -> None:
    """Stage a submodule entry pointing at some commit of another repository."""
    sha = subprocess.run(("git", "hash-object", "--stdin"), input=seed.encode(), capture_output=True,
                         cwd=repo.path, check=True).stdout.decode().strip()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{path}")


def test_moving_a_governed_submodule_needs_an_operation(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gitlink(gate_repo, "ops/vendor/dashboards", "one")
    gate_repo.git("commit", "-q", "-m", "vendor the dashboards")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["G001"] and out.startswith("ops/vendor/dashboards:1:1: G001")


def test_a_submodule_holding_a_governed_folder_is_governed(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - vendor/dash/**\n")
    gate_repo.commit("configuration")
    base = gate_repo.head()
    gitlink(gate_repo, "vendor", "two")
    gitlink(gate_repo, "thirdparty/lib", "three")
    gate_repo.git("commit", "-q", "-m", "submodules")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["G001"] and out.startswith("vendor:1:1: G001")


def test_an_operation_naming_the_submodule_permits_it(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/vendor/dashboards"])
    gitlink(gate_repo, "ops/vendor/dashboards", "four")
    gate_repo.git("commit", "-q", "-m", f"bump the dashboards\n\nOps-Id: {OPS1}")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")


def test_the_staged_check_sees_a_submodule_even_through_the_console_script(gate_repo: Repo) -> None:
    gate_repo.write(".gitmodules", '[submodule "x"]\n\tpath = vendor\n\turl = ../x\n')
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - vendor/dash/**\n")
    gate_repo.commit("configuration")
    gitlink(gate_repo, "vendor", "five")
    script = os.path.join(os.path.dirname(__import__("sys").executable), "opsgov")
    for _ in range(2):
        proc = subprocess.run([script, "check"], cwd=gate_repo.path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and proc.stdout.startswith("vendor:1:1: G001"), proc.stdout + proc.stderr
