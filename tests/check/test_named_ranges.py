"""A range whose governed commits name their operations is judged without the index of every scope
(check/association.py): on the records its own paths and trailers concern, with exactly the findings
of the full load, cold and warm; a range that relies on coverage, or a clone that cannot tell which
operations are closed, takes the index or the full load instead."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text, init_repo
from opsgov_hooks.check import association, focus, ranges
from opsgov_hooks.speed import kv
from opsgov_hooks.speed import store as cachestore

pytest_plugins = ["conftest_gate"]

A, B, C = "OPS-2026-01-05-001", "OPS-2026-01-06-001", "OPS-2026-01-07-001"
D, E, F = "OPS-2026-01-08-001", "OPS-2026-02-02-001", "OPS-2026-02-09-001"
X, Y, NEW = "OPS-2026-03-30-001", "OPS-2026-03-31-001", "OPS-2026-04-01-001"
OTHERS = [f"OPS-2026-03-{day:02d}-00{n}" for day in range(1, 21) for n in (1, 2)]
JAN, FEB, MAR, APR = (f"ops/ledger/2026-{m:02d}.yaml" for m in (1, 2, 3, 4))


def _entry(op_id: str, **fields: object) -> str:
    day = op_id[4:14]
    fields.setdefault("approval_timestamp", f"{day}T09:00:00Z")
    fields.setdefault("execution_timestamp", f"{day}T10:00:00Z")
    return entry_text(op_id, **fields)


def _declare(repo: Repo, op_id: str, allowed: list[str], name: str | None = None, **fields: object) -> None:
    repo.write(f"ops/operations/{name or op_id}.md", declaration_text(op_id, ALLOWED_PATHS=allowed, **fields))


def _append(repo: Repo, path: str, text: str) -> None:
    repo.write(path, (repo.read(path) if (repo.path / path).exists() else "") + text)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """Overlapping scopes (B and C cover the API), a closed operation (D), one whose entry is filed in
    another month's file (F), one declared without an entry (Y), one whose entry spells its id with a
    YAML escape (X), and 40 unrelated operations."""
    repo = init_repo(tmp_path / "repo")
    for path, text in {"ops/monitoring/prometheus.yml": "a: 1\n", "ops/services/api/deploy.yaml": "r: 2\n",
                       "ops/dashboards/main.json": "{}\n", "ops/services/db/config.yaml": "p: 1\n",
                       "ops/x/app.yaml": "x: 1\n", "ops/y/app.yaml": "y: 1\n", "README.md": "# infra\n"}.items():
        repo.write(path, text)
    repo.commit("initial")
    for op, allowed in ((A, ["ops/monitoring/**"]), (B, ["ops/services/api/**"]), (C, ["ops/services/**"]),
                        (D, ["ops/dashboards/**"]), (E, ["ops/services/db/**"]), (F, ["ops/monitoring/**"]),
                        (X, ["ops/x/**"]), (Y, ["ops/y/**"]), *((op, [f"ops/other/{op.lower()}/**"]) for op in OTHERS)):
        _declare(repo, op, allowed)
    repo.write(JAN, "".join(_entry(op) for op in (A, B, C, D, F)))   # F's entry: February's, in January's file
    repo.write(FEB, _entry(E))
    escaped = _entry(X).replace(f"operation_id: {X}", 'operation_id: "OPS\\x2D2026-03-30-001"')
    repo.write(MAR, "".join(_entry(op) for op in OTHERS) + escaped)
    repo.commit("records")
    repo.git("tag", "-a", D.lower(), "-m", f"{D}: closed\n\n" + _entry(D).removeprefix("---\n"))
    repo.git("checkout", "-q", "-b", "topic")
    return repo


def _commit(repo: Repo, message: str, files: dict[str, str], ops: tuple[str, ...] = ()) -> None:
    for path, text in files.items():
        _append(repo, path, text) if path.startswith("ops/ledger/") else repo.write(path, text)
    repo.commit(message + "".join(f"\n\nOps-Id: {op}" for op in ops))


def _new_operation(repo: Repo) -> None:
    _declare(repo, NEW, ["ops/new/**"])
    repo.commit("declare")
    _commit(repo, "work", {"ops/new/a.yaml": "n: 1\n"}, (NEW,))
    _commit(repo, "record", {APR: _entry(NEW)})


def _merged(repo: Repo) -> None:
    """main moves on (a named operation, recorded) and is merged into the topic, which names its own."""
    _commit(repo, "tune", {"ops/monitoring/prometheus.yml": "a: 2\n"}, (A,))
    repo.git("checkout", "-q", "main")
    _new_operation(repo)
    repo.git("checkout", "-q", "topic")
    repo.git("merge", "-q", "--no-edit", "main")
    _commit(repo, "more", {"ops/new/a.yaml": "n: 2\n"}, (NEW,))


def _frozen(repo: Repo) -> None:
    _declare(repo, E, ["ops/services/**"])
    repo.commit("widen a recorded scope")


# name -> (what the topic does, does every governed commit name its operation?)
SCENARIOS: dict[str, tuple[Callable[[Repo], None], bool]] = {
    "a new operation, declared, done and recorded": (_new_operation, True),
    "a named change outside its scope, covered by untouched operations": (
        lambda r: _commit(r, "api", {"ops/services/api/deploy.yaml": "r: 3\n"}, (A,)), True),
    "a duplicate id brought by the range": (
        lambda r: (_declare(r, B, ["ops/elsewhere/**"], name=f"archive/{B}"), r.commit("archive")), True),
    "a trailer naming a closed operation": (
        lambda r: _commit(r, "dash", {"ops/dashboards/main.json": "{\"a\": 1}\n"}, (D,)), True),
    "an entry filed in another month's untouched file": (
        lambda r: _commit(r, "prom", {"ops/monitoring/prometheus.yml": "a: 3\n"}, (F,)), True),
    "an entry spelled with an escape in an untouched file": (
        lambda r: _commit(r, "x", {"ops/x/app.yaml": "x: 2\n"}, (X,)), True),
    "a named operation without an entry": (lambda r: _commit(r, "y", {"ops/y/app.yaml": "y: 2\n"}, (Y,)), True),
    "an approved scope rewritten": (_frozen, True),
    "main merged into the topic": (_merged, True),
    "a secret in a named change": (
        lambda r: _commit(r, "key", {"ops/monitoring/prometheus.yml": "k: AKIAIOSFODNN7EXAMPLE\n"}, (A,)), True),
    "a commit that names nothing": (lambda r: _commit(r, "db", {"ops/services/db/config.yaml": "p: 2\n"}), False),
    "a trailer naming no declared operation": (
        lambda r: _commit(r, "prom", {"ops/monitoring/prometheus.yml": "a: 4\n"}, ("OPS-2026-05-05-005",)), False),
    "a ledger edit that changes no entry": (lambda r: _commit(r, "note", {FEB: "# a comment\n"}), False),
}


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    monkeypatch.setattr(kv, "_OPEN", {})
    monkeypatch.setattr(focus, "RANGE_MIN_RECORDS", 0)   # the fixture has 49 records


@pytest.fixture
def named(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each range was judged on the records its commits name (and the index never asked)."""
    taken: list[bool] = []
    real_focus, real_all = association.named_focus, association.all_named

    def spy_focus(*args):  # type: ignore[no-untyped-def]
        found = real_focus(*args)
        if found is None:
            taken.append(False)
        return found

    def spy_all(*args):  # type: ignore[no-untyped-def]
        answer = real_all(*args)
        taken.append(answer)
        return answer

    monkeypatch.setattr(ranges, "named_focus", spy_focus)
    monkeypatch.setattr(ranges, "all_named", spy_all)
    return taken


