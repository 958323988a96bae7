"""Ledger timestamps tell a possible story: declared, approved, executed, maybe rolled back; never in the future.

An entry marked ``emergency: true`` may execute before approval, but someone other
than the requester must approve it within ``emergency_approval_hours`` of execution.
While that window is open and the approval is still SELF (or the requester), the
entry is a warning (L108); once it closes, an error (L107, overdue).
"""
from __future__ import annotations

import datetime
from collections.abc import Iterator

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error, warning
from opsgov_hooks.records.ids import id_date, parse_utc
from opsgov_hooks.records.ledger import TIMESTAMP_FIELDS, LedgerEntry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.records.located import at_entry, at_field
from opsgov_hooks.rules.signoff import is_self


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def timestamps(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    """The record rule: checks against the current time (see :func:`check_timestamps` for a fixed one)."""
    return check_timestamps(records, policy, utc_now())


def check_timestamps(records: RecordSet, policy: Policy, now: datetime.datetime) -> Iterator[Finding]:
    for entry in records.entries:
        yield from entry_timestamps(entry, policy, now)


def entry_timestamps(entry: LedgerEntry, policy: Policy, now: datetime.datetime) -> Iterator[Finding]:
    times = {k: parse_utc(str(entry.get(k))) for k in TIMESTAMP_FIELDS if entry.get(k) is not None}
    limit = now + datetime.timedelta(seconds=policy.clock_skew_seconds)
    for key, value in times.items():
        if value is not None and value > limit:
            yield error("L105", f"{entry.operation_id}: {key} {entry.get(key)} is in the future", *at_field(entry, key),
                        hint="record what happened, in UTC, after it happened")
    approved, executed = times.get("approval_timestamp"), times.get("execution_timestamp")
    if executed is None:
        return
    declared = id_date(entry.operation_id)
    if declared is not None and declared > executed.date():
        yield error("L106", f"{entry.operation_id}: the id is dated {declared}, after the execution date "
                    f"{executed.date()}", *at_entry(entry), hint="an operation is declared before it runs")
    rolled_back = times.get("rollback_timestamp")
    if rolled_back is not None and rolled_back < executed:
        yield error("L109", f"{entry.operation_id}: rollback_timestamp {entry.get('rollback_timestamp')} is "
                    f"before execution_timestamp {entry.get('execution_timestamp')}",
                    *at_field(entry, "rollback_timestamp"))
    if entry.get("emergency") is True:
        yield from _emergency(entry, policy, approved, executed, now)
    elif approved is not None and approved > executed:
        yield error("L104", f"{entry.operation_id}: approved at {entry.get('approval_timestamp')}, after "
                    f"execution at {entry.get('execution_timestamp')}", *at_field(entry, "approval_timestamp"),
                    hint="approve before executing; only an entry marked emergency: true may execute first")


def _emergency(entry: LedgerEntry, policy: Policy, approved: datetime.datetime | None,
               executed: datetime.datetime, now: datetime.datetime) -> Iterator[Finding]:
    where = at_field(entry, "approval_timestamp")
    window = datetime.timedelta(hours=policy.emergency_approval_hours)
    deadline = executed + window
    stamp = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    if is_self(entry.get("approved_by"), entry.get("requested_by")):
        if now > deadline:
            yield error("L107", f"{entry.operation_id}: emergency approval overdue: no one other than the "
                        f"requester approved it by {stamp}", *where,
                        hint="record the second approval ('opsgov ledger approve') and review why it was late")
        else:
            yield warning("L108", f"{entry.operation_id}: emergency operation awaiting approval by someone other "
                          f"than the requester (due by {stamp})", *where,
                          hint="opsgov ledger approve OPS-ID --by NAME --at TIMESTAMP")
    elif approved is not None and approved > deadline:
        yield error("L107", f"{entry.operation_id}: emergency approval at {entry.get('approval_timestamp')} came "
                    f"after the {policy.emergency_approval_hours}h window (due by {stamp})", *where)


def horizon(records: RecordSet, policy: Policy, now: datetime.datetime) -> datetime.datetime | None:
    """The first instant after ``now`` at which these rules could answer differently (None: never).

    A timestamp ``v`` stops being "in the future" when the clock reaches ``v - clock skew``;
    a pending emergency approval becomes overdue at its deadline. Whoever keeps this
    rule's findings (a cached ``--all``) must not use them from that instant on.
    """
    skew = datetime.timedelta(seconds=policy.clock_skew_seconds)
    window = datetime.timedelta(hours=policy.emergency_approval_hours)
    instants: list[datetime.datetime] = []
    for entry in records.entries:
        times = {k: parse_utc(str(entry.get(k))) for k in TIMESTAMP_FIELDS if entry.get(k) is not None}
        instants.extend(value - skew for value in times.values() if value is not None)
        executed = times.get("execution_timestamp")
        if entry.get("emergency") is True and executed is not None:
            instants.append(executed + window)
    # ">=": an approval becomes overdue just *after* its deadline, so findings kept at the deadline
    # itself must already expire there.
    later = [t for t in instants if t >= now]
    return min(later) if later else None
