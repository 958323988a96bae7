"""The record index: a staged change that touches no record is judged on the records it needs,
with exactly the findings the full load gives, cold, warm, and with the index damaged."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text, init_repo
from opsgov_hooks.check import change_records, focus
from opsgov_hooks.speed import kv, record_index
from opsgov_hooks.speed import store as cachestore

pytest_plugins = ["conftest_gate"]

A, B, C = "OPS-2026-01-05-001", "OPS-2026-01-06-001", "OPS-2026-01-07-001"
D, E, F = "OPS-2026-01-08-001", "OPS-2026-02-02-001", "OPS-2026-02-03-001"
G, H, I = "OPS-2026-02-04-001", "OPS-2026-02-05-001", "OPS-2026-02-06-001"
OTHERS = [f"OPS-2026-03-{day:02d}-00{n}" for day in range(1, 29) for n in (1, 2)]


def _entry(op_id: str, **fields: object) -> str:
    day = op_id[4:14]
    fields.setdefault("approval_timestamp", f"{day}T09:00:00Z")
    fields.setdefault("execution_timestamp", f"{day}T10:00:00Z")
    return entry_text(op_id, **fields)


def _declare(repo: Repo, op_id: str, allowed: list[str], name: str | None = None, **fields: object) -> None:
    repo.write(f"ops/operations/{name or op_id}.md", declaration_text(op_id, ALLOWED_PATHS=allowed, **fields))


@pytest.fixture
def governed(tmp_path: Path) -> Repo:
    """Operations shaped like a real repository's: overlapping scopes, a closed one, an open one
    without an entry, an entry filed in another month, a duplicate id, an invalid record, a
    pattern that matches at any depth, and 56 unrelated operations."""
    repo = init_repo(tmp_path / "repo")
    repo.write("README.md", "# infra\n")
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 15s\n")
    repo.write("ops/services/api/deploy.yaml", "replicas: 2\n")
    repo.write("ops/dashboards/main.json", '{"title": "main"}\n')
    repo.write("ops/services/db/config.yaml", "pool: 10\n")
    repo.write("ops/alerts/disk.rules", "expr: disk > 90\n")
    repo.write("docs/runbooks/restore.md", "# restore\n")
    repo.commit("initial")
    _declare(repo, A, ["ops/monitoring/**"])
    _declare(repo, B, ["ops/services/api/**"])
    _declare(repo, C, ["ops/services/**"])
    _declare(repo, D, ["ops/dashboards/**"])
    _declare(repo, E, ["ops/services/db/**"])
    _declare(repo, F, ["ops/monitoring/**", "ops/dashboards/**"])
    _declare(repo, G, ["ops/services/api/**"])
    _declare(repo, G, ["ops/monitoring/**"], name=f"archive/{G}")   # a second record under G's id (D006)
    _declare(repo, H, ["ops/services/api/**"], RISK_CLASS="lowercase")     # invalid
    _declare(repo, I, ["*.rules"])
    for op in OTHERS:
        _declare(repo, op, [f"ops/other/{op.lower()}/**"])
    january = "".join(_entry(op) for op in (A, B, C, D))
    february = "".join(_entry(op) for op in (G, H, I))
    february += _entry(E.replace("02-02", "02-07"), rollback_ref="'procedure: docs/runbooks/restore.md'")
    repo.write("ops/ledger/2026-01.yaml", january + _entry(F))            # F filed in January's file
    repo.write("ops/ledger/2026-02.yaml", february)
    repo.write("ops/ledger/2026-03.yaml", "".join(_entry(op) for op in OTHERS))
    repo.commit("records")
    message = f"{D}: closed\n\n" + _entry(D).removeprefix("---\n")
    repo.git("tag", "-a", D.lower(), "-m", message)
    return repo


@pytest.fixture(autouse=True, params=["records parsed", "records read from their front matter"])
def _fresh_process(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Each test twice: the index summarising these 66 records by parsing them (below
    LIGHT_MIN_RECORDS, as here) and by reading their front matter (as 10,000 are)."""
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    monkeypatch.setattr(kv, "_OPEN", {})
    if request.param == "records read from their front matter":
        monkeypatch.setattr(record_index, "LIGHT_MIN_RECORDS", 0)


