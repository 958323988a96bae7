"""The staged check on the records it needs, when the change touches no record.

Most commits in a governed repository change configuration, not records: a developer
edits three files under an operation's ALLOWED_PATHS and commits. Judging that change
needs the operations that could cover those files (or that its trailers name) and their
ledger entries, not the other 10,000 operations of the repository. The record index
(:mod:`opsgov_hooks.speed.record_index`) says which record files those are; this module
says when that is enough.

It is enough when the change touches no record file: no declaration, ledger file or
approval record is added, edited, renamed or removed. Then the records of the index are
those of HEAD, and

* record findings and frozen scopes are the same at HEAD and in the index, so the change
  answers for none of them (:func:`~opsgov_hooks.check.pipeline.record_findings`);
* no ledger entry differs, so the history rules answer for no entry, and for no tag; a
  rollback procedure is judged again only when the change alters which paths exist, and
  then the full load runs (below);
* association, scope, entries and approvals read only the operations that could cover a
  touched path or that a trailer names, and their entries: exactly what is loaded.

Anything else (a record file in the change, a removed or renamed path, a merge being
concluded, another ledger backend, the caches turned off) takes the full load.
"""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.check.judge import Judge
from opsgov_hooks.git.diffs import DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.rules.association import operation_of_approval
from opsgov_hooks.speed.record_index import RecordIndex


def touches_records(entries: Sequence[DiffEntry], judge: Judge) -> bool:
    policy = judge.policy
    return any(record_kind(path, policy) or operation_of_approval(path, policy) or path.startswith(
        policy.approvals_dir + "/") for entry in entries for path in entry.paths)


def focused_records(git: Git, judge: Judge, entries: Sequence[DiffEntry], trailers: Sequence[str],
                    head: str | None, merging: set[str] | None) -> RecordSet | None:
    """HEAD's records of the operations the staged change can concern (None: load them all).

    None unless the change touches no record file and alters no path's existence (see the
    module's docstring), and the clone keeps a record index.
    """
    if head is None or merging is not None or judge.policy.ledger_backend != "yaml":
        return None
    if touches_records(entries, judge) or alters_paths(git, head, entries):
        return None
    index = RecordIndex.open(git, judge.policy)
    if index is None:
        return None
    needed = index.needed(head, judge.governed(entries), trailers)
    records = judge.records.load(needed.declarations)
    records.entries = index.entries(needed.entries)
    records.files = sorted({*records.files, *(path for path, _blob, _op in needed.entries)})
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