def _run(check, repo: Repo, *args: str, cache: bool = True, cold: bool = False) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    kv._OPEN.clear()
    cachestore._OPEN.clear()
    if cold:
        for kept in (repo.path / ".git" / "opsgov-cache").glob("*"):
            kept.unlink()
    if not cache:
        os.environ["OPSGOV_NO_CACHE"] = "1"
    try:
        status, out, err = check(repo, *args)
    finally:
        os.environ.pop("OPSGOV_NO_CACHE", None)
    assert "Traceback" not in err, err
    return status, out + err


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_named_range_is_judged_as_the_full_load_judges_it(repo: Repo, check, named: list[bool], name: str,  # type: ignore[no-untyped-def]
                                                            fmt: str) -> None:
    build, all_named = SCENARIOS[name]
    build(repo)
    args = ("--range", "main..topic", "--format", fmt)
    full = _run(check, repo, *args, cache=False)
    assert named == [False]                   # caches off: the full load
    assert _run(check, repo, *args, cold=True) == full
    assert _run(check, repo, *args) == full   # warm
    assert named == [False, all_named, all_named]


def test_the_scenarios_find_what_they_are_about(repo: Repo, check) -> None:  # type: ignore[no-untyped-def]
    """The full load's verdicts the narrowing is held to are the ones each scenario sets up."""
    found = {}
    for name, (build, _all_named) in sorted(SCENARIOS.items()):
        repo.git("checkout", "-q", "-B", "topic", "main")
        build(repo)
        status, out = _run(check, repo, "--range", "main..topic", cache=False)
        found[name] = (status, sorted({line.split(": ", 2)[1].split()[0] for line in out.splitlines()
                                       if line.count(": ") >= 2 and not line.startswith("Found ")}))
    assert found == {
        "a new operation, declared, done and recorded": (0, []),
        "a named change outside its scope, covered by untouched operations": (1, ["G004"]),
        "a duplicate id brought by the range": (1, ["D006", "G004", "G021"]),
        "a trailer naming a closed operation": (1, ["G005"]),
        "an entry filed in another month's untouched file": (0, []),
        "an entry spelled with an escape in an untouched file": (0, []),
        "a named operation without an entry": (1, ["G003"]),
        "an approved scope rewritten": (1, ["G021"]),
        "main merged into the topic": (0, []),
        "a secret in a named change": (1, ["G008"]),
        "a commit that names nothing": (0, []),
        "a trailer naming no declared operation": (1, ["G009"]),
        "a ledger edit that changes no entry": (1, ["G001"]),
    }


