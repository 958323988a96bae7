"""Every git process opsgov runs reads packs through small windows, after the caller's own settings."""
from __future__ import annotations

import pytest

from conftest import Repo
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import GitError


def _config(git: Git, key: str) -> str:
    return git.run("config", "--get", key).decode().strip()


def test_pack_windows_are_small(repo: Repo) -> None:
    repo.commit("first")
    git = Git.discover(str(repo.path))
    assert (_config(git, "core.packedGitWindowSize"), _config(git, "core.packedGitLimit")) == ("32m", "96m")


def test_the_callers_environment_configuration_is_kept(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit("first")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "opsgov.test")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "kept")
    git = Git.discover(str(repo.path))
    assert _config(git, "opsgov.test") == "kept"
    assert _config(git, "core.packedGitLimit") == "96m"


def test_a_broken_count_is_left_for_git_to_report(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit("first")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "two")
    with pytest.raises(GitError):
        Git(str(repo.path)).run("config", "--get", "core.packedGitLimit")
