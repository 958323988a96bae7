"""The record cache: a warm run gives exactly what a cold one does, and never serves stale or damaged data."""
from __future__ import annotations

import marshal
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, declaration_text, entry_text
from opsgov_hooks.speed import records_cache as cache
from opsgov_hooks.speed import kv
from opsgov_hooks.speed import store as cachestore
from opsgov_hooks.speed import parallel
from opsgov_hooks.policy.config import Policy, default_policy
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records import store
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.git.sources import CommitSource, IndexSource, WorktreeSource

OP1 = "OPS-2026-01-27-001"
OP2 = "OPS-2026-01-28-001"


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each load below behaves like a new process: nothing kept in memory between them."""
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    monkeypatch.setattr(kv, "_OPEN", {})


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths actually parsed (cache misses), in order."""
    seen: list[str] = []
    real = cache.parse_record_file

    def counting(path: str, raw: bytes | None, policy: Policy, records: RecordSet) -> None:
        seen.append(path)
        real(path, raw, policy, records)

    monkeypatch.setattr(cache, "parse_record_file", counting)
    monkeypatch.setattr(store, "parse_record_file", counting)
    return seen


def populate(repo: Repo) -> None:
    repo.write(f"ops/operations/{OP1}.md", declaration_text(OP1))
    repo.write(f"ops/operations/{OP2}.md", declaration_text(OP2, RISK_CLASS="SERVICE_RESTART"))
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP1) + entry_text(OP2, risk_class="SERVICE_RESTART"))
    repo.commit("records")


def snapshot(records: RecordSet) -> tuple[Any, ...]:
    return (records.files, records.declarations, records.entries, records.findings, records.invalid_ids)


def cache_files(repo: Repo) -> list[str]:
    folder = repo.path / ".git" / "opsgov-cache"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def reload(source: Any, policy: Policy | None = None) -> RecordSet:
    cachestore._OPEN.clear()
    kv._OPEN.clear()
    return load_records(source, policy or default_policy())


@pytest.mark.parametrize("kind", ["worktree", "index", "commit"])
def test_warm_run_equals_uncached_run_and_parses_nothing(repo: Repo, parses: list[str], kind: str) -> None:
    populate(repo)
    git = Git(str(repo.path))
    source = {"worktree": WorktreeSource(str(repo.path)), "index": IndexSource(git),
              "commit": CommitSource(git, repo.head())}[kind]
    uncached = load_records(source, default_policy(), cache=False)
    parses.clear()
    cold = reload(source)
    assert parses == ["ops/ledger/2026-01.yaml", f"ops/operations/{OP1}.md", f"ops/operations/{OP2}.md"]
    parses.clear()
    warm = reload(source)
    assert parses == []
    assert snapshot(cold) == snapshot(uncached) == snapshot(warm)
    assert [e.operation_id for e in warm.entries] == [OP1, OP2]
    assert (warm.entries[1].line, warm.entries[1].end_line) == (uncached.entries[1].line, uncached.entries[1].end_line)
    git.close()


def test_findings_of_an_invalid_file_are_cached_with_their_positions(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    repo.write(f"ops/operations/{OP2}.md", declaration_text(OP2, RISK_CLASS="lowercase"))
    repo.commit("break it")
    source = CommitSource(Git(str(repo.path)), repo.head())
    cold = reload(source)
    parses.clear()
    warm = reload(source)
    assert parses == []
    assert warm.findings == cold.findings
    assert [(f.code, f.path, f.line, f.column) for f in warm.findings] == [
        ("D002", f"ops/operations/{OP2}.md", 5, 13)]
    assert warm.invalid_ids == {OP2}


def test_an_edited_file_is_read_again(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    source = WorktreeSource(str(repo.path))
    reload(source)
    parses.clear()
    repo.write(f"ops/operations/{OP1}.md", declaration_text(OP1, OPERATION_NAME="Renamed"))  # not staged
    edited = reload(source)
    assert parses == [f"ops/operations/{OP1}.md"]
    assert edited.by_id()[OP1].name == "Renamed"
    parses.clear()
    repo.commit("rename")  # now git knows the new blob: committed, it is parsed once more, then cached
    git = Git(str(repo.path))
    assert reload(CommitSource(git, repo.head())).by_id()[OP1].name == "Renamed"
    assert parses == ["ops/ledger/2026-01.yaml", f"ops/operations/{OP1}.md", f"ops/operations/{OP2}.md"]
    parses.clear()
    assert reload(CommitSource(git, repo.head())).by_id()[OP1].name == "Renamed"
    assert parses == []
    git.close()


def test_a_staged_then_edited_file_is_not_served_from_the_index_blob(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    source = WorktreeSource(str(repo.path))
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP1))
    repo.stage("ops/ledger/2026-01.yaml")
    assert [e.operation_id for e in reload(source).entries] == [OP1]
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP1) + entry_text(OP2, risk_class="SERVICE_RESTART"))
    parses.clear()
    assert [e.operation_id for e in reload(source).entries] == [OP1, OP2]
    assert parses == ["ops/ledger/2026-01.yaml"]


