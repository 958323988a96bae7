"""The staged check on the records it needs, not on all of them.

A developer edits three files under an operation's ALLOWED_PATHS and commits, or grows the
notes of one ledger entry. Judging that needs the operations that could cover the touched
files, those the trailers name and those whose records the change edits, with their
declarations and ledger entries: a handful of the repository's 10,000 operations. The record
index (:mod:`opsgov_hooks.speed.record_index`) says which files hold them; this module loads
them at HEAD (the base) and as the index will hold them (the head: HEAD's with the staged
versions of the edited files), and says when that is enough. Every rule then sees every record
that can bear on its verdict:

* association, scope, G002/G003 and approvals read the operations that could cover a touched
  path or that a trailer names, and their entries: loaded, with every file declaring one of them
  (a duplicate id, D006, is seen whole);
* per-operation record rules run on the operations whose records the change touches, and the
  rules over the whole set (duplicates) compare those with every other record under their ids;
  findings elsewhere are the same at HEAD and in the index, so the change does not answer for
  them (:func:`~opsgov_hooks.check.pipeline.record_findings`), nor for frozen scopes it does not
  touch;
* the history rules answer for the entries that differ (loaded whole, with their operations),
  and for no rollback procedure unless the change alters which paths exist: then, as when a
  merge is being concluded, another ledger backend is in use or the caches are off, the full load
  runs.

``tests/speed/test_record_index.py`` holds the two to the same findings, change by change.
"""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.check.judge import Judge
from opsgov_hooks.git.diffs import DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.rules.association import operation_of_approval, operation_of_record
from opsgov_hooks.speed.record_index import RecordIndex


def focused_records(git: Git, judge: Judge, entries: Sequence[DiffEntry], trailers: Sequence[str],
                    head: str | None, merging: set[str] | None) -> tuple[RecordSet, RecordSet] | None:
    """The index's and HEAD's records of the operations the staged change can concern (None: load
    them all). See the module's docstring for what they are and when they are enough."""
    policy = judge.policy
    if head is None or merging is not None or policy.ledger_backend != "yaml" or alters_paths(git, head, entries):
        return None
    index = RecordIndex.open(git, policy)
    if index is None:
        return None
    # The record files the change edits or adds, as HEAD and the index hold them.
    before = {e.path: e.old_sha for e in entries if record_kind(e.path, policy) and e.status != "A"}
    after = {e.path: e.new_sha for e in entries if record_kind(e.path, policy)}
    concerned = set(trailers)
    for side in (judge.records.load(before), judge.records.load(after)) if after else ():
        concerned |= {d.operation_id for d in side.declarations} | side.invalid_ids
        concerned |= {e.operation_id for e in side.entries}
    concerned |= {op for e in entries if (op := operation_of_approval(e.path, policy))}
    concerned |= {op for path in after if (op := operation_of_record(path, policy))}
    needed = index.needed(head, judge.governed(entries), sorted(concerned))
    rows = [row for row in needed.entries if row[0] not in after]   # the edited files come whole, below
    kept = index.entries(rows)
    ledger = {path: blob for path, blob, _op in needed.entries}
    base_files = {**needed.declarations, **{p: b for p, b in ledger.items() if p in after}, **before}
    base = _assemble(judge, base_files, kept)
    if not after:
        return base, base   # no record in the change: the index's records are HEAD's
    head_files = {**{p: b for p, b in base_files.items() if p not in before}, **after}
    return _assemble(judge, head_files, kept), base


def _assemble(judge: Judge, files: dict[str, str], entries: Sequence[LedgerEntry]) -> RecordSet:
    """The records of ``files`` (parsed whole) and ``entries`` (rows of other ledger files), in the
    order a full load gives: files by path, entries by file and line."""
    records = judge.records.load(files)
    records.entries = sorted([*records.entries, *entries], key=lambda e: (e.path, e.line))
    records.files = sorted({*records.files, *(e.path for e in entries)})
    return records


def alters_paths(git: Git, base: str | None, entries: Sequence[DiffEntry]) -> bool:
    """Does the change alter which paths exist, as a rollback procedure sees them?

    It does when it removes or renames a path, or adds a top-level entry the base lacks (a
    procedure's word becomes a repository path when its first segment is one).
    """
    if any(e.status in ("D", "R") for e in entries):
        return True
    tops = {e.path.split("/", 1)[0] for e in entries if e.status in ("A", "C")}
    if not tops:
        return False
    if base is None:
        return True
    return len(git.object_types([f"{base}:{top}" for top in sorted(tops)])) < len(tops)
