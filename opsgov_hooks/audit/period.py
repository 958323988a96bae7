"""The period a report covers: ``--since`` and ``--until``, both in UTC and inclusive."""
from __future__ import annotations

import dataclasses
import datetime
import re

from opsgov_hooks.findings import UsageError

UTC = datetime.timezone.utc
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


@dataclasses.dataclass(frozen=True)
class Period:
    since: datetime.datetime | None   # None: from the beginning of history
    until: datetime.datetime

    def contains(self, when: datetime.datetime | None) -> bool:
        if when is None:
            return False
        return (self.since is None or when >= self.since) and when <= self.until


def parse_bound(text: str, *, end_of_day: bool, option: str) -> datetime.datetime:
    """A date (a whole UTC day) or an instant with its offset, as an aware UTC datetime."""
    value = text.strip()
    try:
        if _DATE.match(value):
            day = datetime.date.fromisoformat(value)
            start = datetime.datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + datetime.timedelta(days=1, microseconds=-1) if end_of_day else start
        moment = datetime.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(f"{option} {text!r} is not a date or a UTC instant; give e.g. 2026-01-27 or "
                         "2026-01-27T10:00:00Z")
    return moment.astimezone(UTC)


def make_period(since: str | None, until: str | None, now: datetime.datetime) -> Period:
    start = parse_bound(since, end_of_day=False, option="--since") if since else None
    end = parse_bound(until, end_of_day=True, option="--until") if until else now
    if start is not None and start > end:
        raise UsageError(f"--since {since} is after --until {until or 'now'}; swap them")
    return Period(start, end)


def parse_instant(text: object) -> datetime.datetime | None:
    """A timestamp from a record or from git (any offset), in UTC; None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def iso(when: datetime.datetime | None) -> str | None:
    """UTC, to the second, with a Z: the one way the report writes instants."""
    if when is None:
        return None
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