def test_a_corrupt_cache_is_ignored_and_rebuilt(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    source = IndexSource(Git(str(repo.path)))
    good = snapshot(reload(source))
    [name] = cache_files(repo)
    target = repo.path / ".git" / "opsgov-cache" / name
    truncated = target.read_bytes()[:-40]
    for garbage in (b"", b"\x00\xff" * 100, truncated):
        target.write_bytes(garbage)
        parses.clear()
        assert snapshot(reload(source)) == good
        # An unreadable file is ignored whole; a truncated one may still serve its intact rows
        # (each checked against its digest), and the rest is parsed again.
        assert len(parses) == 3 if garbage is not truncated else len(parses) <= 3
    parses.clear()
    assert snapshot(reload(source)) == good
    assert parses == []  # rebuilt by the run that found it corrupt


def test_a_damaged_entry_is_dropped_and_its_file_read(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    source = IndexSource(Git(str(repo.path)))
    good = snapshot(reload(source))
    [name] = cache_files(repo)
    with sqlite3.connect(repo.path / ".git" / "opsgov-cache" / name) as db:
        [(key, value)] = [row for row in db.execute("SELECT key, value FROM kv") if "ledger" in row[0]]
        db.execute("UPDATE kv SET value = ? WHERE key = ?", (value[:16] + marshal.dumps(("not", "it")), key))
    parses.clear()
    assert snapshot(reload(source)) == good
    assert parses == ["ops/ledger/2026-01.yaml"]
    parses.clear()
    assert snapshot(reload(source)) == good
    assert parses == []   # the damaged row was replaced


def test_the_cache_lives_in_the_git_dir_and_is_never_committed(repo: Repo) -> None:
    populate(repo)
    reload(WorktreeSource(str(repo.path)))
    assert len(cache_files(repo)) == 1
    assert repo.git("status", "--porcelain", "--ignored") == ""


def test_a_new_policy_gets_a_new_cache_and_the_old_one_is_removed(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    source = IndexSource(Git(str(repo.path)))
    reload(source)
    before = cache_files(repo)
    parses.clear()
    strict = Policy(forbidden=default_policy().forbidden, custom_risk_classes=("DB_MIGRATION",))
    reload(source, strict)
    assert len(parses) == 3
    after = cache_files(repo)
    assert len(after) == 1 and after != before


def test_turned_off_and_outside_git(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    parses: list[str]) -> None:
    populate(repo)
    monkeypatch.setenv("OPSGOV_NO_CACHE", "1")
    reload(WorktreeSource(str(repo.path)))
    assert cache_files(repo) == []
    monkeypatch.delenv("OPSGOV_NO_CACHE")
    plain = tmp_path / "plain"
    (plain / "ops" / "ledger").mkdir(parents=True)
    (plain / "ops" / "ledger" / "2026-01.yaml").write_text(entry_text(OP1))
    parses.clear()
    records = reload(WorktreeSource(str(plain)))
    assert [e.operation_id for e in records.entries] == [OP1]
    assert parses == ["ops/ledger/2026-01.yaml"]
    assert not (plain / ".git").exists()


def test_a_symlinked_record_is_always_read_through_the_link(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    repo.write("elsewhere/2026-02.yaml", entry_text("OPS-2026-02-01-001"))
    os.symlink("../../elsewhere/2026-02.yaml", repo.path / "ops" / "ledger" / "2026-02.yaml")
    repo.commit("link")
    source = WorktreeSource(str(repo.path))
    reload(source)
    repo.write("elsewhere/2026-02.yaml", entry_text("OPS-2026-02-02-001"))
    parses.clear()
    records = reload(source)
    assert "ops/ledger/2026-02.yaml" in parses
    assert "OPS-2026-02-02-001" in [e.operation_id for e in records.entries]


def test_validate_output_is_the_same_cold_and_warm(repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(repo)
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP1) + entry_text(OP2, outcome="MAYBE"))
    repo.commit("bad outcome")
    repo.chdir(monkeypatch)
    cold = run_cli("validate")
    cachestore._OPEN.clear()
    warm = run_cli("validate")
    assert cold == warm
    assert cold[0] == 1
    assert "ops/ledger/2026-01.yaml:24:10: L002 outcome: 'MAYBE' is not one of SUCCESS, ROLLBACK, PARTIAL" in cold[1]


def test_a_forked_child_parsing_half_gives_the_same_records(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                            forks: list[int]) -> None:
    populate(repo)
    for n in range(2, 12):
        op = f"OPS-2026-01-{n:02d}-001"
        risk = "lowercase" if n == 5 else "LOW_RISK_CONFIG"
        repo.write(f"ops/operations/{op}.md", declaration_text(op, RISK_CLASS=risk))
    repo.commit("more")
    source = CommitSource(Git(str(repo.path)), repo.head())
    serial = load_records(source, default_policy(), cache=False)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 2)
    forked = reload(source)
    assert len(forks) == 1 and forks[0] > 0
    assert snapshot(forked) == snapshot(serial)
    assert [f.code for f in forked.findings] == ["D002"]


def test_a_failed_child_costs_only_time(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(repo)
    source = IndexSource(Git(str(repo.path)))
    serial = load_records(source, default_policy(), cache=False)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "join_worker", lambda pid, fd: (os.close(fd), os.waitpid(pid, 0), None)[2])
    assert snapshot(reload(source)) == snapshot(serial)


def test_parse_blobs_serves_file_versions_by_blob_id(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    git = Git(str(repo.path))
    first = git.ls_tree("HEAD")
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP1))
    repo.commit("shorter ledger")
    second = git.ls_tree("HEAD")
    ledger = "ops/ledger/2026-01.yaml"
    record = f"ops/operations/{OP1}.md"
    items = [(ledger, first[ledger]), (ledger, second[ledger]), (record, first[record]),
             ("ops/ledger/2026-02.yaml", "0" * 40)]
    parts = cache.parse_blobs(git, default_policy(), items)
    assert parses == [ledger, ledger, f"ops/operations/{OP1}.md", "ops/ledger/2026-02.yaml"]
    assert [len(parts[items[0]].entries), len(parts[items[1]].entries)] == [2, 1]
    assert [f.code for f in parts[items[3]].findings] == ["F012"]  # an unreadable version is not cached
    parses.clear()
    cachestore._OPEN.clear()
    again = cache.parse_blobs(git, default_policy(), items)
    assert parses == ["ops/ledger/2026-02.yaml"]
    assert {k: snapshot(v) for k, v in again.items()} == {k: snapshot(v) for k, v in parts.items()}
    assert snapshot(again[items[2]]) == snapshot(load_records(CommitSource(git, repo.head() + "~1"),
                                                              default_policy(), paths=[items[2][0]], cache=False))
    git.close()


def test_parsed_versions_are_kept_when_the_caller_says(repo: Repo, parses: list[str]) -> None:
    """A cold --all writes the record cache while its history rules run in a child: inside keep_later()
    nothing is written until now(), what is read meanwhile is the same, and afterwards it is all kept."""
    populate(repo)
    git = Git(str(repo.path))
    items = sorted(git.ls_tree("HEAD", ["ops"]).items())
    with cache.keep_later() as later:
        parts = cache.parse_blobs(git, default_policy(), items)
        assert len(later.items) == 3 and not any(name.startswith("records-") for name in cache_files(repo))
        later.now()
        assert later.items == [] and any(name.startswith("records-") for name in cache_files(repo))
    parses.clear()
    kv._OPEN.clear()   # as a new process would
    again = cache.parse_blobs(git, default_policy(), items)
    assert parses == []
    assert {k: snapshot(v) for k, v in again.items()} == {k: snapshot(v) for k, v in parts.items()}
    git.close()


def test_a_child_that_forgets_the_parents_rows_keeps_its_own_at_once(repo: Repo, parses: list[str]) -> None:
    populate(repo)
    git = Git(str(repo.path))
    items = sorted(git.ls_tree("HEAD", ["ops"]).items())
    with cache.keep_later() as later:
        cache.parse_blobs(git, default_policy(), items[:1])
        cache.forget_later()      # what a forked child does first
        cache.parse_blobs(git, default_policy(), items[1:])
        kv._OPEN.clear()
        parses.clear()
        cache.parse_blobs(git, default_policy(), items)
    assert parses == [items[0][0]]   # only the forgotten version was not kept
    git.close()


@pytest.mark.parametrize("deferred", [False, True])
def test_rows_written_in_parts_are_all_kept(repo: Repo, parses: list[str], monkeypatch: pytest.MonkeyPatch,
                                             deferred: bool) -> None:
    """Rows are written every SAVE_EVERY files (a cold run need not hold 57 MB of rows for one write)."""
    populate(repo)
    monkeypatch.setattr(cache, "SAVE_EVERY", 1)
    source = WorktreeSource(str(repo.path))
    uncached = load_records(source, default_policy(), cache=False)
    git = Git(str(repo.path))
    items = sorted(git.ls_tree("HEAD", ["ops"]).items())
    with cache.keep_later() if deferred else _nothing():
        cold = reload(source)
        parts = cache.parse_blobs(git, default_policy(), items)
    parses.clear()
    assert snapshot(reload(source)) == snapshot(cold) == snapshot(uncached)
    kv._OPEN.clear()
    again = cache.parse_blobs(git, default_policy(), items)
    assert parses == []
    assert {k: snapshot(v) for k, v in again.items()} == {k: snapshot(v) for k, v in parts.items()}
    git.close()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_an_entry_is_kept_under_one_key_however_its_strings_are_shared() -> None:
    """Equal entries parsed apart (distinct string objects) or rebuilt from the cache (one object used
    twice) are one row: the key does not depend on how marshal would share objects."""
    shared = "OPS-2026-01-27-" + "001"
    one = ("ops/ledger/2026-01.yaml", 3, shared, shared)
    other = ("ops/ledger/2026-01.yaml", 3, "OPS-2026-01-27-001", "".join(["OPS-2026-01-27-", "001"]))
    assert one == other and marshal.dumps(one) != marshal.dumps(other)   # what version 3 would key on
    assert cache._entry_key(one) == cache._entry_key(other)


def more_records(repo: Repo, count: int = 10) -> None:
    for n in range(2, 2 + count):
        op = f"OPS-2026-01-{n:02d}-001"
        repo.write(f"ops/operations/{op}.md", declaration_text(op))
    repo.commit("more")


@pytest.mark.parametrize("deferred", [False, True])
def test_a_forked_child_keeps_the_rows_of_what_it_parsed(repo: Repo, parses: list[str], forks: list[int],
                                                          monkeypatch: pytest.MonkeyPatch, deferred: bool) -> None:
    """A cold run's parse child writes its own part's rows before answering; the parent keeps only its
    part (at once, or when the caller says): afterwards every version is kept, and read back the same."""
    populate(repo)
    more_records(repo)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 2)
    git = Git(str(repo.path))
    items = sorted(git.ls_tree("HEAD", ["ops"]).items())
    with cache.keep_later() if deferred else _nothing():
        parts = cache.parse_blobs(git, default_policy(), items)
        assert len(forks) == 1 and forks[0] > 0
        mine = set(parses)   # what the parent parsed, once each; the child parsed the rest
        assert len(mine) == len(parses) and mine <= {path for path, _sha in items}
        if deferred:   # the child's half is written already; the parent's waits for now()
            kv._OPEN.clear()
            store_ = cache.cache_for_git(git, default_policy())
            assert store_ is not None
            kept = cache._kept(store_, [f"g\0{path}\0{sha}" for path, sha in items])
            assert sorted(kept) == sorted(f"g\0{path}\0{sha}" for path, sha in items if path not in mine)
            store_.close()
    kv._OPEN.clear()
    parses.clear()
    again = cache.parse_blobs(git, default_policy(), items)
    assert parses == []
    assert {k: snapshot(v) for k, v in again.items()} == {k: snapshot(v) for k, v in parts.items()}
    git.close()


