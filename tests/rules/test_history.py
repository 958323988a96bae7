"""The append-only ledger, judged on parsed entries against the base revision of real repositories."""
from __future__ import annotations

from conftest import Repo, entry_text
from lifecycle_helpers import OP, context, declare

from opsgov_hooks.output.text import format_line
from opsgov_hooks.rules.history import append_only

pytest_plugins = ["conftest_lifecycle"]

LEDGER = "ops/ledger/2026-01.yaml"
OP2 = "OPS-2026-01-27-002"
HINT = ("(fix: the ledger is append-only: only 'opsgov ledger rollback', growing notes and an emergency approval may "
        "change an entry)")


def _base(repo: Repo, **entry: str) -> str:
    declare(repo, OP, commit=False)
    declare(repo, OP2, commit=False)
    repo.write(LEDGER, entry_text(OP, **entry))
    return repo.commit("record")


def _judge(repo: Repo, base: str, text: str, staged: bool = False) -> list[str]:
    repo.write(LEDGER, text)
    if staged:
        repo.stage()
        ctx = context(repo, base, None, mode="staged")
    else:
        ctx = context(repo, base, repo.commit("change"))
    return [format_line(f) for f in append_only(ctx)]


def test_appending_an_entry_passes(repo: Repo) -> None:
    base = _base(repo)
    assert _judge(repo, base, entry_text(OP) + entry_text(OP2)) == []


def test_requoting_and_reordering_is_not_a_change(repo: Repo) -> None:
    base = _base(repo)
    lines = entry_text(OP).splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:])]).replace(
        "approved_by: bob@example.com", "approved_by: \"bob@example.com\"  # the approver") + "\n"
    assert _judge(repo, base, "# January\n" + reordered) == []


def test_rollback_update_passes(repo: Repo) -> None:
    base = _base(repo)
    rolled = entry_text(OP, outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z", rollback_evidence="ok")
    assert _judge(repo, base, rolled) == []
    partial = _base(repo, outcome="PARTIAL")
    assert _judge(repo, partial, rolled) == []


def test_notes_may_grow_but_not_be_rewritten(repo: Repo) -> None:
    base = _base(repo, notes="'first observation.'")
    assert _judge(repo, base, entry_text(OP, notes="'first observation. Then a second one.'")) == []
    assert _judge(repo, base, entry_text(OP, notes="'a different story'")) == [
        f"{LEDGER}:13:8: H004 {OP}: notes were rewritten (they may only grow: the new text must start with the old) "
        + HINT]


def test_removed_entry(repo: Repo) -> None:
    base = _base(repo)
    assert _judge(repo, base, "# emptied\n") == [
        f"{LEDGER}:2:1: H001 the ledger entry of {OP} was removed (it was at {LEDGER}:2 in the base revision) (fix: "
        "the ledger is append-only: restore the entry; record a rollback with 'opsgov ledger rollback')"]


def test_changed_added_and_removed_fields(repo: Repo) -> None:
    base = _base(repo, notes="'n'")
    text = entry_text(OP, approved_by="carol@example.com", emergency="true", notes=None)
    assert _judge(repo, base, text) == [
        f"{LEDGER}:5:14: H002 {OP}: field 'approved_by' changed from 'bob@example.com' to 'carol@example.com' {HINT}",
        f"{LEDGER}:13:12: H002 {OP}: field 'emergency' was added (True) {HINT}",
        f"{LEDGER}:2:1: H004 {OP}: notes were rewritten (they may only grow: the new text must start with the old) "
        + HINT,
    ]


def test_invalid_outcome_moves(repo: Repo) -> None:
    base = _base(repo)
    assert _judge(repo, base, entry_text(OP, outcome="PARTIAL")) == [
        f"{LEDGER}:12:10: H003 {OP}: outcome moved to PARTIAL without rollback_timestamp and rollback_evidence {HINT}"]
    rolled = _base(repo, outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z", rollback_evidence="ok")
    back = entry_text(OP, rollback_timestamp="2026-01-27T11:00:00Z", rollback_evidence="ok")
    assert _judge(repo, rolled, back) == [
        f"{LEDGER}:12:10: H003 {OP}: outcome moved from ROLLBACK to SUCCESS {HINT}"]


def test_rollback_fields_never_change_once_written(repo: Repo) -> None:
    base = _base(repo, outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z", rollback_evidence="ok")
    text = entry_text(OP, outcome="ROLLBACK", rollback_timestamp="2026-01-27T12:00:00Z", rollback_evidence="ok")
    assert _judge(repo, base, text) == [
        f"{LEDGER}:13:21: H002 {OP}: field 'rollback_timestamp' changed from '2026-01-27T11:00:00Z' to "
        f"'2026-01-27T12:00:00Z' {HINT}"]


def test_emergency_approval_may_replace_a_pending_one_only(repo: Repo) -> None:
    base = _base(repo, emergency="true", approved_by="SELF", approval_timestamp="2026-01-27T10:00:00Z")
    approved = entry_text(OP, emergency="true", approved_by="carol@example.com",
                          approval_timestamp="2026-01-27T12:00:00Z")
    assert _judge(repo, base, approved) == []
    again = entry_text(OP, emergency="true", approved_by="dave@example.com", approval_timestamp="2026-01-27T13:00:00Z")
    assert [line.split(" ")[1] for line in _judge(repo, repo.head(), again)] == ["H002", "H002"]


def test_staged_change_is_judged_against_head(repo: Repo) -> None:
    base = _base(repo)
    assert _judge(repo, base, entry_text(OP, changes_summary="something else"), staged=True) == [
        f"{LEDGER}:10:18: H002 {OP}: field 'changes_summary' changed from 'scrape_interval 15s -> 30s' to 'something "
        f"else' {HINT}"]


def test_an_invalid_entry_is_not_also_reported_as_removed(repo: Repo) -> None:
    base = _base(repo)
    assert _judge(repo, base, entry_text(OP, outcome="MAYBE")) == []  # L002 from loading fails the run instead


def test_two_operations_with_one_id_from_two_branches(repo: Repo) -> None:
    start = repo.commit("start")
    declare(repo, OP, commit=False)
    repo.write(LEDGER, entry_text(OP))
    repo.commit("alice declares and records OPS-...-001")
    repo.git("switch", "-q", "-c", "bob", start)
    declare(repo, OP, commit=False, OPERATION_NAME="Rotate nginx logs")
    bob_entry = entry_text(OP, operation_name="'Rotate nginx logs'", requested_by="carol@example.com",
                           execution_timestamp="2026-01-27T15:00:00Z")
    repo.write(LEDGER, bob_entry)
    repo.commit("bob declares and records the same id")
    repo.git("switch", "-q", "main")
    base = repo.head()
    repo.git("merge", "-q", "bob", check=False)  # add/add conflicts; the merger keeps both ledger entries
    declare(repo, OP, commit=False)
    repo.write(LEDGER, entry_text(OP) + bob_entry)
    merge = repo.commit("merge bob")
    found = [format_line(f) for f in append_only(context(repo, base, merge))]
    assert found == [
        f"{LEDGER}:14:1: H005 two different operations share the id {OP}: 'Tune Prometheus scrape interval' "
        f"({LEDGER}:2) and 'Rotate nginx logs' (fix: ids allocated on two branches collided: give one operation a new "
        "id ('opsgov new') and move its records)"]
    # Editing one identity field is an edit, not another operation.
    edited = entry_text(OP, operation_name="'Tune Prometheus scrape interval (v2)'")
    assert [line.split(" ")[1] for line in _judge(repo, base, edited)] == ["H002"]
