"""Trace each governed commit to the operation that permitted it (pure functions).

The same association the gate uses, applied after the fact to history:
(a) the commit writes the operation's records (its operation record, or its
ledger entry), else (b) its message carries an ``Ops-Id:`` trailer naming it,
else (c) an operation open at the commit's time (declared, and not yet closed
by its ``ops-*`` tag) has ``ALLOWED_PATHS`` covering every governed file of the
commit other than record files.
"""
from __future__ import annotations

import dataclasses
import datetime
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.git.history import LogCommit
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import id_date
from opsgov_hooks.records.store import record_kind
from opsgov_hooks.audit.model import CommitRow
from opsgov_hooks.audit.period import UTC, Period, parse_instant



class Matcher(Protocol):
    def match_file(self, file: str) -> bool: ...


_TRAILER = re.compile(r"^ops-id\s*:\s*(.+)$", re.IGNORECASE)
_ID = re.compile(r"OPS-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{3}")


@dataclasses.dataclass(frozen=True)
class Window:
    """When an operation could permit a change by scope: from its declaration to its tag."""

    operation_id: str
    opened: datetime.datetime
    closed: datetime.datetime | None
    spec: Matcher  # its ALLOWED_PATHS (gitignore syntax)

    def is_open(self, when: datetime.datetime) -> bool:
        return self.opened <= when and (self.closed is None or when <= self.closed)

    def covers(self, path: str) -> bool:
        return bool(self.spec.match_file(path))


def gitignore_spec(patterns: Iterable[str]) -> Matcher:
    import pathspec

    spec: Matcher = pathspec.GitIgnoreSpec.from_lines(list(patterns))
    return spec


def trailer_ids(message: str) -> list[str]:
    """Operation ids named by ``Ops-Id:`` trailers (the message's last paragraph)."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return []
    ids: list[str] = []
    for line in paragraphs[-1].splitlines():
        m = _TRAILER.match(line.strip())
        if m:
            ids.extend(_ID.findall(m[1]))
    return list(dict.fromkeys(ids))


def record_ids(commit: LogCommit, policy: Policy, ledger_touches: Mapping[str, set[str]]) -> list[str]:
    """Operations whose records the commit writes: operation record files and ledger entries."""
    ids = [posixpath.basename(c.path).removesuffix(".md") for c in commit.changes
           if record_kind(c.path, policy) == "operation"]
    ids += sorted(ledger_touches.get(commit.sha, ()))
    return [i for i in dict.fromkeys(ids) if _ID.fullmatch(i)]


def declared_times(commits: Sequence[LogCommit], policy: Policy) -> dict[str, datetime.datetime]:
    """When each operation record first entered history (git log is newest first)."""
    found: dict[str, datetime.datetime] = {}
    for commit in commits:
        when = parse_instant(commit.commit_date)
        for change in commit.changes:
            if change.status == "A" and record_kind(change.path, policy) == "operation" and when is not None:
                found[posixpath.basename(change.path).removesuffix(".md")] = when
    return found


def windows(declarations: Iterable[Declaration], declared: Mapping[str, datetime.datetime],
            closed: Mapping[str, datetime.datetime]) -> list[Window]:
    result = []
    for d in declarations:
        # A record whose first commit is not in reach (a shallow clone) opens on its id's day.
        day = id_date(d.operation_id)
        fallback = datetime.datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
        opened = declared.get(d.operation_id, fallback)
        if opened is not None:
            result.append(Window(d.operation_id, opened, closed.get(d.operation_id),
                                 gitignore_spec(d.allowed_paths)))
    return result


def trace(commit: LogCommit, governed: Sequence[str], policy: Policy, known: set[str],
          ledger_touches: Mapping[str, set[str]], open_windows: Sequence[Window]) -> CommitRow:
    """The commit's row: which operations it belongs to, and by which rule."""
    when = parse_instant(commit.commit_date)
    assert when is not None  # git always prints %cI
    row = CommitRow(commit.sha, when, f"{commit.author_name} <{commit.author_email}>", commit.subject,
                    tuple(governed), (), None)
    by_record = [i for i in record_ids(commit, policy, ledger_touches) if i in known]
    named = trailer_ids(commit.message)
    by_trailer = [i for i in named if i in known]
    if by_record or by_trailer:
        ids = tuple(dict.fromkeys(by_record + by_trailer))
        return dataclasses.replace(row, operation_ids=ids, method="record" if by_record else "trailer")
    scope = _by_scope(when, governed, policy, open_windows)
    if scope:
        return dataclasses.replace(row, operation_ids=tuple(scope), method="scope")
    note = f"Ops-Id names {', '.join(named)}, which no record declares" if named else ""
    return dataclasses.replace(row, note=note)


def _by_scope(when: datetime.datetime, governed: Sequence[str], policy: Policy,
              open_windows: Sequence[Window]) -> list[str]:
    """Open operations covering every governed non-record file (none when a file is uncovered)."""
    files = [p for p in governed if not record_kind(p, policy)]
    candidates = [w for w in open_windows if w.is_open(when)]  # the sweep already narrowed them down
    if not files or not candidates:
        return []
    used: list[str] = []
    for path in files:
        covering = [w.operation_id for w in candidates if w.covers(path)]
        if not covering:
            return []
        used.extend(covering)
    return sorted(dict.fromkeys(used))


def governed_commits(commits: Sequence[LogCommit], policy: Policy, period: Period) -> list[tuple[LogCommit, list[str]]]:
    """The period's commits that touch governed paths, oldest first, with those paths."""
    spec = gitignore_spec(policy.governed_paths)
    result = []
    for commit in reversed(commits):
        when = parse_instant(commit.commit_date)
        if when is None or not period.contains(when):
            continue
        paths = sorted({c.path for c in commit.changes if spec.match_file(c.path)})
        if paths:
            result.append((when, commit, paths))
    result.sort(key=lambda item: item[0])  # stable: git's order among equal times
    return [(commit, paths) for _when, commit, paths in result]


class Sweep:
    """The windows open at a moment, for moments asked in increasing order.

    Tracing commits oldest first, each window is added once when it opens and
    dropped once after it closes: the work is linear in commits plus operations,
    not their product.
    """

    def __init__(self, all_windows: Iterable[Window]) -> None:
        self._pending = sorted(all_windows, key=lambda w: w.opened, reverse=True)
        self._active: list[Window] = []

    def at(self, when: datetime.datetime) -> list[Window]:
        while self._pending and self._pending[-1].opened <= when:
            self._active.append(self._pending.pop())
        self._active = [w for w in self._active if w.closed is None or when <= w.closed]
        return self._active
