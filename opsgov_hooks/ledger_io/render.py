"""Write ledger values as YAML that the strict loader reads back exactly.

A value is written plain when that round-trips (``SELF``, ``2026-01-27T10:00:00Z``),
single-quoted otherwise (``'command: git revert abc1234'``, ``'true'``, ``'no'``, ``'010'``:
also never a boolean or number to a YAML 1.1 reader), and
double-quoted with escapes when it spans lines or holds control characters.
Each choice is checked by parsing it back, so a value can never change meaning.
"""
from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import yaml

from opsgov_hooks.records.ledger import FIELD_ORDER
from opsgov_hooks.records.yamlstrict import load_documents


def ordered_keys(fields: Mapping[str, Any]) -> list[str]:
    known = [k for k in FIELD_ORDER if k in fields]
    return known + sorted(k for k in fields if k not in FIELD_ORDER)


def scalar(value: Any) -> str:
    """The YAML text of one value (str, bool or int)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    for candidate in (text, "'" + text.replace("'", "''") + "'"):
        if "\n" not in candidate and "\r" not in candidate and _reads_back(candidate, text):
            return candidate
    return json.dumps(text, ensure_ascii=False)


def _reads_back(candidate: str, expected: str) -> bool:
    """Read back as the same text by opsgov, and not as a number, boolean or null by YAML 1.1 tools (yq, PyYAML)."""
    docs, findings = load_documents("<value>", f"k: {candidate}\n")
    if findings or len(docs) != 1 or docs[0].data != {"k": expected}:
        return False
    try:
        other = yaml.safe_load(f"k: {candidate}\n")
    except (yaml.YAMLError, ValueError):  # e.g. a timestamp-like value with month 13
        return False
    return isinstance(other, dict) and isinstance(other.get("k"), (str, datetime.date))


def render_entry(fields: Mapping[str, Any], newline: str = "\n") -> str:
    """``key: value`` lines of one entry, without the ``---`` marker; None values are left out."""
    return "".join(f"{key}: {scalar(fields[key])}{newline}" for key in ordered_keys(fields)
                   if fields[key] is not None)
