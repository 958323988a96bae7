"""The cache carried between CI runs (docs/ci.md, "Starting warm"): a folder made in one clone,
restored into a fresh clone at another path, answers exactly as a cold run, and is really used.

Every run is the real command in its own process, as CI runs it, against clones of a bare
"server" repository. "Used" is shown without timing: a run that finds every answer it needs in
the restored folder writes nothing to it (no new row, no file rewritten), while a cold run at the
same place fills an empty one.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, init_repo
from conftest_gate import OPS1, OPS2, PROM, add_entry, close, declare

pytest_plugins = ["conftest_gate"]

OPS3 = "OPS-2026-01-27-003"
# The commands a CI job runs; the range is the last three commits of the history below.
COMMANDS = {"all": ("check", "--all"), "range": ("check", "--range", "HEAD~3..HEAD"), "validate": ("validate",)}


def opsgov(where: Path, *args: str, cache: Path | None = None, no_cache: bool = False) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPSGOV_CACHE_DIR", "OPSGOV_NO_CACHE")}
    if cache is not None:
        env["OPSGOV_CACHE_DIR"] = str(cache)
    if no_cache:
        env["OPSGOV_NO_CACHE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", *args, "--format", "json"], cwd=where, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def history(repo: Repo) -> None:
    """Operations declared, recorded and one of them sealed by a tag; then a range that has findings:
    a change covered only by a closed operation (G005), an entry whose rollback commit does not exist (H006), and a normal one."""
    declare(repo, OPS1)
    add_entry(repo, OPS1)
    repo.commit("OPS1 declared and recorded")
    close(repo, OPS1)
    declare(repo, OPS2, allowed=["ops/dns/**"])
    repo.commit("OPS2 declared")
    repo.write(PROM, "global:\n  scrape_interval: 30s\n")
    repo.commit("an ungoverned change")
    add_entry(repo, OPS2, rollback_ref="0123456789abcdef0123456789abcdef01234567")
    repo.commit("OPS2 recorded")
    declare(repo, OPS3, allowed=["ops/app/**"])
    add_entry(repo, OPS3)
    repo.write("ops/app/config.yaml", "replicas: 2\n")
    repo.commit("OPS3 declared and done")


def clone(server: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(server), str(target)], check=True)
    return target


@pytest.fixture
def server(tmp_path: Path) -> Path:
    seed = init_repo(tmp_path / "seed")
    seed.write("README.md", "# service\n")
    seed.commit("initial")
    history(seed)
    bare = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed.path), str(bare)], check=True)
    return bare


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the cache folder and a digest of its bytes (a rewrite of the same rows is a change too:
    its modification time is part of it)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() + f"@{p.stat().st_mtime_ns}"
            for p in sorted(folder.iterdir())}


def warmed(server: Path, tmp_path: Path) -> Path:
    """The cache a CI run of main leaves: every command run once in a clone, cache in its own folder."""
    first = clone(server, tmp_path / "ci-run-1" / "work")
    cache = tmp_path / "ci-run-1" / "opsgov-cache"
    settle(first, cache)
    assert any(cache.glob("*.sqlite")) and any(cache.glob("*.bin"))
    return cache


def settle(work: Path, cache: Path | None = None) -> None:
    """Run every command once, as one CI run does (one run leaves all the next needs: tested below)."""
    for args in COMMANDS.values():
        opsgov(work, *args, cache=cache)


def test_a_restored_cache_answers_as_a_cold_run_and_is_used(server: Path, tmp_path: Path) -> None:
    cache = warmed(server, tmp_path)
    cold = clone(server, tmp_path / "cold" / "work")
    expected = {name: opsgov(cold, *args, no_cache=True) for name, args in COMMANDS.items()}
    assert [expected[n][0] for n in COMMANDS] == [1, 1, 0]   # findings to reproduce, not an empty answer
    assert '"G005"' in expected["range"][1] and '"H006"' in expected["all"][1]

    # The next CI run: a fresh clone at another path, the folder restored beside it.
    restored = tmp_path / "ci-run-2" / "opsgov-cache"
    shutil.copytree(cache, restored)
    work = clone(server, tmp_path / "ci-run-2" / "a" / "different" / "path")
    before = snapshot(restored)
    for name, args in COMMANDS.items():
        assert opsgov(work, *args, cache=restored) == expected[name], name
        assert snapshot(restored) == before, f"{name} had to work something out again"

    # The same runs cold at that place do fill the folder: the silence above is the cache answering.
    empty = tmp_path / "ci-run-3" / "opsgov-cache"
    for name, args in COMMANDS.items():
        assert opsgov(work, *args, cache=empty) == expected[name], name
    assert set(snapshot(empty)) == set(before)


def test_the_default_folder_inside_git_carries_over_too(server: Path, tmp_path: Path) -> None:
    """Without OPSGOV_CACHE_DIR the folder is <git dir>/opsgov-cache; copied into another clone's .git it
    is used the same way (a CI system that can keep a folder inside the project directory)."""
    first = clone(server, tmp_path / "one")
    settle(first)
    second = clone(server, tmp_path / "two")
    expected = {name: opsgov(second, *args, no_cache=True) for name, args in COMMANDS.items()}
    shutil.copytree(first / ".git" / "opsgov-cache", second / ".git" / "opsgov-cache")
    before = snapshot(second / ".git" / "opsgov-cache")
    for name, args in COMMANDS.items():
        assert opsgov(second, *args) == expected[name], name
    assert snapshot(second / ".git" / "opsgov-cache") == before


def test_a_relative_cache_folder_is_taken_from_where_opsgov_starts(server: Path, tmp_path: Path) -> None:
    work = clone(server, tmp_path / "work")
    code, out, _ = opsgov(work, "validate", cache=Path(".opsgov-cache"))
    assert code == 0 and any((work / ".opsgov-cache").glob("*.sqlite"))
    assert not (work / ".git" / "opsgov-cache").exists()


def test_a_cache_from_another_repository_changes_no_verdict(server: Path, tmp_path: Path) -> None:
    # Another repository with operations of the same ids and paths but other contents: its rows
    # are keyed by its own objects, so here they are misses, never answers.
    other = init_repo(tmp_path / "other")
    other.write("README.md", "# another service\n")
    other.commit("initial")
    declare(other, OPS1, OBJECTIVE="Something else entirely")
    add_entry(other, OPS1, rollback_ref="fedcba9876543210fedcba9876543210fedcba98")
    declare(other, OPS2, allowed=["ops/monitoring/**"])
    other.write(PROM, "global: {}\n")
    other.commit("their history")
    foreign = tmp_path / "foreign-cache"
    for args in (("check", "--all"), ("check", "--range", "HEAD~1..HEAD"), ("validate",)):
        opsgov(other.path, *args, cache=foreign)
    assert any(foreign.glob("*.sqlite"))
    work = clone(server, tmp_path / "work")
    for name, args in COMMANDS.items():
        assert opsgov(work, *args, cache=foreign) == opsgov(work, *args, no_cache=True), name


def garble(folder: Path) -> int:
    """Damage every row of every SQLite store (the payload changes, its digest does not) and every byte
    after the header of the whole-file stores; the number of rows damaged."""
    rows = 0
    for db_file in folder.glob("*.sqlite"):
        with sqlite3.connect(db_file) as db:
            for key, value in db.execute("SELECT key, value FROM kv").fetchall():
                damaged = value[:16] + bytes(b ^ 0x5A for b in value[16:])
                db.execute("UPDATE kv SET value = ? WHERE key = ?", (damaged, key))
                rows += 1
        db.close()
    for store in folder.glob("*.bin"):
        data = store.read_bytes()
        header = data.index(b"\n", data.index(b"\n") + 1) + 1   # the magic line and the kind/key line
        store.write_bytes(data[:header] + bytes(b ^ 0x5A for b in data[header:]))
    return rows


def test_a_cache_with_garbled_rows_changes_no_verdict(server: Path, tmp_path: Path) -> None:
    cache = warmed(server, tmp_path)
    assert garble(cache) > 0
    work = clone(server, tmp_path / "next" / "work")
    for name, args in COMMANDS.items():
        assert opsgov(work, *args, cache=cache) == opsgov(work, *args, no_cache=True), name


def test_a_flipped_byte_that_still_decodes_is_not_an_answer(server: Path, tmp_path: Path) -> None:
    """Damage that leaves plain data readable (a letter of a kept finding's message changed) is caught by
    the whole-file stores' digest too, not only by the SQLite rows' own."""
    work = clone(server, tmp_path / "work")
    settle(work)
    folder = work / ".git" / "opsgov-cache"
    flipped = []
    for store in folder.glob("*.bin"):
        data = store.read_bytes()
        if b"does not exist" in data:
            store.write_bytes(data.replace(b"does not exist", b"does not EXIST"))
            flipped.append(store.name)
    assert flipped                                  # the kept findings of --all (results) and of H006 (memo)
    for name, args in COMMANDS.items():
        answer = opsgov(work, *args)
        assert answer == opsgov(work, *args, no_cache=True), name
        assert "EXIST" not in answer[1]


def test_a_fifo_in_the_cache_folder_is_never_opened(server: Path, tmp_path: Path) -> None:
    """A restored folder is input: a special file under a store's name is skipped, not read (it would block)."""
    cache = warmed(server, tmp_path)
    for store in list(cache.iterdir()):
        store.unlink()
        os.mkfifo(store)
    work = clone(server, tmp_path / "next" / "work")
    for name, args in COMMANDS.items():
        assert opsgov(work, *args, cache=cache) == opsgov(work, *args, no_cache=True), name



def test_one_run_leaves_a_complete_cache(server: Path, tmp_path: Path) -> None:
    """The folder a single CI run leaves is all the next run needs: nothing is worked out twice because
    the first run parsed its records and the next one rebuilt them from the cache."""
    work = clone(server, tmp_path / "work")
    cache = tmp_path / "cache"
    for name, args in COMMANDS.items():
        opsgov(work, *args, cache=cache)
        for answer in cache.glob("results-*"):
            answer.unlink()   # the next run is at another commit: a whole --all answer would not apply
        before = snapshot(cache)
        opsgov(work, *args, cache=cache)
        after = {k: v for k, v in snapshot(cache).items() if not k.startswith("results-")}
        assert after == before, f"{name}: the second run had to work something out again"

