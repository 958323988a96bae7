"""Allocate the next operation id of a UTC day: ``OPS-YYYY-MM-DD-NNN``.

The next id goes *past* every id of that day already used anywhere opsgov looks:
operation record file names, ledger files (any mention, so a malformed entry
still reserves its id) and ``ops-*`` tags. Gaps are never reused: an id that was
once used, even by a deleted record, is taken.
"""
from __future__ import annotations

import datetime
import os
import re

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.sources import WorktreeSource

MAX_SEQUENCE = 999


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse_day(text: str) -> datetime.date:
    """A ``--date`` value; :class:`UsageError` unless it is a real YYYY-MM-DD date."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise UsageError(f"--date {text!r} is not a date: write YYYY-MM-DD (UTC), e.g. 2026-01-27")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text} is not a real calendar date") from None


def used_sequences(root: str, policy: Policy, day: datetime.date, tag_names: list[str]) -> set[int]:
    """The NNN of every id of ``day`` used in records, ledger files and tag names."""
    pattern = re.compile(rf"OPS-{day.isoformat()}-([0-9]{{3}})", re.IGNORECASE)
    source = WorktreeSource(root)
    texts = [os.path.basename(p) for p in source.list([policy.operations_dir])]
    if policy.ledger_backend != "tags":
        ledger = source.read_many(source.list([policy.ledger_path]))
        texts += [raw.decode("utf-8", "replace") for raw in ledger.values() if raw is not None]
    texts += tag_names
    return {int(m[1]) for text in texts for m in pattern.finditer(text)}


def next_id(root: str, policy: Policy, day: datetime.date, tag_names: list[str]) -> str:
    used = used_sequences(root, policy, day, tag_names)
    sequence = max(used, default=0) + 1
    if sequence > MAX_SEQUENCE:
        raise UsageError(f"every id of {day.isoformat()} up to OPS-{day.isoformat()}-{MAX_SEQUENCE:03d} is "
                         "used; declare the operation on another day with --date YYYY-MM-DD")
    return f"OPS-{day.isoformat()}-{sequence:03d}"


def ops_tag_names(root: str) -> list[str]:
    """Names of the repository's ``ops-*`` tags (none outside a git repository)."""
    if not os.path.exists(os.path.join(root, ".git")):
        return []
    return [tag.name for tag in Git(root).ops_tags()]