def test_a_failed_parse_child_leaves_its_rows_to_the_parent(repo: Repo, parses: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's results never arrive: the parent parses its half again and keeps those rows itself."""
    populate(repo)
    more_records(repo)
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "join_worker", lambda pid, fd: (os.close(fd), os.waitpid(pid, 0), None)[2])
    source = WorktreeSource(str(repo.path))
    uncached = load_records(source, default_policy(), cache=False)
    parses.clear()
    cold = reload(source)
    assert len(parses) == len(cold.files) == 13   # the parent's half, then the child's again
    monkeypatch.undo()
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    parses.clear()
    assert snapshot(reload(source)) == snapshot(cold) == snapshot(uncached)
    assert parses == []


def test_split_map_consume_frees_the_runs_the_parent_took_and_keeps_the_childs(forks: list[int]) -> None:
    """With ``consume``, the caller's list no longer holds the runs the parent took (its ``work`` may
    drop each item); the runs the child took stay, to be redone if the child fails."""
    items: list[Any] = [bytes([n]) * 10 for n in range(6)]
    seen: list[list[Any]] = []

    def work(part: Any) -> list[int]:
        seen.append(list(part))
        out = []
        for i, item in enumerate(part):
            part[i] = None
            out.append(item[0])
        return out

    assert parallel.split_map(work, items, 2, consume=True, chunks=6) == [0, 1, 2, 3, 4, 5]
    assert len(forks) == 1 and forks[0] > 0
    mine = [item for run in seen for item in run]   # the parent's runs (the child's are in the child)
    assert all(items[n] is None for n in range(6) if bytes([n]) * 10 in mine)
    assert all(items[n] == bytes([n]) * 10 for n in range(6) if bytes([n]) * 10 not in mine)


