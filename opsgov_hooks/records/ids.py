"""Operation ids: ``OPS-YYYY-MM-DD-NNN`` with a real calendar date."""
from __future__ import annotations

import datetime
import re

ID_RE = re.compile(r"OPS-([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{3})\Z")
# An operation id as it stands in a file's bytes (ids never overlap: 'O' starts each one).
ID_BYTES = re.compile(rb"OPS-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{3}")
TAG_PREFIX = "ops-"


def id_date(operation_id: str) -> datetime.date | None:
    """The id's date, or None when the id is malformed or the date is not a real day."""
    m = ID_RE.match(operation_id)
    if not m:
        return None
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def tag_name(operation_id: str) -> str:
    return operation_id.lower()


def id_from_tag(name: str) -> str:
    return name.upper()


def parse_utc(timestamp: str) -> datetime.datetime | None:
    """An aware UTC datetime, or None when the text is not a real ISO 8601 UTC instant."""
    text = timestamp[:-1] + "+00:00" if timestamp.endswith("Z") else timestamp
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() != datetime.timedelta(0):
        return None
    return value