def _run(check, repo: Repo, *args: str, cache: bool = True) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    kv._OPEN.clear()
    cachestore._OPEN.clear()
    if cache:
        os.environ.pop("OPSGOV_NO_CACHE", None)
    else:
        os.environ["OPSGOV_NO_CACHE"] = "1"
    try:
        status, out, err = check(repo, *args)
    finally:
        os.environ.pop("OPSGOV_NO_CACHE", None)
    assert "Traceback" not in err, err
    return status, out + err


CHANGES = {
    "covered by an open operation": {"ops/monitoring/prometheus.yml": "scrape_interval: 30s\n"},
    "covered by two, one of them a duplicate id": {"ops/services/api/deploy.yaml": "replicas: 3\n"},
    "covered only by a closed operation": {"ops/dashboards/main.json": '{"title": "new"}\n'},
    "covered by an operation without an entry": {"ops/services/db/config.yaml": "pool: 20\n"},
    "covered by nothing": {"ops/unknown/thing.yaml": "x: 1\n"},
    "matched by a pattern at any depth": {"ops/alerts/disk.rules": "expr: disk > 95\n"},
    "a secret in an added line": {"ops/monitoring/prometheus.yml": "aws_key: AKIAIOSFODNN7EXAMPLE\n"},
    "several at once": {"ops/monitoring/prometheus.yml": "a: 1\n", "ops/dashboards/main.json": "{}\n",
                        "ops/other/ops-2026-03-05-001/x.yaml": "y: 2\n", "src/app.py": "print(1)\n"},
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_the_focused_check_finds_what_the_full_load_finds(governed: Repo, check, name: str) -> None:  # type: ignore[no-untyped-def]
    for path, text in CHANGES[name].items():
        governed.write(path, text)
    governed.stage()
    full = _run(check, governed, "--staged", cache=False)
    cold = _run(check, governed, "--staged")
    warm = _run(check, governed, "--staged")
    assert cold == full
    assert warm == full


def test_it_reads_only_the_records_the_change_needs(governed: Repo, check, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    governed.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    governed.stage()
    _run(check, governed, "--staged")   # builds the index
    loaded: list[list[str]] = []
    real = change_records.RecordCache.load

    def spy(self: change_records.RecordCache, files):  # type: ignore[no-untyped-def]
        loaded.append(sorted(files))
        return real(self, files)

    monkeypatch.setattr(change_records.RecordCache, "load", spy)
    status, out = _run(check, governed, "--staged")
    assert status == 0, out
    # A and F cover ops/monitoring/; G's second record covers it too, so both of G's records come.
    assert [files for files in loaded if files] == [
        sorted(f"ops/operations/{name}.md" for name in (A, F, G, f"archive/{G}"))]


def test_a_removed_path_takes_the_full_load(governed: Repo, check, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[object] = []
    real = focus.RecordIndex.open
    monkeypatch.setattr(focus.RecordIndex, "open", lambda *a: calls.append(a) or real(*a))
    governed.git("rm", "-q", "--cached", "ops/services/db/config.yaml")   # a removal: a procedure may go
    assert _run(check, governed, "--staged") == _run(check, governed, "--staged", cache=False)
    assert calls == []


def _append(repo: Repo, path: str, text: str) -> None:
    repo.write(path, repo.read(path) + text)


def _replace(repo: Repo, path: str, old: str, new: str) -> None:
    text = repo.read(path)
    assert old in text, old
    repo.write(path, text.replace(old, new, 1))


NEW = "OPS-2026-02-10-001"
RECORD_CHANGES = {
    "an entry's notes grow": lambda r: _replace(r, "ops/ledger/2026-03.yaml", "outcome: SUCCESS\n",
                                               "outcome: SUCCESS\nnotes: checked again\n"),
    "an entry's outcome is rewritten": lambda r: _replace(r, "ops/ledger/2026-01.yaml", "outcome: SUCCESS",
                                                         "outcome: FAILED"),
    "an entry is removed": lambda r: r.write("ops/ledger/2026-03.yaml", "".join(_entry(op) for op in OTHERS[1:])),
    "the missing entry is recorded": lambda r: _append(r, "ops/ledger/2026-02.yaml", _entry(E)),
    "a new operation, declared, recorded and carried out": lambda r: (
        _declare(r, NEW, ["ops/new/**"]), _append(r, "ops/ledger/2026-02.yaml", _entry(NEW)),
        r.write("ops/new/thing.yaml", "a: 1\n")),
    "an approved scope is widened": lambda r: _declare(r, B, ["ops/services/**"]),
    "a duplicate declaration in a sub-folder": lambda r: _declare(r, A, ["ops/**"], name=f"old/{A}"),
    "a record made invalid": lambda r: _declare(r, C, ["ops/services/**"], RISK_CLASS="nope"),
    "a closed operation's rollback is recorded": lambda r: (
        _replace(r, "ops/ledger/2026-01.yaml", f"operation_id: {D}\n", f"operation_id: {D}\n"),
        _replace(r, "ops/ledger/2026-01.yaml", "outcome: SUCCESS\n---\noperation_id: OPS-2026-02-03",
                 "outcome: ROLLBACK\n---\noperation_id: OPS-2026-02-03"),
        r.write("ops/dashboards/main.json", '{"title": "main"}\n')),
    "an approval record is added": lambda r: r.write(f"ops/approvals/{B}.yaml", "operation_id: x\n"),
}


@pytest.mark.parametrize("name", sorted(RECORD_CHANGES))
def test_a_change_of_records_is_judged_as_the_full_load_judges_it(governed: Repo, check, name: str,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = focus.RecordIndex.open
    monkeypatch.setattr(focus.RecordIndex, "open", lambda *a: calls.append(a) or real(*a))
    RECORD_CHANGES[name](governed)
    governed.stage()
    full = _run(check, governed, "--staged", cache=False)
    assert _run(check, governed, "--staged") == full
    assert _run(check, governed, "--staged") == full
    assert calls   # the index answered


@pytest.mark.parametrize("trailers", [[B], [G], [H], ["OPS-2099-01-01-001"], [A, "OPS-2026-03-07-002"]])
def test_trailers_at_the_commit_msg_stage(governed: Repo, check, tmp_path: Path, trailers: list[str]) -> None:  # type: ignore[no-untyped-def]
    governed.write("ops/services/api/deploy.yaml", "replicas: 4\n")
    governed.stage()
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text("scale the api\n\n" + "".join(f"Ops-Id: {t}\n" for t in trailers))
    full = _run(check, governed, "--commit-msg", str(message), cache=False)
    assert _run(check, governed, "--commit-msg", str(message)) == full
    assert _run(check, governed, "--commit-msg", str(message)) == full


def test_a_new_declaration_commit_updates_the_index_from_the_last_one(governed: Repo, check) -> None:  # type: ignore[no-untyped-def]
    governed.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    governed.stage()
    _run(check, governed, "--staged")
    governed.git("reset", "-q", "--hard")
    late = "OPS-2026-02-09-001"
    _declare(governed, late, ["ops/late/**"])
    governed.write("ops/ledger/2026-02.yaml", governed.read("ops/ledger/2026-02.yaml") + _entry(late))
    governed.commit("declare and record a late operation")
    governed.write("ops/late/new.yaml", "z: 1\n")
    governed.stage()
    assert _run(check, governed, "--staged") == _run(check, governed, "--staged", cache=False) == (0, "")


def _index_files(repo: Repo) -> list[Path]:
    return sorted((repo.path / ".git" / "opsgov-cache").glob("*.sqlite"))


@pytest.mark.parametrize("damage", ["truncate", "garble", "zero", "foreign"])
def test_a_damaged_store_never_changes_the_verdict(governed: Repo, check, damage: str) -> None:  # type: ignore[no-untyped-def]
    governed.write("ops/dashboards/main.json", '{"title": "new"}\n')
    governed.write("ops/services/api/deploy.yaml", "replicas: 3\n")
    governed.stage()
    full = _run(check, governed, "--staged", cache=False)
    assert _run(check, governed, "--staged") == full
    files = _index_files(governed)
    # The index and the parsed records (and the secret screen's store, when this test process had not
    # loaded detect-secrets before): each damaged below.
    assert {"index", "records"} <= {path.name.split("-")[0] for path in files}
    rng = random.Random(damage)
    for path in files:
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 3]
        elif damage == "garble":
            for _ in range(200):
                data[rng.randrange(100, len(data))] = rng.randrange(256)
        elif damage == "zero":
            data[4096:] = bytes(len(data) - 4096)
        else:
            data = bytearray(b"SQLite format 3\0" + bytes(200))
        path.write_bytes(bytes(data))
    assert _run(check, governed, "--staged") == full
    assert _run(check, governed, "--staged") == full   # and again, on whatever the last run rebuilt


# -- ranges: every commit judged on the records the range can concern ----------------------

@pytest.fixture
def branched(governed: Repo) -> Repo:
    """A topic branch with merges both ways: main moves on (a new operation, declared, recorded,
    carried out) and is merged in; a feature branch is merged with --no-ff; the topic records,
    rewrites and grows entries, touches uncovered and closed paths, and names operations in trailers."""
    repo = governed
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 20s\n")
    repo.commit(f"tune scrape\n\nOps-Id: {A}")
    repo.git("checkout", "-q", "main")
    late = "OPS-2026-02-11-001"
    _declare(repo, late, ["ops/late/**"])
    repo.commit("declare late")
    repo.write("ops/late/app.yaml", "a: 1\n")
    _append(repo, "ops/ledger/2026-02.yaml", _entry(late))
    repo.commit(f"late work\n\nOps-Id: {late}")
    repo.git("checkout", "-q", "topic")
    repo.git("merge", "-q", "--no-edit", "main")
    repo.write("ops/late/app.yaml", "a: 2\n")
    repo.commit(f"more late work\n\nOps-Id: {late}")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("ops/services/api/deploy.yaml", "replicas: 5\n")
    repo.commit(f"scale\n\nOps-Id: {B}")
    repo.git("checkout", "-q", "topic")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature")
    _replace(repo, "ops/ledger/2026-03.yaml", "outcome: SUCCESS\n", "outcome: SUCCESS\nnotes: checked\n")
    repo.commit("grow a note")
    _replace(repo, "ops/ledger/2026-01.yaml", "changes_summary: scrape_interval 15s -> 30s",
             "changes_summary: rewritten")
    repo.commit("rewrite an entry")
    repo.write("ops/unknown/thing.yaml", "x: 1\n")
    repo.write("ops/dashboards/main.json", '{"title": "again"}\n')
    repo.commit("uncovered and closed")
    _declare(repo, NEW, ["ops/new/**"])
    repo.write("ops/new/thing.yaml", "n: 1\n")
    repo.commit(f"declare and use\n\nOps-Id: {NEW}")
    _declare(repo, E, ["ops/services/**"])
    repo.commit("widen an unrecorded scope")
    return repo


def _narrowed(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Narrow every range, however few its records (the fixture has 66), and note each narrowing."""
    calls: list[object] = []
    real = focus.RecordIndex.needed
    monkeypatch.setattr(focus, "RANGE_MIN_RECORDS", 0)
    monkeypatch.setattr(focus.RecordIndex, "needed", lambda *a: calls.append(a) or real(*a))
    return calls


@pytest.mark.parametrize("spec", ["main..topic", "main~1..topic", "topic~3..topic", "feature~1..topic"])
def test_a_range_is_judged_as_the_full_load_judges_it(branched: Repo, check, spec: str,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _narrowed(monkeypatch)
    full = _run(check, branched, "--range", spec, cache=False)
    assert full[0] == 1 and full[1].count(": G") >= 2, full
    assert _run(check, branched, "--range", spec) == full
    assert _run(check, branched, "--range", spec) == full
    assert calls


def test_a_range_that_removes_a_path_takes_the_full_load(branched: Repo, check,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    branched.git("rm", "-q", "docs/runbooks/restore.md")
    branched.commit("drop a runbook")
    calls = _narrowed(monkeypatch)
    full = _run(check, branched, "--range", "main..topic", cache=False)
    assert _run(check, branched, "--range", "main..topic") == full
    assert calls == []


def test_a_range_over_few_records_takes_the_full_load(branched: Repo, check,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = focus.RecordIndex.needed
    monkeypatch.setattr(focus.RecordIndex, "needed", lambda *a: calls.append(a) or real(*a))
    assert focus.RANGE_MIN_RECORDS > 66
    full = _run(check, branched, "--range", "main..topic", cache=False)
    assert _run(check, branched, "--range", "main..topic") == full
    assert calls == []


def test_a_push_is_judged_as_the_full_load_judges_it(branched: Repo, check,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    old, new = branched.git("rev-parse", "main").strip(), branched.git("rev-parse", "topic").strip()
    update = f"{old} {new} refs/heads/main\n"
    branched.git("checkout", "-q", "--detach", old)
    branched.git("update-ref", "-d", "refs/heads/topic")      # what the server does not have yet
    branched.git("update-ref", "-d", "refs/heads/feature")
    calls = _narrowed(monkeypatch)
    outputs = []
    for cache in (False, True, True):
        monkeypatch.setattr("sys.stdin", io.StringIO(update))
        outputs.append(_run(check, branched, "--pre-receive", cache=cache))
    assert outputs[0][0] == 1 and outputs[1] == outputs[0] and outputs[2] == outputs[0]
    assert calls


def test_a_staged_check_lists_tags_by_name_and_reads_in_full_only_those_it_answers_for(  # type: ignore[no-untyped-def]
        governed: Repo, check, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsgov_hooks.git.tags import Tags

    read_in_full: list[list[str]] = []
    real = Tags.complete_tags

    def spy(self, tags, names):  # type: ignore[no-untyped-def]
        completed = real(self, tags, names)
        read_in_full.append(sorted(t.name for t in completed if t.complete))
        return completed

    monkeypatch.setattr(Tags, "complete_tags", spy)
    governed.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")   # D's entry is not touched
    governed.stage()
    assert _run(check, governed, "--staged") == _run(check, governed, "--staged", cache=False)
    assert all(names == [] for names in read_in_full)   # no tag read in full (the change answers for none)
    governed.git("reset", "-q")
    _replace(governed, "ops/ledger/2026-01.yaml", "changes_summary: scrape_interval 15s -> 30s\nrollback_ref: "
             "'command: git revert HEAD'\noutcome: SUCCESS\n---\noperation_id: OPS-2026-02-03",
             "changes_summary: rewritten\nrollback_ref: 'command: git revert HEAD'\noutcome: SUCCESS\n---\n"
             "operation_id: OPS-2026-02-03")   # D's entry, which its tag sealed
    governed.stage()
    read_in_full.clear()
    full = _run(check, governed, "--staged", cache=False)
    assert "T005" in full[1] or "H002" in full[1], full
    assert _run(check, governed, "--staged") == full
    assert [D.lower()] in read_in_full


# -- summaries read without a full parse -------------------------------------------------------

def _full_facts(kind: str, path: str, raw: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from opsgov_hooks.policy.config import default_policy
    from opsgov_hooks.records.store import RecordSet, parse_record_file

    records = RecordSet()
    parse_record_file(path, raw, default_policy(), records)
    return record_index._facts(kind, path, records)


RECORDS = {
    "valid": declaration_text(A, ALLOWED_PATHS=["ops/monitoring/**", "'*.rules'", "ops/dashboards/x.json"]),
    "a pattern in a form the loader refuses": declaration_text(A, ALLOWED_PATHS=["ops/a/**", "/ops/b/x.json"]),
    "invalid class": declaration_text(A, ALLOWED_PATHS=["ops/services/api/**"], RISK_CLASS="lowercase"),
    "named after another id": declaration_text(B, ALLOWED_PATHS=["ops/services/**"]),
    "a negation": declaration_text(A, ALLOWED_PATHS=["ops/**", "'!ops/secret/**'"]),
    "an alias, not a pattern": declaration_text(A, ALLOWED_PATHS=["ops/**", "*.rules"]),   # YAML refuses it
    "quoted patterns": declaration_text(A).replace("ALLOWED_PATHS:\n", "ALLOWED_PATHS:\n  - 'ops/q/**'\n", 1),
}


@pytest.mark.parametrize("name", sorted(set(RECORDS) - {"an alias, not a pattern"}))
def test_a_record_read_from_its_front_matter_names_what_its_parse_names_and_maybe_more(name: str) -> None:
    path = f"ops/operations/{A}.md"
    raw = RECORDS[name].encode()
    light = record_index._declaration_facts(path, raw)
    full = _full_facts("operations", path, raw)
    assert light is not None
    assert light[0] == full[0] == (A,)                      # ids: the file's stem, as the parse gives
    assert set(light[1]) >= set(full[1])                    # directories: a superset
    if name in ("valid", "a negation", "quoted patterns"):
        assert light[1] == full[1] and full[1]              # a valid record: exactly the same


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbf" + declaration_text(A).encode(),                      # a byte order mark
    declaration_text(A).replace("\n", "\r\n").encode(),                 # CRLF
    declaration_text(A).encode().replace(b"Tune", b"Tun\xe9"),          # not UTF-8
    declaration_text(A).replace("ALLOWED_PATHS:\n", "ALLOWED_PATHS: [ops/x/**]\nX:\n", 1).encode(),  # flow
    declaration_text(A).replace("ALLOWED_PATHS:\n", "ALLOWED_PATHS: ops/x/**\nX:\n", 1).encode(),   # a string
    declaration_text(A).replace("---\n", "---\nRISK_CLASS: HIGH\n", 1).encode(),                  # a duplicate key
    b"# no front matter\n",
    b"",
], ids=["bom", "crlf", "latin-1", "flow list", "not a list", "duplicate key", "no front matter", "empty"])
def test_a_record_the_fast_path_refuses_is_parsed(raw: bytes) -> None:
    assert record_index._declaration_facts(f"ops/operations/{A}.md", raw) is None


def test_a_month_file_read_from_its_bytes_names_every_entry_its_parse_names() -> None:
    path = "ops/ledger/2026-03.yaml"
    text = "".join(_entry(op, changes_summary=f"follows {A}") for op in OTHERS[:6])
    light = record_index._ledger_ids(text.encode())
    full = _full_facts("ledger", path, text.encode())
    assert light is not None and set(light[0]) >= set(full[0]) and set(full[0]) == set(OTHERS[:6])
    assert A in light[0]                                     # named in a text field: an extra candidate
    escaped = text.replace(f"operation_id: {OTHERS[0]}", 'operation_id: "OPS-2026-03-01\\x2d001"')
    assert record_index._ledger_ids(escaped.encode()) is None      # an escape could spell an id: parsed
    for other in (text.replace(f"operation_id: {OTHERS[1]}", f"operation_id: |\n  {OTHERS[1]}"),   # invalid
                  text.replace("\n", "\r\n"),
                  text.replace("changes_summary: ", "changes_summary: 'unclosed ", 1)):   # swallows the next '---': fewer entries
        light = record_index._ledger_ids(other.encode())
        full = _full_facts("ledger", path, other.encode())
        assert light is not None and set(light[0]) >= set(full[0])


def test_the_entries_of_some_operations_are_those_the_whole_parse_gives() -> None:
    from opsgov_hooks.records.ledger import entries_for, parse_ledger_yaml

    path = "ops/ledger/2026-03.yaml"
    bad = OTHERS[3]
    text = "".join(_entry(op, changes_summary=f"after {OTHERS[0]}") if op != bad else _entry(op, outcome="MAYBE")
                   for op in OTHERS[:8])
    whole, _findings = parse_ledger_yaml(path, text.encode())
    for ids in (OTHERS[:1], OTHERS[2:5], OTHERS[:8], [A]):   # named in a text field, invalid, all, absent
        part = entries_for(path, text.encode(), frozenset(ids))
        expected = [e for e in whole if e.operation_id in ids]
        assert part is not None and [(e, e.positions) for e in part] == [(e, e.positions) for e in expected]
    assert bad not in {e.operation_id for e in whole}     # the invalid entry is in neither
    # What the fast path does not read whole is parsed whole instead: an unclosed quote that swallows
    # the next '---' (the whole parse then keeps no entry after it), a block scalar, CRLF, a duplicate
    # key. Whatever the answer, it is never other than the whole parse's.
    unclosed = text.replace("changes_summary: ", "changes_summary: 'unclosed ", 1)
    assert [e.operation_id for e in parse_ledger_yaml(path, unclosed.encode())[0]] == []
    ids = frozenset(OTHERS[:2] + [bad])
    listed = text.replace(f"operation_id: {OTHERS[1]}", f"operation_id:\n  - {OTHERS[1]}")   # a list: no crash
    part = entries_for(path, listed.encode(), ids)
    assert part is not None and [e.operation_id for e in part] == \
        [e.operation_id for e in parse_ledger_yaml(path, listed.encode())[0] if e.operation_id in ids]
    variants = {"unclosed": unclosed,
                "block": text.replace(f"operation_id: {OTHERS[1]}", f"operation_id: |\n  {OTHERS[1]}"),
                "crlf": text.replace("\n", "\r\n"),
                "duplicate": text.replace("outcome: MAYBE", "outcome: SUCCESS\noutcome: SUCCESS"),
                "backslash in a plain scalar": text.replace("after", 'after "x\\u0041"')}
    for name, other in variants.items():
        part = entries_for(path, other.encode(), ids)
        expected = [e for e in parse_ledger_yaml(path, other.encode())[0] if e.operation_id in ids]
        if name == "backslash in a plain scalar":   # plain: no escapes, read whole by the fast path
            assert part is not None and [(e, e.positions) for e in part] == [(e, e.positions) for e in expected]
        else:
            assert part is None, name
