"""The no-op path: nothing governed staged costs one ``git diff-index`` and no YAML or schema import."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import PROM  # noqa: E402

from opsgov_hooks.config import default_policy  # noqa: E402
from opsgov_hooks.gate import fastpath  # noqa: E402
from opsgov_hooks.gate.globs import literal_prefix, may_match_any  # noqa: E402

pytest_plugins = ["conftest_gate"]

HEAVY = ("yaml", "jsonschema", "fastjsonschema", "detect_secrets", "git", "opsgov_hooks.config",
         "opsgov_hooks.schemas", "opsgov_hooks.yamlstrict")
PROBE = ("import sys, json\nfrom opsgov_hooks.cli import main\ncode = main(['check'])\n"
         "print(json.dumps([code, sorted(m for m in sys.modules if m in HEAVY)]))\n")


def run_probe(repo: Repo, trace: Path) -> tuple[int, list[str], list[str]]:
    """Run ``opsgov check`` in a fresh interpreter: (exit code, heavy modules imported, git commands run)."""
    env = {**os.environ, "GIT_TRACE": str(trace)}
    proc = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n" + PROBE], cwd=repo.path, env=env,
                          capture_output=True, text=True, check=True)
    code, modules = json.loads(proc.stdout.splitlines()[-1])
    commands = [line.split("trace: built-in: git ", 1)[1].split()[0]
                for line in trace.read_text().splitlines() if "trace: built-in: git " in line]
    trace.unlink()
    return code, modules, commands


def test_nothing_staged_is_one_diff_index(gate_repo: Repo, tmp_path: Path) -> None:
    assert run_probe(gate_repo, tmp_path / "trace") == (0, [], ["diff-index"])


def test_ungoverned_change_needs_no_yaml(gate_repo: Repo, tmp_path: Path) -> None:
    gate_repo.write("src/app.py", "print(1)\n")
    gate_repo.stage()
    assert run_probe(gate_repo, tmp_path / "trace") == (0, [], ["diff-index", "cat-file"])


def test_configured_repository_uses_the_cache_after_one_full_run(gate_repo: Repo, tmp_path: Path) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    gate_repo.commit("policy")
    gate_repo.write("ops/notes.md", "not governed by this policy\n")
    gate_repo.stage()
    code, modules, _ = run_probe(gate_repo, tmp_path / "trace")
    assert code == 0 and "yaml" in modules  # first run: the policy is parsed, its patterns cached
    assert run_probe(gate_repo, tmp_path / "trace") == (0, [], ["diff-index", "cat-file"])
    gate_repo.write("infra/main.tf", "resource {}\n")
    gate_repo.stage()
    code, modules, _ = run_probe(gate_repo, tmp_path / "trace")
    assert code == 1 and "yaml" in modules


def test_governed_change_takes_the_full_path(gate_repo: Repo, tmp_path: Path) -> None:
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, modules, commands = run_probe(gate_repo, tmp_path / "trace")
    assert code == 1 and "yaml" in modules and commands[:2] == ["diff-index", "cat-file"]


def test_staged_config_always_takes_the_full_path(gate_repo: Repo) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    gate_repo.stage()
    assert fastpath.nothing_to_judge(str(gate_repo.path)) is False


def test_default_patterns_match_the_default_policy() -> None:
    assert list(fastpath.DEFAULT_PATTERNS) == fastpath.governed_patterns(default_policy())


@pytest.mark.parametrize(("pattern", "prefix"), [
    ("ops/**", "ops/"), ("/ops/x.yml", "ops/"), ("docs/governance/**", "docs/governance/"), ("a/b*/c", "a/"),
    ("*.pem", None), ("ops/", None), ("ops", None), ("o*/x", None), ("!ops/x", ""),
])
def test_literal_prefix(pattern: str, prefix: str | None) -> None:
    assert literal_prefix(pattern) == prefix


@pytest.mark.parametrize("path", ["ops", "ops/a", "docs/governance/x.md", "src/ops/a", "x.pem", "docs/other"])
def test_prefilter_agrees_with_pathspec(path: str) -> None:
    import pathspec

    for patterns in (["ops/**", "docs/governance/**"], ["*.pem"], ["ops/"], ["src/**", "!src/ops/**"]):
        assert may_match_any(patterns, [path]) is pathspec.GitIgnoreSpec.from_lines(patterns).match_file(path)
