"""The benchmark generator builds the repository it promises, and opsgov finds it valid."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pathspec
import pytest

from opsgov_hooks.records.ids import id_date

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generate = load("generate")
SHAPE = generate.Shape(commits=50, governed=40, operations=30, tags=3, pr_commits=20, src_files=10)
LAST = "%04d-%02d" % generate.LAST_MONTH  # the month main's operations end in


def git(repo: Path, *args: str) -> str:
    return subprocess.run(("git", *args), cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("bench-work")
    folder = generate.ensure(SHAPE, work, quiet=True)
    return folder / "repo", generate.load_manifest(folder)


def entries_of(repo: Path, rev: str = "HEAD") -> list[str]:
    files = git(repo, "ls-tree", "-r", "--name-only", rev, "ops/ledger").split()
    text = "".join(git(repo, "show", f"{rev}:{f}") for f in files)
    return [doc for doc in text.split("---\n") if doc.strip()]


def test_history_refs_and_tags_have_the_promised_shape(built: tuple[Path, dict[str, Any]]) -> None:
    repo, info = built
    assert git(repo, "rev-list", "--count", "main").strip() == "50"
    assert git(repo, "rev-list", "--count", "main..pr").strip() == "20"
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == ""
    tags = git(repo, "for-each-ref", "--format=%(objecttype) %(refname:short) %(tag)", "refs/tags").splitlines()
    assert len(tags) == 3 == info["tags"]
    for line in tags:
        kind, ref, name = line.split()
        assert kind == "tag" and ref == name and ref.startswith(f"ops-{LAST}-")
    assert info["shape"]["commits"] == 50 and info["ledger_file"] == f"ops/ledger/{LAST}.yaml"


def test_records_governed_files_and_coverage(built: tuple[Path, dict[str, Any]]) -> None:
    repo, _info = built
    files = git(repo, "ls-files").split()
    records = [f for f in files if f.startswith("ops/operations/")]
    governed = [f for f in files if f.startswith("ops/") and not f.startswith(("ops/operations/", "ops/ledger/"))]
    assert len(records) == 30
    assert len(governed) == 40 + 1  # service files and the rollback runbook
    assert all(id_date(Path(r).stem) is not None for r in records)
    allowed: list[str] = []
    for r in records:
        front = (repo / r).read_text().split("---\n")[1]
        allowed += [line.strip()[2:] for line in front.splitlines() if line.startswith("  - ops/")]
    spec = pathspec.GitIgnoreSpec.from_lines(allowed)
    assert [f for f in governed if not spec.match_file(f)] == []
    assert all((repo / f).stat().st_size <= 1024 * 1024 for f in files)


def test_ledger_entries_and_rollback_refs_point_into_history(built: tuple[Path, dict[str, Any]]) -> None:
    repo, _info = built
    entries = entries_of(repo)
    assert len(entries) == 30
    refs = [line.split(": ", 1)[1].strip("'") for e in entries for line in e.splitlines()
            if line.startswith("rollback_ref:")]
    shas = [r.removeprefix("commit: ") for r in refs if not r.startswith(("command:", "procedure:"))]
    assert {r.split(":")[0] for r in refs} >= {"command", "procedure"}
    assert len(shas) >= 20
    for sha in shas:
        full = git(repo, "rev-parse", "--verify", f"{sha}^{{commit}}").strip()
        assert subprocess.run(("git", "merge-base", "--is-ancestor", full, "main"), cwd=repo).returncode == 0


def test_each_tag_carries_its_entry_at_a_commit_that_holds_it(built: tuple[Path, dict[str, Any]]) -> None:
    repo, _info = built
    for name in git(repo, "tag", "--list", "ops-*").split():
        op_id = name.upper()
        message = git(repo, "tag", "--list", "--format=%(contents)", name)
        title, entry = message.split("\n\n", 1)
        assert title.startswith(f"{op_id}: ")
        at_tag = [e for e in entries_of(repo, name) if f"operation_id: {op_id}\n" in e]
        assert len(at_tag) == 1 and entry.strip() == ("---\n" + at_tag[0]).strip()


def test_opsgov_validate_passes_on_main_and_on_the_pull_request(built: tuple[Path, dict[str, Any]],
                                                                run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _info = built
    monkeypatch.chdir(repo)
    assert run_cli("validate") == (0, "", "")
    git(repo, "checkout", "-q", "pr")
    try:
        assert run_cli("validate") == (0, "", "")
        assert len(entries_of(repo)) == 30 + 2
    finally:
        git(repo, "checkout", "-q", "main")


def test_the_benchmark_scenarios_stage_what_they_say(built: tuple[Path, dict[str, Any]]) -> None:
    repo, info = built
    run = load("run")
    for stage, expected in ((run.stage_noop, [info["noop_file"]]),
                            (run.stage_three, info["change_files"]),
                            (run.stage_ledger, [info["ledger_file"]])):
        stage(repo, info)
        assert git(repo, "diff", "--cached", "--name-only").split() == sorted(expected)
        run.reset(repo)
    assert info["ledger_entries"] == 30
    assert json.loads((repo.parent / "manifest.json").read_text()) == info