def test_split_map_balances_a_slow_child_run_by_run(forks: list[int]) -> None:
    """The child is ten times slower per run here: the parent takes the runs the child cannot get to,
    and the results stay in the items' order."""
    parent = os.getpid()
    items = list(range(40))
    seen: list[int] = []

    def work(part: Any) -> list[int]:
        if os.getpid() != parent:
            time.sleep(0.05)
        else:
            seen.extend(part)
            time.sleep(0.005)
        return [n * 10 for n in part]

    assert parallel.split_map(work, items, 2, chunks=20) == [n * 10 for n in range(40)]
    assert len(forks) == 1 and forks[0] > 0
    # An even split would have given the parent 20 items; it took what the child did not, from the
    # front, in one piece (the child works from the back).
    assert 26 <= len(seen) <= 40 and seen == list(range(len(seen)))


def test_split_map_does_the_runs_of_a_child_that_dies(forks: list[int]) -> None:
    """A child that takes runs and dies before it answers: the parent does those runs itself."""
    parent = os.getpid()
    items = list(range(30))

    def work(part: Any) -> list[int]:
        if os.getpid() != parent:
            time.sleep(0.02)
            os._exit(3)   # after taking a run, before answering
        time.sleep(0.005)
        return [-n for n in part]

    assert parallel.split_map(work, items, 2, chunks=10) == [-n for n in range(30)]
    assert len(forks) == 1 and forks[0] > 0


