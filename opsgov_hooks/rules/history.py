"""The ledger is append-only: against the base revision, entries never disappear or change.

Compared on parsed entries, never on text, so re-quoting or re-ordering is not a
change and a changed value is one even when the line looks alike. The only moves
allowed on an existing entry:

* the rollback update: ``outcome`` SUCCESS -> ROLLBACK/PARTIAL or PARTIAL -> ROLLBACK,
  together with ``rollback_timestamp`` and ``rollback_evidence`` (which, once
  written, never change);
* ``notes`` growing (the new text starts with the old);
* an emergency entry's pending approval (SELF or the requester) replaced by
  another person's (``approved_by`` and ``approval_timestamp``).

Two different operations under one id (allocated on two branches the same day)
are reported as such (H005) rather than as a changed entry.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.findings import Finding, Severity, error
from opsgov_hooks.records.ledger import FIELD_ORDER, LedgerEntry
from opsgov_hooks.records.located import at_entry, at_field
from opsgov_hooks.rules.signoff import is_self, normalise_person

ROLLBACK_FIELDS = ("rollback_timestamp", "rollback_evidence")
_OUTCOME_MOVES = {("SUCCESS", "ROLLBACK"), ("SUCCESS", "PARTIAL"), ("PARTIAL", "ROLLBACK")}
_APPROVAL_FIELDS = ("approved_by", "approval_timestamp")
# What makes an operation itself: another value here is another operation, not an edit.
IDENTITY_FIELDS = ("operation_name", "requested_by", "execution_timestamp")


def same_operation(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """One edited identity field is an edit (H002); two or more make it another operation (H005)."""
    differing = sum(1 for k in IDENTITY_FIELDS if _norm(k, old.get(k)) != _norm(k, new.get(k)))
    return differing <= 1


def _norm(key: str, value: Any) -> Any:
    return normalise_person(value) if key == "requested_by" else value


def entry_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(code, field, message) for every change from ``old`` to ``new`` that the append-only rule forbids."""
    problems: list[tuple[str, str, str]] = []
    outcome_moved = old.get("outcome") != new.get("outcome")
    if outcome_moved and (old.get("outcome"), new.get("outcome")) not in _OUTCOME_MOVES:
        problems.append(("H003", "outcome", f"outcome moved from {old.get('outcome')} to {new.get('outcome')}"))
    elif outcome_moved and not all(new.get(k) for k in ROLLBACK_FIELDS):
        problems.append(("H003", "outcome", f"outcome moved to {new.get('outcome')} without rollback_timestamp and "
                                 "rollback_evidence"))
    approval_reopened = _emergency_approval(old, new)
    for key in sorted(set(old) | set(new), key=_field_order):
        before, after = old.get(key), new.get(key)
        if before == after or key == "outcome":
            continue
        if key == "notes":
            if before and not str(after or "").startswith(str(before)):
                problems.append(("H004", "notes", "notes were rewritten (they may only grow: the new text must start "
                                         "with the old)"))
            continue
        if key in ROLLBACK_FIELDS and before is None and new.get("outcome") in ("ROLLBACK", "PARTIAL"):
            continue
        if key in _APPROVAL_FIELDS and approval_reopened:
            continue
        problems.append(("H002", key, _describe(key, before, after)))
    return problems


def _emergency_approval(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """A pending emergency approval replaced by someone other than the requester."""
    return (old.get("emergency") is True and new.get("emergency") is True
            and is_self(old.get("approved_by"), old.get("requested_by"))
            and not is_self(new.get("approved_by"), new.get("requested_by")))


def _describe(key: str, before: Any, after: Any) -> str:
    if before is None:
        return f"field '{key}' was added ({after!r})"
    if after is None:
        return f"field '{key}' was removed (was {before!r})"
    return f"field '{key}' changed from {before!r} to {after!r}"


def _field_order(key: str) -> tuple[int, str]:
    return (FIELD_ORDER.index(key) if key in FIELD_ORDER else len(FIELD_ORDER), key)


def append_only(ctx: CheckContext) -> Iterator[Finding]:
    """H001-H005 for the head's ledger against the base's."""
    head = _group(ctx.head_records.entries)
    # An entry that no longer loads is already an error where it stands; "removed" would mislead.
    broken = {f.path for f in ctx.head_records.findings if f.severity is Severity.ERROR}
    for op_id, olds in _group(ctx.base_records.entries).items():
        if not ctx.answers_for(op_id):
            continue
        news = head.get(op_id, [])
        if not news and olds[0].path in broken:
            continue
        if not news:
            old = olds[0]
            yield error("H001", f"the ledger entry of {op_id} was removed (it was at {old.path}:{at_entry(old)[1]} in "
                        "the base revision)", *at_entry(old),
                        hint="the ledger is append-only: restore the entry; record a rollback with "
                             "'opsgov ledger rollback'")
            continue
        yield from _compare(olds[0], news)
    for op_id, news in head.items():
        if ctx.answers_for(op_id):
            yield from _collisions(op_id, news)


def _compare(old: LedgerEntry, news: list[LedgerEntry]) -> Iterator[Finding]:
    matching = [n for n in news if same_operation(old.fields, n.fields)]
    if not matching:
        new = news[0]
        yield _collision(old, new)
        return
    new = matching[0]
    for code, key, message in entry_changes(old.fields, new.fields):
        yield error(code, f"{new.operation_id}: {message}", *at_field(new, key),
                    hint="the ledger is append-only: only 'opsgov ledger rollback', growing notes and an "
                         "emergency approval may change an entry")


def _collisions(op_id: str, news: list[LedgerEntry]) -> Iterator[Finding]:
    first = news[0]
    for other in news[1:]:
        if not same_operation(first.fields, other.fields):
            yield _collision(first, other)


def _collision(first: LedgerEntry, second: LedgerEntry) -> Finding:
    return error("H005", f"two different operations share the id {second.operation_id}: "
                 f"{first.get('operation_name')!r} ({first.path}:{at_entry(first)[1]}) and "
                 f"{second.get('operation_name')!r}", *at_entry(second),
                 hint="ids allocated on two branches collided: give one operation a new id ('opsgov new') and "
                      "move its records")


def _group(entries: list[LedgerEntry]) -> dict[str, list[LedgerEntry]]:
    grouped: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.operation_id, []).append(entry)
    return grouped
