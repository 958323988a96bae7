"""The keyed SQLite store: what it serves is what was put, or nothing; damage is a miss, never an error."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from opsgov_hooks.speed.kv import KeyValue


def _store(tmp_path: Path) -> KeyValue:
    return KeyValue(str(tmp_path / "cache"), "records", "abc")


def _fill(tmp_path: Path) -> dict[str, object]:
    values = {f"k{i}": (f"v{i}", i, (1.5, None, b"x"), {"nested": [i]}) for i in range(1200)}
    store = _store(tmp_path)
    for key, value in values.items():
        store.put(key, value)
    store.save()
    store.close()
    return values


def test_what_is_put_is_served_after_a_save_and_only_that(tmp_path: Path) -> None:
    values = _fill(tmp_path)
    store = _store(tmp_path)
    asked = [*values, "missing"]
    got = store.get_many(asked)
    assert got == {k: tuple(v) if isinstance(v, tuple) else v for k, v in values.items()}
    assert store.get("missing") is None
    store.drop("k1")
    store.save()
    assert _store(tmp_path).get("k1") is None and _store(tmp_path).get("k2") == values["k2"]


def test_pending_writes_are_served_before_the_save(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("a", [1, 2])
    assert store.get("a") == [1, 2]
    assert not os.path.exists(store.file)   # nothing written until save()


def test_something_that_is_not_plain_data_is_never_kept(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("a", object())
    store.save()
    assert store.get("a") is None


def test_a_row_changed_behind_its_back_is_a_miss(tmp_path: Path) -> None:
    _fill(tmp_path)
    path = _store(tmp_path).file
    with sqlite3.connect(path) as db:
        value = db.execute("SELECT value FROM kv WHERE key = 'k5'").fetchone()[0]
        db.execute("UPDATE kv SET value = ? WHERE key = 'k6'", (value,))           # k5's value under k6
        db.execute("UPDATE kv SET value = ? WHERE key = 'k7'", (value[:-1] + b"?",))  # one byte changed
        db.execute("UPDATE kv SET value = ? WHERE key = 'k8'", (b"short",))
    got = _store(tmp_path).get_many(["k5", "k6", "k7", "k8", "k9"])
    assert sorted(got) == ["k5", "k9"]


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbled", "not sqlite", "other format"])
def test_a_damaged_file_is_a_miss_and_is_rebuilt(tmp_path: Path, damage: str) -> None:
    values = _fill(tmp_path)
    path = Path(_store(tmp_path).file)
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbled":
        path.write_bytes(data[:100] + bytes(b ^ 0x5A for b in data[100:]))
    elif damage == "not sqlite":
        path.write_bytes(b"\x00\xff" * 5000)
    else:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = '999' WHERE name = 'format'")
    store = _store(tmp_path)
    got = store.get_many(values)
    assert all(got[k] == v for k, v in got.items() if k in values)   # whatever is served is right...
    if damage != "truncated":
        assert got == {}                                               # ...and here nothing can be
    store.put("fresh", 1)
    store.save()
    rebuilt = _store(tmp_path)
    assert rebuilt.get("fresh") == 1 or not path.exists()


def test_a_database_locked_by_another_process_is_left_alone(tmp_path: Path) -> None:
    _fill(tmp_path)
    path = _store(tmp_path).file
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = _store(tmp_path)
        assert store.get("k1") is None      # cannot read now: a miss
        store.put("new", 1)
        store.save()                        # cannot write now: skipped
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert os.path.exists(path)             # busy is not damage: the file stays
    assert _store(tmp_path).get("k1") is not None


def test_a_new_fingerprint_removes_the_old_files_of_the_kind(tmp_path: Path) -> None:
    _fill(tmp_path)
    (tmp_path / "cache" / "records-old.bin").write_bytes(b"old snapshot")
    (tmp_path / "cache" / "index-abc.sqlite").write_bytes(b"another kind")
    newer = KeyValue(str(tmp_path / "cache"), "records", "def")
    newer.put("a", 1)
    newer.save()
    assert sorted(os.listdir(tmp_path / "cache")) == ["index-abc.sqlite", "records-def.sqlite"]


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    values = _fill(tmp_path)
    store = _store(tmp_path)
    assert store.get("k3") == values["k3"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child reads through the same object
        os.close(read)
        ok = store.get("k4") == values["k4"]
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert store.get("k5") == values["k5"]


def test_a_store_past_its_size_limit_is_dropped_and_starts_afresh(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from opsgov_hooks.speed import kv

    monkeypatch.setattr(kv, "MAX_BYTES", 128 * 1024)   # an empty store is a few 16 KiB pages
    store = _store(tmp_path)
    store.put("small", 1)
    store.save()
    assert os.path.exists(store.file)
    store = _store(tmp_path)
    for i in range(400):
        store.put(f"big{i}", "x" * 1000)
    store.save()
    assert not os.path.exists(store.file)   # too big: gone, nothing stale is served
    again = _store(tmp_path)
    again.put("small", 2)
    again.save()
    assert _store(tmp_path).get("small") == 2


def test_without_sqlite_nothing_is_kept_and_checks_still_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             run_cli) -> None:  # type: ignore[no-untyped-def]
    """A Python built without SQLite: the stores are off, the answers are the same."""
    from conftest import init_repo
    from opsgov_hooks.speed import kv

    repo = init_repo(tmp_path / "repo")
    repo.write("ops/monitoring/prometheus.yml", "a: 1\n")
    repo.commit("initial")
    repo.write("ops/monitoring/prometheus.yml", "a: 2\n")
    repo.stage()
    with_store = run_cli("check", "-C", str(repo.path), "--staged")
    monkeypatch.setattr(kv, "HAVE_SQLITE", False)
    monkeypatch.setattr(kv, "_OPEN", {})
    assert run_cli("check", "-C", str(repo.path), "--staged") == with_store
    assert with_store[0] == 1 and "G001" in with_store[1]