def test_split_map_refuses_answers_for_runs_it_did_not_give(forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A child's answer is taken only for runs it took, of the right length: anything else is done here."""
    items = list(range(12))
    real_join = parallel.join_worker

    def garbled(pid: int, fd: int) -> Any:
        real_join(pid, fd)
        return [(0, [99]), (5, "x"), (-1, [1, 2, 3]), (400, [1]), [3], "junk"]

    monkeypatch.setattr(parallel, "join_worker", garbled)
    assert parallel.split_map(lambda part: [n + 1 for n in part], items, 2, chunks=4) == [n + 1 for n in range(12)]


def test_a_cold_check_all_keeps_every_row_whichever_process_writes_it(repo: Repo, forks: list[int],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Cold --all on two cores: the parse child writes its half's rows, the history child the parent's;
    the findings are those of one core, and a later parse of the same versions reads them all back."""
    from opsgov_hooks.check import pipeline

    populate(repo)
    more_records(repo)
    repo.write("ops/operations/OPS-2026-01-40-001.md", declaration_text("OPS-2026-01-40-001"))  # D007
    repo.commit("a bad date")
    monkeypatch.setattr(cache, "PARALLEL_MIN_FILES", 2)
    git = Git(str(repo.path))
    items = sorted(git.ls_tree("HEAD", ["ops"]).items())
    two = sorted(pipeline.check_all(git), key=repr)
    assert len(forks) >= 2 and all(forks)   # the parse child and the history child, at least
    kv._OPEN.clear()
    store_ = cache.cache_for_git(git, default_policy())
    assert store_ is not None
    assert sorted(cache._kept(store_, [f"g\0{path}\0{sha}" for path, sha in items])) == \
        sorted(f"g\0{path}\0{sha}" for path, sha in items)
    store_.close()
    git.close()
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    monkeypatch.setenv("OPSGOV_NO_CACHE", "1")
    kv._OPEN.clear()
    cachestore._OPEN.clear()
    git = Git(str(repo.path))
    one = sorted(pipeline.check_all(git), key=repr)
    git.close()
    assert two == one and "D007" in {f.code for f in one}
