"""A range whose every governed commit names its operations: judged without the index of every scope.

The record index (:mod:`opsgov_hooks.speed.record_index`) answers which operations could cover
a touched path. Building it where none is kept (a fresh CI clone) parses every record at the
range's base: 10,000 declarations and the whole ledger, for a pull request of 50 operations.

Coverage matters only to a commit that names no operation. A commit is associated *explicitly*
(:func:`~opsgov_hooks.rules.association.associate`) with the operations whose records it adds or
edits, and with the declared operations its ``Ops-Id`` trailers name; then every rule of the change
reads those operations only (scope, closed, declarations, entries), and an operation that merely
covers one of its paths changes no verdict. Which operations a range concerns then follows from
paths and blob ids, as :func:`~opsgov_hooks.check.focus.range_focus` computes them: the trailers,
the record and approval files the range touches, and the ids those files' versions hold.

* **Declarations**: an operation record is valid only when its file is named after its id (D005),
  and an invalid one is known by its file name, so the files that can declare an id are the files
  named after it: read from each tree's listing, none parsed but those.
* **Ledger entries** in month files the range does not touch: a valid entry's ``operation_id``
  matches ``OPS-YYYY-MM-DD-NNN`` whole (L002), and in a file without a backslash (no YAML escape
  can spell it) it stands in the bytes literally. One scan of each such file for those tokens says
  which files can hold an entry of a concerned operation; only those are parsed. A file with a
  backslash is parsed as it is.

Whether every governed commit is explicit is decided on the records loaded this way, with the same
rules the association uses (:func:`~opsgov_hooks.rules.association.named_ids`), before any commit is
judged; when one is not, or when the clone cannot tell which operations are closed (then every
covering operation must be asked, see :meth:`~opsgov_hooks.check.judge.Judge.know_tags_from`), the
range takes the index's narrowing or the full load. ``tests/check/test_named_ranges.py`` holds this
narrowing to the full load's findings.
"""
from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

from opsgov_hooks.check import focus
from opsgov_hooks.check.judge import Judge
from opsgov_hooks.git.diffs import CommitDiff, DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.ids import ID_BYTES, ID_RE
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import record_kind
from opsgov_hooks.records.yamlstrict import MAX_BYTES
from opsgov_hooks.rules.association import ChangeView, named_ids
from opsgov_hooks.speed import store



def named_focus(git: Git, judge: Judge, pairs: Sequence[tuple[str, str | None]],
                diffs: Mapping[str, CommitDiff], head: str, history_base: str | None,
                net: Sequence[DiffEntry]) -> focus.RangeFocus | None:
    """The records a range concerns when its commits name their operations (None: it cannot tell;
    :func:`all_named` then decides whether they do)."""
    policy = judge.policy
    in_range = {commit for commit, _parent in pairs}
    outside = {parent for _commit, parent in pairs if parent not in in_range}
    if (not store.enabled() or policy.ledger_backend != "yaml" or history_base is None or None in outside
            or not judge.tags or git.remotes_without_tags() or focus.alters_paths(git, history_base, net)):
        return None
    operations = policy.operations_dir + "/"
    base_files = judge.records.tree_files(history_base)
    if sum(path.startswith(operations) for path in base_files) < focus.RANGE_MIN_RECORDS:
        return None   # as few records as that load faster whole (see focus.RANGE_MIN_RECORDS)
    touched, concerned = focus.range_records(judge, pairs, diffs)
    # The trees the range builds on (its end is built from them, commit by commit).
    listings = {point: judge.records.tree_files(point) for point in {*(p for p in outside if p is not None)}}
    listings[history_base] = base_files
    starts: dict[str, dict[str, str]] = {}
    for point, files in listings.items():
        starts[point] = {path: blob for path, blob in files.items()
                         if path in touched or (record_kind(path, policy) == "operation"
                                                and posixpath.basename(path)[:-3] in concerned)}
    ids = {op for op in concerned if ID_RE.match(op)}
    end_ledger = git.ls_tree(head, [policy.ledger_path])
    return focus.RangeFocus(starts, _entries_of(judge, end_ledger, touched, ids),
                            _entries_of(judge, listings[history_base], touched, ids))


def _entries_of(judge: Judge, files: Mapping[str, str], touched: set[str], ids: set[str]) -> list[LedgerEntry]:
    """The entries of ``ids`` in the ledger files of ``files`` the range does not touch."""
    ledger = {path: blob for path, blob in files.items()
              if path not in touched and record_kind(path, judge.policy) == "ledger"}
    if not ids or not ledger:
        return []
    paths = sorted(ledger)
    contents = judge.git.read_blobs([ledger[p] for p in paths], "a ledger file", limit=MAX_BYTES + 1)
    wanted = {op.encode() for op in ids}
    holding = {path: ledger[path] for path, raw in zip(paths, contents)
               if raw is not None and len(raw) <= MAX_BYTES   # a larger file holds no entry (F004)
               and _may_hold(raw, wanted)}
    records = judge.records.load(holding)
    return [e for e in records.entries if e.operation_id in ids]


def _may_hold(raw: bytes, wanted: set[bytes]) -> bool:
    """Can this month file hold an entry of one of ``wanted``? (A backslash may be a YAML escape
    spelling an id: then it can.)"""
    return b"\\" in raw or not wanted.isdisjoint(ID_BYTES.findall(raw))


def all_named(judge: Judge, pairs: Sequence[tuple[str, str | None]], own: Mapping[str, CommitDiff],
              states: Mapping[str, Mapping[str, str]]) -> bool:
    """Does every commit with a governed path name an operation outright, on the records its tree
    holds (``states``: loaded by :func:`named_focus`)? Then no operation is associated by coverage."""
    for commit, _parent in pairs:
        diff = own[commit]
        if not judge.governed(diff.entries):
            continue   # nothing to cover: its trailers alone decide, and they are loaded
        record_ids, _rolling_back = judge.record_ids(diff.entries)
        if record_ids:
            continue
        declared = judge.records.declared(states[commit])
        known = {d.operation_id for d in declared.declarations} | declared.invalid_ids
        if not named_ids(ChangeView((), (), trailers=diff.trailers), known):
            return False
    return True


__all__: Sequence[str] = ["all_named", "named_focus"]
