"""opsgov report on long histories: streamed, and a default period when the history is very long."""
from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest

from conftest import Repo, init_repo
from pathlib import Path

from test_report import NOW


def _commit_at(repo: Repo, when: str, path: str, message: str) -> None:
    repo.write(path, f"{when}\n")
    repo.stage()
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    import subprocess
    subprocess.run(("git", "commit", "-q", "-m", message), cwd=repo.path, env=env, check=True)


def _report(repo: Repo, since: str | None = None) -> tuple[dict[str, Any], str]:
    from opsgov_hooks.audit.run import run_report
    from opsgov_hooks.commands.guard import run_guarded

    out, err = io.StringIO(), io.StringIO()
    run_guarded(lambda: run_report(str(repo.path), since, None, "json", None, quiet=False, out=out, err=err,
                                   now=NOW))
    return json.loads(out.getvalue()), err.getvalue()


@pytest.fixture
def long_repo(tmp_path: Path) -> Repo:
    repo = init_repo(tmp_path / "repo")
    _commit_at(repo, "2023-05-01T10:00:00Z", "ops/old.conf", "an old governed change")
    _commit_at(repo, "2024-05-01T10:00:00Z", "ops/old.conf", "another old one")
    _commit_at(repo, "2025-12-01T10:00:00Z", "ops/new.conf", "a recent governed change")
    _commit_at(repo, "2026-02-01T10:00:00Z", "src/app.py", "recent code")
    return repo


def test_a_very_long_history_is_reported_over_its_last_year_unless_asked(long_repo: Repo,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from opsgov_hooks.audit import run

    monkeypatch.setattr(run, "LONG_HISTORY", 3)
    data, err = _report(long_repo)
    assert data["period"]["since"].startswith("2025-03-01")
    assert [c["subject"] for c in data["commits"]] == ["a recent governed change"]
    assert "the history has 4 commits: the report covers the 365 days up to 2026-03-01" in err
    assert "--since 1970-01-01" in err
    data, err = _report(long_repo, since="1970-01-01")
    assert [c["subject"] for c in data["commits"]] == ["an old governed change", "another old one",
                                                      "a recent governed change"]
    assert err == ""


def test_a_short_history_is_reported_whole(long_repo: Repo) -> None:
    data, err = _report(long_repo)
    assert data["period"]["since"] is None and len(data["commits"]) == 3 and err == ""


def test_the_streamed_log_is_every_commit_newest_first(long_repo: Repo) -> None:
    from opsgov_hooks.git.gitio import Git
    from opsgov_hooks.git import history

    with Git(str(long_repo.path)) as git:
        log = list(git.iter_log_with_changes())
    assert [c.sha for c in log] == long_repo.git("rev-list", "HEAD").split()
    assert [c.subject for c in log] == long_repo.git("log", "--format=%s").splitlines()
    chunks = list(history._tokens(io.BytesIO(b"a\0bc\0d"), chunk=1))
    assert chunks == [b"a", b"bc", b"d"]
