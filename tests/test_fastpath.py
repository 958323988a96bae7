"""The no-op fast path of ``opsgov check --staged``: exit 0 only when nothing governed is staged, else defer."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Repo
from opsgov_hooks import fastpath

STAGED = ["check", "--staged"]


@pytest.fixture
def committed(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A repository with one commit, as the current directory, with the gate 'installed'."""
    repo.write("src/app.py", "print('hi')\n")
    repo.write("ops/services/a.yaml", "a: 1\n")
    repo.commit("start")
    repo.chdir(monkeypatch)
    monkeypatch.setattr(fastpath, "_eligible", lambda: True)
    for key in ("OPSGOV_NO_FASTPATH", "GITHUB_ACTIONS", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"):
        monkeypatch.delenv(key, raising=False)
    return repo


def test_nothing_staged_and_ungoverned_changes_pass(committed: Repo) -> None:
    assert fastpath.quick_check(STAGED) == 0
    assert fastpath.quick_check(["check"]) == 0
    committed.write("src/app.py", "print('changed')\n")
    committed.write("src/new file\nwith newline.py", "x = 1\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) == 0


@pytest.mark.parametrize("path", ["ops/services/a.yaml", "ops/new.yaml", "docs/governance/policy.md",
                                  ".opsgov.yaml", "pyproject.toml"])
def test_a_governed_or_config_path_defers_to_the_full_check(committed: Repo, path: str) -> None:
    committed.write("src/app.py", "print('changed')\n")
    committed.write(path, "changed: 1\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None


def test_deleting_or_renaming_a_governed_file_defers(committed: Repo) -> None:
    committed.git("mv", "ops/services/a.yaml", "src/a.yaml")
    assert fastpath.quick_check(STAGED) is None
    committed.git("reset", "-q", "--hard")
    committed.git("rm", "-q", "ops/services/a.yaml")
    assert fastpath.quick_check(STAGED) is None


def test_no_head_other_arguments_and_environments_defer(committed: Repo,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for argv in (["check", "--all"], ["check", "--staged", "--format", "json"], ["validate"], []):
        assert fastpath.quick_check(argv) is None
    for key in ("PRE_COMMIT_FROM_REF", "GITHUB_ACTIONS"):
        monkeypatch.undo()
        committed.chdir(monkeypatch)
        monkeypatch.setenv(key, "true")
        assert fastpath._eligible() is False
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    monkeypatch.setattr(fastpath, "_eligible", lambda: True)
    assert fastpath.quick_check(STAGED) is None  # not a repository
    unborn = Repo(fresh)
    unborn.git("init", "-q")
    (fresh / "x.py").write_text("x = 1\n")
    unborn.stage()
    assert fastpath.quick_check(STAGED) is None  # no HEAD yet


def test_only_active_once_the_check_command_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSGOV_NO_FASTPATH", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    package = tmp_path / "opsgov_hooks"
    (package / "commands").mkdir(parents=True)
    monkeypatch.setattr(fastpath, "__file__", str(package / "fastpath.py"))
    assert fastpath._eligible() is False
    (package / "commands" / "check.py").write_text("")
    assert fastpath._eligible() is True
    monkeypatch.setenv("OPSGOV_NO_FASTPATH", "1")
    assert fastpath._eligible() is False


def test_a_configured_policy_is_read_once_and_remembered(committed: Repo) -> None:
    committed.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    committed.commit("config")
    committed.write("ops/services/a.yaml", "a: 2\n")  # no longer governed ...
    committed.stage()
    assert fastpath.quick_check(STAGED) == 0
    remembered = list((committed.path / ".git" / "opsgov-cache").glob("fastpath-*"))
    assert len(remembered) == 1
    assert remembered[0].read_text() == "prefixes\ninfra/\nops/operations/\nops/ledger\n"
    for path in ("infra/main.tf", "ops/operations/OPS-2026-01-27-001.md"):  # ... but records still are
        committed.write(path, "x\n")
        committed.stage()
        assert fastpath.quick_check(STAGED) is None
        committed.git("reset", "-q", "--", path)


@pytest.mark.parametrize("config", ["governed_paths:\n  - '**/*.tf'\n", "governed_paths:\n  - infra\n",
                                    "governed_paths: [\n", "governed_paths:\n  - 'infra/**'\n  - '!infra/x/**'\n"])
def test_globs_a_prefix_cannot_express_and_broken_configs_defer(committed: Repo, config: str) -> None:
    committed.write(".opsgov.yaml", config)
    committed.commit("config")
    committed.write("src/app.py", "print('changed')\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None


def test_pyproject_configuration_counts(committed: Repo) -> None:
    committed.write("pyproject.toml", "[project]\nname = 'x'\n\n[tool.opsgov]\ngoverned_paths = ['deploy/**']\n")
    committed.commit("config")
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) == 0
    committed.write("deploy/x.yaml", "x\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None


@pytest.mark.parametrize("pattern,prefix", [("ops/**", "ops/"), ("/docs/governance/**", "docs/governance/"),
                                            ("ops", None), ("ops/", None), ("*.tf", None), ("ops/*/x/**", None),
                                            ("**", None), ("a\\b/**", None), ("a//b/**", None)])
def test_literal_prefix(pattern: str, prefix: str | None) -> None:
    assert fastpath.literal_prefix(pattern) == prefix


def test_main_falls_back_to_the_full_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["opsgov", "--version"])
    assert fastpath.main() == 0
    assert capsys.readouterr().out == "opsgov, version 0.1.0\n"