def test_a_clone_without_tags_takes_the_index(repo: Repo, check, named: list[bool]) -> None:  # type: ignore[no-untyped-def]
    """Without tags the gate cannot take an operation's closing for granted: no narrowing by name."""
    repo.git("tag", "-d", D.lower())
    _commit(repo, "y", {"ops/y/app.yaml": "y: 2\n"}, (Y,))
    full = _run(check, repo, "--range", "main..topic", cache=False)
    assert _run(check, repo, "--range", "main..topic", cold=True) == full
    assert named == [False, False]


def test_the_scan_finds_an_entry_in_a_file_the_range_does_not_touch(repo: Repo, check,  # type: ignore[no-untyped-def]
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """F's entry is in January's file, which the range does not touch: a scan that found nothing
    would report it missing (G003)."""
    _commit(repo, "prom", {"ops/monitoring/prometheus.yml": "a: 3\n"}, (F,))
    full = _run(check, repo, "--range", "main..topic", cache=False)
    assert full[0] == 0
    monkeypatch.setattr(association, "_may_hold", lambda raw, wanted: False)
    blind = _run(check, repo, "--range", "main..topic", cold=True)
    assert blind[0] == 1 and "G003" in blind[1]


def test_the_escape_rule_matters(repo: Repo, check, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """X's entry is spelled with an escape: without the backslash rule the scan would miss it (G003)."""
    _commit(repo, "x", {"ops/x/app.yaml": "x: 2\n"}, (X,))
    full = _run(check, repo, "--range", "main..topic", cache=False)
    assert full[0] == 0
    monkeypatch.setattr(association, "_may_hold", lambda raw, wanted: not wanted.isdisjoint(
        association.ID_BYTES.findall(raw)))
    blind = _run(check, repo, "--range", "main..topic", cold=True)
    assert blind[0] == 1 and "G003" in blind[1]


def test_a_push_that_names_its_operations_is_judged_as_the_full_load_judges_it(  # type: ignore[no-untyped-def]
        repo: Repo, check, named: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    _new_operation(repo)
    _commit(repo, "api", {"ops/services/api/deploy.yaml": "r: 3\n"}, (A,))
    old, new = repo.git("rev-parse", "main").strip(), repo.git("rev-parse", "topic").strip()
    repo.git("checkout", "-q", "--detach", old)
    repo.git("update-ref", "-d", "refs/heads/topic")      # what the server does not have yet
    outputs = []
    for cache, cold in ((False, False), (True, True), (True, False)):
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{old} {new} refs/heads/main\n"))
        outputs.append(_run(check, repo, "--pre-receive", cache=cache, cold=cold))
    assert outputs[0][0] == 1 and "G004" in outputs[0][1]
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]
    assert named == [False, True, True]
