"""A change answers for the ledger entries it changes; ``--all`` answers for every one.

History rules (rollback references, append-only, tags) on an entry a change leaves as it
was give what they gave at the base, so a staged or range check skips them: one broken
old entry is ``--all``'s business and does not block unrelated work. Checked in real
repositories, with the scoping computed as the gate computes it.
"""
from __future__ import annotations

from conftest import Repo, entry_text
from lifecycle_helpers import context, history

from opsgov_hooks.check.pipeline import answerable_operations
from opsgov_hooks.git.gitio import Git

pytest_plugins = ["conftest_lifecycle"]

LEDGER = "ops/ledger/2026-01.yaml"
OP1, OP2 = "OPS-2026-01-27-001", "OPS-2026-01-27-002"
MISSING = "0123456789abcdef0123456789abcdef01234567"


def _broken_old_entry(repo: Repo) -> str:
    """OP1 recorded with a rollback reference to a commit that does not exist; the commit."""
    repo.write(LEDGER, entry_text(OP1, rollback_ref=MISSING))
    return repo.commit("record OP1 (its reference is wrong)")


def _codes(lines: list[str]) -> list[str]:
    return [line.split(": ")[1].split()[0] for line in lines]


def test_a_range_that_leaves_a_broken_entry_alone_does_not_answer_for_it(declared: Repo) -> None:
    base = _broken_old_entry(declared)
    declared.write(LEDGER, entry_text(OP1, rollback_ref=MISSING) + entry_text(OP2, rollback_ref=base))
    head = declared.commit("record OP2")
    assert history(declared, base, head, mode="range") == []
    assert _codes(history(declared, head, head, mode="all")) == ["H006"]


def test_editing_the_broken_entry_makes_the_change_answer_for_it(declared: Repo) -> None:
    base = _broken_old_entry(declared)
    declared.write(LEDGER, entry_text(OP1, rollback_ref=MISSING, notes="'checked again'"))
    head = declared.commit("grow OP1's notes")
    assert _codes(history(declared, base, head, mode="range")) == ["H006"]
    declared.stage()
    assert _codes(history(declared, base, None, mode="staged")) == ["H006"]


def test_a_new_entry_is_always_answered_for(declared: Repo) -> None:
    base = declared.head()
    declared.write(LEDGER, entry_text(OP1, rollback_ref=MISSING))
    declared.stage()
    assert _codes(history(declared, base, None, mode="staged")) == ["H006"]


def test_a_removed_entry_is_answered_for(declared: Repo) -> None:
    base = _broken_old_entry(declared)
    declared.git("rm", "-q", LEDGER)
    head = declared.commit("drop the ledger")
    ctx = context(declared, base, head, mode="range")
    assert ctx.answerable == frozenset({OP1})
    assert "H001" in _codes(history(declared, base, head, mode="range"))


def test_a_rewritten_history_is_judged_in_full(declared: Repo) -> None:
    """A push whose old value the new one does not contain (a force push): every entry is judged."""
    root = declared.head()
    old = _broken_old_entry(declared)
    declared.git("checkout", "-q", "-b", "rewritten", root)
    declared.write(LEDGER, entry_text(OP1, rollback_ref=MISSING))
    new = declared.commit("the same entry, on another history")
    git = Git(str(declared.path))
    ctx = context(declared, old, new, mode="pre-receive")
    assert answerable_operations(git, "pre-receive", ctx.head_records, ctx.base_records, new, old) is None
    assert _codes(history(declared, old, new, mode="pre-receive")) == ["H006"]
    # The same two trees on one history: the unchanged entry is the base's business.
    assert answerable_operations(git, "range", ctx.head_records, ctx.base_records, new, root) == frozenset()


def test_all_answers_for_everything(declared: Repo) -> None:
    head = _broken_old_entry(declared)
    git = Git(str(declared.path))
    ctx = context(declared, None, head, mode="all")
    assert answerable_operations(git, "all", ctx.head_records, ctx.base_records, head, None) is None
