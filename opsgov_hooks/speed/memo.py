"""Per-operation rule findings, remembered by the operation's records.

The per-operation record rules (``Reads.OPERATION`` in :mod:`opsgov_hooks.rules.registry`) are pure
functions of one operation's declarations and ledger entries (and whether its record
failed to load) under one policy, so their findings can be kept: an operation whose
records are unchanged since any earlier run in this clone is not judged again. Over
10,000 runbooks that is most of a check's time (parsing execution logs and reports).

* Key: a digest of the operation's records as plain data, every field included (a
  declaration's runbook body, an entry's positions), so any edit is a new key.
* What is never kept: rules that read the clock (``clock=True`` in the registry)
  run every time; the store's fingerprint covers the policy and every module of
  opsgov, so a new version or another policy starts afresh.
* A kept value that does not decode is dropped and the operation judged again.
"""
from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opsgov_hooks.speed import parallel
from opsgov_hooks.speed.store import Store
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, from_tuple, to_tuple
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.plain import declaration_values, entry_values
from opsgov_hooks.records.store import RecordSet

Rule = Callable[[RecordSet, Policy], Iterable[Finding]]

# Operations kept beyond those a run used: a staged check uses a handful, and must not
# evict the other 10,000 that the next --all will want.
KEEP = 200_000


def operation_key(op_id: str, declarations: Sequence[Declaration], entries: Sequence[LedgerEntry],
                  invalid: bool) -> bytes | None:
    """A digest of everything the per-operation rules see of one operation (None: not plain data)."""
    try:
        # Version 2: from version 3 on, marshal writes a second use of the same object as a
        # back-reference and marks interned strings, so equal values shared differently (records
        # parsed now, or rebuilt from the record cache where equal strings are one object) would
        # get different bytes, and a cold run's keys would miss in every warm run after it.
        data = marshal.dumps((op_id, [declaration_values(d) for d in declarations],
                              [entry_values(e) for e in entries], invalid), 2)
    except ValueError:
        return None
    return hashlib.blake2b(data, digest_size=20).digest()


# Below this many operations to judge, a second process costs more than it saves.
PARALLEL_MIN_OPERATIONS = 500

Group = tuple[str, list[Declaration], list[LedgerEntry], bool]


def run_per_operation(records: RecordSet, policy: Policy, rules: Sequence[Rule], store: Store) -> list[Finding]:
    """``rules`` over ``records``, one operation at a time, reusing the findings ``store`` keeps.

    The operations not kept are judged on two cores when there are many (a cold run).
    """
    groups: dict[str, tuple[list[Declaration], list[LedgerEntry]]] = {}
    for d in records.declarations:
        groups.setdefault(d.operation_id, ([], []))[0].append(d)
    for e in records.entries:
        groups.setdefault(e.operation_id, ([], []))[1].append(e)
    findings: list[Finding] = []
    todo: list[tuple[bytes | None, Group]] = []
    # A store that holds nothing (a cold run) answers no key: the keys are then computed by the
    # processes that judge, beside the judging, instead of one by one here before they start
    # (0.1 s of a cold run at 10,000 operations, on the one core that works at that moment).
    keyed_here = bool(store.entries)
    for op_id, (declarations, entries) in groups.items():
        invalid = op_id in records.invalid_ids
        if not keyed_here:
            todo.append((None, (op_id, declarations, entries, invalid)))
            continue
        key = operation_key(op_id, declarations, entries, invalid)
        kept = store.get(key) if key is not None else None
        if kept is not None:
            try:
                findings.extend([from_tuple(f) for f in kept])
                continue
            except (TypeError, ValueError):
                store.drop(key)
        todo.append((key, (op_id, declarations, entries, invalid)))

    def work(part: Sequence[Group]) -> list[tuple[bytes | None, tuple[Any, ...]]]:
        return [(None if keyed_here else operation_key(*group), _judge(group, policy, rules)) for group in part]

    judged = parallel.split_map(work, [group for _key, group in todo], PARALLEL_MIN_OPERATIONS)
    for (key, _group), (worked_key, found) in zip(todo, judged):
        if (key or worked_key) is not None:
            store.put(key or worked_key, found)
        findings.extend(from_tuple(f) for f in found)
    store.save(keep=KEEP)
    return findings


def _judge(group: Group, policy: Policy, rules: Sequence[Rule]) -> tuple[Any, ...]:
    op_id, declarations, entries, invalid = group
    one = RecordSet(declarations, entries, [], [], {op_id} if invalid else set())
    try:
        return tuple(to_tuple(f) for rule in rules for f in rule(one, policy))
    finally:
        # A runbook's outline and log are parsed once for all the rules of its operation, which
        # run together here, and then dropped: kept for 10,000 operations they were a third of
        # a cold run's memory (the caches serve callers that run each rule over every record).
        # Only where a rule loaded them: a memo that answers every operation never imports the parsers.
        for module, cache in (("opsgov_hooks.records.markdown", "outline_of"), ("opsgov_hooks.rules.execution", "log_of")):
            loaded = sys.modules.get(module)
            if loaded is not None:
                getattr(loaded, cache).cache_clear()
