"""Tag consistency: every ops-* tag is an honest seal of the ledger entry, checked in real repositories."""
from __future__ import annotations

from conftest import Repo, entry_text
from lifecycle_helpers import OP, declare, history, record_args

pytest_plugins = ["conftest_lifecycle"]

TAG = "ops-2026-01-27-001"
REF = f"refs/tags/{TAG}"
LEDGER = "ops/ledger/2026-01.yaml"
BODY = entry_text(OP).removeprefix("---\n")


def _closed(repo: Repo, run_cli) -> str:  # type: ignore[no-untyped-def]
    """Record OP with the fixture's defaults, commit, close it with opsgov tag; the tagged commit."""
    repo.write(LEDGER, entry_text(OP))
    head = repo.commit("record")
    assert run_cli("tag", OP)[0] == 0
    return head


def _all(repo: Repo) -> list[str]:
    head = repo.head()
    return history(repo, head, head, mode="all")


def test_a_closed_operation_is_consistent(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    _closed(declared, run_cli)
    declared.commit("later work")
    assert _all(declared) == []


def test_lightweight_tag(declared: Repo) -> None:
    declared.write(LEDGER, entry_text(OP))
    declared.commit("record")
    declared.git("tag", TAG)
    assert _all(declared) == [
        f"{REF}:1:1: T001 tag {TAG} is lightweight; an ops tag must be annotated and carry the entry (fix: git tag -d "
        f"{TAG}, then close the operation with 'opsgov tag {OP}')"]


def test_tag_object_renamed_or_copied(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    _closed(declared, run_cli)
    declared.git("update-ref", "refs/tags/ops-2026-01-27-002", declared.git("rev-parse", TAG).strip())
    assert _all(declared) == [
        "refs/tags/ops-2026-01-27-002:1:1: T003 tag ops-2026-01-27-002 is a tag object named "
        f"'{TAG}': renamed or copied (fix: delete it and re-create it with 'opsgov tag OPS-2026-01-27-002')",
        f"refs/tags/ops-2026-01-27-002:3:1: T004 tag ops-2026-01-27-002 carries the entry of {OP}"]


def test_tag_names_that_are_not_operation_ids(declared: Repo) -> None:
    declared.commit("x")
    declared.git("tag", "-a", "-m", "release", "ops-tools-v1")
    declared.git("tag", "-a", "-m", f"{OP}\n\n{BODY}", "ops-2026-02-30-001")
    assert _all(declared) == [
        "refs/tags/ops-2026-02-30-001:1:1: T004 tag ops-2026-02-30-001 is not named ops-<operation id in lower case> "
        "(fix: ops-* tags are reserved for operations: rename or delete this tag)",
        "refs/tags/ops-tools-v1:1:1: T004 tag ops-tools-v1 is not named ops-<operation id in lower case> (fix: ops-* "
        "tags are reserved for operations: rename or delete this tag)"]


def test_tag_without_an_entry(declared: Repo) -> None:
    declared.write(LEDGER, entry_text(OP))
    declared.commit("record")
    declared.git("tag", "-a", "-m", "closed, see the ledger", TAG)
    assert _all(declared) == [f"{REF}:1:1: L009 the tag message carries no ledger entry (fix: recreate the tag "
                              "with 'opsgov tag', which writes the entry into its message)"]


def test_ledger_changed_after_the_tag(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    _closed(declared, run_cli)
    declared.write(LEDGER, entry_text(OP, changes_summary="'scrape_interval 15s -> 60s'"))
    declared.commit("edit the sealed entry")
    assert _all(declared) == [
        f"{LEDGER}:10:18: T005 {OP}: the ledger differs from the entry sealed in tag {TAG}: field 'changes_summary' "
        "changed from 'scrape_interval 15s -> 30s' to 'scrape_interval 15s -> 60s' (fix: a sealed entry may only "
        "move on by 'opsgov ledger rollback')"]


def test_a_rollback_after_the_tag_is_consistent(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    _closed(declared, run_cli)
    assert run_cli("ledger", "rollback", OP, "--at", "2026-01-28T09:00:00Z", "--evidence", "reverted")[0] == 0
    declared.commit("rollback")
    assert _all(declared) == []


def test_entry_removed_from_the_ledger_after_the_tag(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    _closed(declared, run_cli)
    declared.write(LEDGER, "# nothing here\n")
    declared.commit("drop the entry")
    assert _all(declared) == [
        f"{REF}:1:1: T005 tag {TAG} seals {OP}, but the ledger has no entry for it (fix: the ledger is append-only: "
        "restore the entry)"]


def test_tag_on_a_commit_without_the_entry(declared: Repo) -> None:
    bare = declared.head()
    declared.write(LEDGER, entry_text(OP))
    declared.commit("record")
    declared.git("tag", "-a", "-m", f"{OP}: t\n\n{BODY}", TAG, bare)
    assert _all(declared) == [
        f"{REF}:1:1: T006 tag {TAG} points at commit {bare[:12]}, whose {LEDGER} holds no entry for {OP} (fix: tag "
        "the commit that records the ledger entry)"]


def test_tag_sealing_an_entry_the_commit_does_not_hold(declared: Repo) -> None:
    declared.write(LEDGER, entry_text(OP))
    declared.commit("record")
    forged = entry_text(OP, approved_by="carol@example.com").removeprefix("---\n")
    declared.git("tag", "-a", "-m", f"{OP}: t\n\n{forged}", TAG)
    lines = _all(declared)
    assert lines == [
        f"{LEDGER}:5:14: T005 {OP}: the ledger differs from the entry sealed in tag {TAG}: field 'approved_by' changed "
        "from 'carol@example.com' to 'bob@example.com' (fix: a sealed entry may only move on by 'opsgov ledger "
        "rollback')",
        f"{REF}:1:1: T006 tag {TAG} seals an entry that differs from the one in {LEDGER} at commit "
        f"{declared.head()[:12]} (fields: approved_by) (fix: tag the commit that records the entry exactly as sealed)"]


def test_one_id_taken_by_two_branches_is_reported_where_they_meet(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    start = declared.head()
    _closed(declared, run_cli)  # alice closes OPS-...-001 on main
    declared.git("switch", "-q", "-c", "bob", start)
    declare(declared, OP, commit=False, OPERATION_NAME="Rotate nginx logs")
    declared.write(LEDGER, entry_text(OP, operation_name="'Rotate nginx logs'", requested_by="carol@example.com",
                                      execution_timestamp="2026-01-27T15:00:00Z"))
    bob = declared.commit("bob's operation, same id")
    assert history(declared, start, bob, tags=False) == []  # alone on its branch, nothing to see
    assert history(declared, start, bob) == [
        f"{LEDGER}:2:1: H005 two different operations share the id {OP}: tag {TAG} seals 'Tune Prometheus scrape "
        "interval', the ledger records 'Rotate nginx logs' (fix: ids allocated on two branches collided: give this "
        "operation a new id ('opsgov new'))"]


def test_tags_backend_tags_are_the_ledger(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declared.write(".opsgov.yaml", "ledger:\n  backend: tags\n")
    declared.commit("tags backend")
    run_cli(*record_args())
    assert run_cli("tag", OP)[0] == 0
    assert _all(declared) == []
    declared.git("tag", "-a", "-m", f"OPS-2026-01-27-002: t\n\n{BODY}", "ops-2026-01-27-002")
    assert _all(declared) == ["refs/tags/ops-2026-01-27-002:3:1: T004 tag ops-2026-01-27-002 carries the entry of "
                              f"{OP}"]


def test_a_staged_change_answers_only_for_the_tags_of_entries_it_changes(declared: Repo) -> None:
    """A broken old tag is --all's business; it does not block an unrelated staged change."""
    declared.write(LEDGER, entry_text(OP))
    head = declared.commit("record")
    declared.git("tag", TAG)  # lightweight: T001 under --all
    assert _all(declared)[0].startswith(f"{REF}:1:1: T001 ")
    assert history(declared, head, None, mode="staged") == []
    # Changing the sealed entry makes the staged change answer for its tag again.
    declared.write(LEDGER, entry_text(OP, changes_summary="edited after the seal"))
    declared.stage()
    assert any(" T001 " in line for line in history(declared, head, None, mode="staged"))


def test_sealed_entries_are_read_once_per_clone(declared: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A tag names one commit forever: the entry its commit holds is kept, and a damaged kept value re-read."""
    from opsgov_hooks.speed import store as cachestore
    from opsgov_hooks.git.gitio import Git

    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    _closed(declared, run_cli)
    declared.write(LEDGER, entry_text(OP, changes_summary="edited after the seal"))
    declared.commit("edit the sealed entry")
    reads: list[str] = []
    real = Git.read_objects

    def counting(self: Git, names, limit=None):  # type: ignore[no-untyped-def]
        names = list(names)
        reads.extend(n for n in names if n.endswith(":" + LEDGER))
        return real(self, names, limit)

    monkeypatch.setattr(Git, "read_objects", counting)
    for kept in (declared.path / ".git" / "opsgov-cache").glob("sealed-*"):
        kept.unlink()  # 'opsgov tag' checked (and kept) it already: start from nothing
    monkeypatch.setattr(cachestore, "_OPEN", {})
    first = _all(declared)
    assert any(" T005 " in line for line in first) and len(reads) == 1
    for damaged in (None, ("not", "an", "entry")):
        monkeypatch.setattr(cachestore, "_OPEN", {})  # as a new process would
        if damaged is not None:
            store = cachestore.open_store(Git(str(declared.path)), "sealed", _policy(declared))
            assert store is not None and len(store.entries) == 1
            store.entries = {key: damaged for key in store.entries}
            store.dirty = True
            store.save()
            monkeypatch.setattr(cachestore, "_OPEN", {})
        assert _all(declared) == first
    assert len(reads) == 2  # the kept entry served the second run; the damaged one was read again


def _policy(repo: Repo):  # type: ignore[no-untyped-def]
    from opsgov_hooks.policy.config import load_policy
    from opsgov_hooks.git.gitio import Git
    from opsgov_hooks.git.sources import CommitSource

    return load_policy(CommitSource(Git(str(repo.path)), repo.head()))


def test_sealed_entries_from_the_judged_files_first_bytes_agree_with_reading_each_version(
        declared: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With many tags, a tag whose month file is the first bytes of the judged revision's is not read from
    git (its blob id proves the bytes); every other version is. The findings are the same either way."""
    from opsgov_hooks.check import tag_facts
    from opsgov_hooks.git.gitio import Git
    from opsgov_hooks.speed import store as cachestore

    monkeypatch.setenv("OPSGOV_NO_CACHE", "1")   # every run reads the sealed entries again
    ops = [f"OPS-2026-01-27-{n:03d}" for n in range(1, 7)] + ["OPS-2026-02-03-001", "OPS-2026-02-03-002"]
    for op in ops[1:]:
        declare(declared, op)
    ledger: dict[str, str] = {}
    recorded = []
    for op in ops:
        path = f"ops/ledger/{op[4:11]}.yaml"
        dated = {} if op[4:11] == "2026-01" else {"approval_timestamp": "2026-02-03T09:00:00Z",
                                                  "execution_timestamp": "2026-02-03T10:00:00Z"}
        ledger[path] = ledger.get(path, "") + entry_text(op, **dated)
        declared.write(path, ledger[path])
        recorded.append(declared.commit(f"record {op}"))
        code, out, err = run_cli("tag", op)
        assert code == 0, out + err
    # After the seals: one entry edited (its file is no longer a prefix anywhere), one tag moved to a
    # commit without its entry, February's file removed.
    january, february = "ops/ledger/2026-01.yaml", "ops/ledger/2026-02.yaml"
    edited = ledger[january].split(f"operation_id: {ops[2]}\n")
    declared.write(january, edited[0] + f"operation_id: {ops[2]}\n"
                   + edited[1].replace("changes_summary: scrape_interval 15s -> 30s", "changes_summary: other", 1))
    declared.git("rm", "-q", february)
    declared.commit("edit a sealed entry, drop a month")
    body = entry_text(ops[4]).removeprefix("---\n")   # ops[4] is of January: the fixture's dates
    declared.git("tag", "-f", "-a", "-m", f"{ops[4]}: t\n\n{body}", f"ops-{ops[4][4:]}", recorded[0])
    reads: list[str] = []
    real = Git.read_objects

    def counting(self: Git, names, limit=None):  # type: ignore[no-untyped-def]
        names = list(names)
        reads.extend(names)
        return real(self, names, limit)

    monkeypatch.setattr(Git, "read_objects", counting)
    results = {}
    for least in (10**9, 1):
        monkeypatch.setattr(tag_facts, "PREFIX_MIN_TAGS", least)
        monkeypatch.setattr(cachestore, "_OPEN", {})
        reads.clear()
        results[least] = _all(declared)
        at_tags = [n for n in reads if n.endswith(".yaml") and not n.startswith(declared.head())]
        # Read from git at tags' commits: every version; then only those that are not the first bytes of
        # HEAD's file: January's since the edited entry (3 tags), February's (2).
        assert len(at_tags) == (8 if least > 1 else 5), at_tags
    assert results[1] == results[10**9]
    assert any(" T005 " in line and ops[2] in line for line in results[1])
    assert any(" T006 " in line for line in results[1])
