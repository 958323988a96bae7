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

A range (:func:`range_focus`) is narrowed the same way over all its commits.
``tests/speed/test_record_index.py`` holds the narrowed and the full load to the same findings,
change by change and range by range.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from opsgov_hooks.check.judge import Judge
from opsgov_hooks.git.diffs import CommitDiff, DiffEntry
from opsgov_hooks.git.objects import NULL_SHA
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
    base = assemble(judge, base_files, kept)
    if not after:
        return base, base   # no record in the change: the index's records are HEAD's
    head_files = {**{p: b for p, b in base_files.items() if p not in before}, **after}
    return assemble(judge, head_files, kept), base


def assemble(judge: Judge, files: dict[str, str], entries: Sequence[LedgerEntry]) -> RecordSet:
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


# Below this many operation records the full load of a range costs less than narrowing it: each
# tree the range builds on is looked up in the index, and with a few hundred records reading them
# all is cheaper (measured on benchmarks/infra.py's 234 records and 35 merges: 1.0 s against 1.3 s).
RANGE_MIN_RECORDS = 1000


@dataclasses.dataclass
class RangeFocus:
    """A range's records, narrowed to the operations it can concern.

    ``starts``: for each commit outside the range that a commit of it builds on (and the history
    base), the record files the range's commits need of it: the declarations of the operations
    concerned, and every record file the range touches as that commit holds it. ``end_entries`` and
    ``base_entries``: the entries of those operations in ledger files the range does not touch.
    """

    starts: dict[str, dict[str, str]]
    end_entries: list[LedgerEntry]
    base_entries: list[LedgerEntry]


def range_records(judge: Judge, pairs: Sequence[tuple[str, str | None]],
                  diffs: Mapping[str, CommitDiff]) -> tuple[set[str], set[str]]:
    """The record files a range's commits touch, and the operations it concerns: those its trailers
    name, whose record files it touches, and that every version of those files declares or records
    (the versions are read in one batch; the full load would read them too)."""
    policy = judge.policy
    touched: set[str] = set()
    versions: set[tuple[str, str]] = set()
    concerned: set[str] = set()
    for commit, _parent in pairs:
        diff = diffs[commit]
        concerned.update(diff.trailers)
        for entry in diff.entries:
            concerned.update(op for path in entry.paths if (op := operation_of_approval(path, policy)
                                                            or operation_of_record(path, policy)))
            if record_kind(entry.path, policy):
                touched.add(entry.path)
                versions.update((entry.path, sha) for sha in (entry.old_sha, entry.new_sha) if sha != NULL_SHA)
    judge.records.prefetch_versions(versions)
    for path, sha in versions:
        one = judge.records.load({path: sha})
        concerned |= {d.operation_id for d in one.declarations} | one.invalid_ids | {e.operation_id for e in one.entries}
    return touched, concerned


def range_focus(git: Git, judge: Judge, pairs: Sequence[tuple[str, str | None]],
                diffs: Mapping[str, CommitDiff], head: str, history_base: str | None,
                net: Sequence[DiffEntry]) -> RangeFocus | None:
    """What a range's commits need of the records around them (None: load them all).

    The same narrowing as the staged change's, over every commit: the operations that could cover
    a governed path some commit touches (at any tree the range builds on), that a trailer names, or
    whose records some commit edits. None when the range alters which paths exist (``net``: its
    change from the history base to its end), starts from no commit, or uses another ledger backend.
    """
    policy = judge.policy
    in_range = {commit for commit, _parent in pairs}
    outside = {parent for _commit, parent in pairs if parent not in in_range}
    if policy.ledger_backend != "yaml" or history_base is None or None in outside or alters_paths(git, history_base, net):
        return None
    index = RecordIndex.open(git, policy)
    if index is None or index.declaration_count(history_base) < RANGE_MIN_RECORDS:
        return None
    touched, concerned = range_records(judge, pairs, diffs)
    governed = {path for commit, _parent in pairs for path in judge.governed(diffs[commit].entries)}
    points = sorted({*(p for p in outside if p is not None), history_base, head})
    wanted = set(concerned)
    for point in points:   # first pass: every operation that could cover a touched path, anywhere
        wanted |= index.needed(point, governed, sorted(concerned)).operations
    starts: dict[str, dict[str, str]] = {}
    rows: dict[str, list[tuple[str, str, str]]] = {}
    # The touched record files as each of those trees holds them: one batch for every tree.
    found = git.object_types([f"{point}:{path}" for point in points for path in sorted(touched)])
    for point in points:
        needed = index.needed(point, governed, sorted(wanted))
        starts[point] = {**needed.declarations, **{path: found[f"{point}:{path}"][1] for path in touched
                                                   if found.get(f"{point}:{path}", ("", ""))[0] == "blob"}}
        rows[point] = [row for row in needed.entries if row[0] not in touched]
    return RangeFocus(starts, index.entries(rows[head]), index.entries(rows[history_base]))
