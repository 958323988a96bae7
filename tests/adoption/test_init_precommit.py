"""'opsgov init' on a repository whose team already uses pre-commit: one more '- repo:' item in its
'repos:' list, every other item and comment kept; the result validates and the team's hooks still run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import Repo

BIN = Path(sys.executable).parent
TEAM = """\
# Our team's hooks. Keep this comment.
default_stages: [pre-commit]
repos:
  # runs first
  - repo: local
    hooks:
      - id: team-marker
        name: team hook
        entry: sh -c 'echo ran >> .team-hook-ran'
        language: system
        pass_filenames: false
        always_run: true   # every commit
# the end
"""


def run(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_init_adds_one_item_and_the_team_hooks_still_run(repo: Repo) -> None:
    import yaml

    from opsgov_hooks.adoption.init import LOCAL_ITEM

    repo.write(".pre-commit-config.yaml", TEAM)
    repo.write(".gitignore", ".team-hook-ran\n")
    repo.commit("the team's pre-commit config")
    out = run(repo, "opsgov", "init")
    assert out.returncode == 0, out.stdout
    assert "updated .pre-commit-config.yaml (opsgov's hooks added to its repos: list)" in out.stdout
    text = repo.read(".pre-commit-config.yaml")
    assert text == TEAM.replace("# the end\n", LOCAL_ITEM + "# the end\n")
    before, after = yaml.safe_load(TEAM), yaml.safe_load(text)
    assert after == {**before, "repos": before["repos"] + yaml.safe_load("repos:\n" + LOCAL_ITEM)["repos"]}
    assert run(repo, "pre-commit", "validate-config").returncode == 0
    assert run(repo, "pre-commit", "install", "--hook-type", "pre-commit", "--hook-type", "commit-msg").returncode == 0

    assert run(repo, "git", "add", "-A").returncode == 0
    committed = run(repo, "git", "commit", "-m", "Adopt Ops Governor")
    assert committed.returncode == 0, committed.stdout
    assert "team hook" in committed.stdout and "opsgov gate (staged change)" in committed.stdout
    assert (repo.path / ".team-hook-ran").read_text() == "ran\n"
    # The adoption covers the file it changed.
    record = next((repo.path / "ops" / "operations").glob("OPS-*.md")).read_text(encoding="utf-8")
    assert "\n  - .pre-commit-config.yaml\n" in record

    repo.write("ops/monitoring/prometheus.yml", "x: 1\n")
    repo.stage()
    blocked = run(repo, "git", "commit", "-m", "undeclared")
    assert blocked.returncode == 1 and "G001" in blocked.stdout and "team hook" in blocked.stdout


def test_an_empty_flow_list_becomes_a_block(repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    from opsgov_hooks.adoption.init import LOCAL_ITEM

    repo.write(".pre-commit-config.yaml", "repos: []  # none yet\n")
    assert run_cli("init", "-C", str(repo.path), "-q")[0] == 0
    assert repo.read(".pre-commit-config.yaml") == "repos:  # none yet\n" + LOCAL_ITEM


def test_what_cannot_be_extended_safely_is_left_alone_and_the_item_printed(repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    from opsgov_hooks.adoption.init import LOCAL_ITEM

    flow = "repos: [{repo: meta, hooks: [{id: identity}]}]\n"
    repo.write(".pre-commit-config.yaml", flow)
    code, out, _ = run_cli("init", "-C", str(repo.path), "--quiet")
    assert code == 0
    assert out == f"\nAdd this item to the repos: list of .pre-commit-config.yaml:\n\n{LOCAL_ITEM}\n"
    assert repo.read(".pre-commit-config.yaml") == flow


def test_the_pinned_rev_is_the_release_tag(repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    from opsgov_hooks import __version__

    repo.write(".pre-commit-config.yaml", TEAM)
    assert run_cli("init", "-C", str(repo.path), "-q", "--hooks-repo", "https://git.example.com/opsgov")[0] == 0
    text = repo.read(".pre-commit-config.yaml")
    assert f"  - repo: https://git.example.com/opsgov\n    rev: v{__version__}\n    hooks:\n" in text
    assert "# Our team's hooks. Keep this comment.\n" in text
