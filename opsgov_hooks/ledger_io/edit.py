"""Change fields of one entry in place, touching only that entry's lines.

The edit is computed from the YAML node tree: an existing value's characters are
replaced where they stand (its key, a trailing comment, and every other line stay
as they were); a new field is inserted as one line right after the entry's last
value. The result is parsed again and must equal the old entries with exactly
the requested changes, or nothing is written.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from opsgov_hooks.findings import UsageError
from opsgov_hooks.ledger_io.render import ordered_keys, scalar
from opsgov_hooks.records.yamlstrict import Document

Edit = tuple[int, int, str]  # (start, end, replacement), character offsets


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def entry_edits(doc: Document, text: str, changes: Mapping[str, Any]) -> list[Edit]:
    """The edits that apply ``changes`` to the entry ``doc`` parsed from ``text`` (offsets into ``text``)."""
    node = doc.node
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        raise UsageError(f"{doc.path}: the entry at line {node.start_mark.line + 1} is written in flow style "
                         "({...}); rewrite it as one 'key: value' per line so opsgov can update it in place")
    newline = newline_of(text)
    existing = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    edits: list[Edit] = []
    additions: list[str] = []
    for key in ordered_keys(changes):
        if key in existing:
            value = existing[key]
            start, end = value.start_mark.index, value.end_mark.index
            tail = newline if text[start:end].endswith("\n") else ""  # a block scalar owns its line break
            edits.append((start, end, scalar(changes[key]) + tail))
        else:
            additions.append(f"{' ' * node.start_mark.column}{key}: {scalar(changes[key])}{newline}")
    if additions:
        edits.append(_insertion(text, node.value[-1][1].end_mark.index, "".join(additions), newline))
    return edits


def _insertion(text: str, after: int, lines: str, newline: str) -> Edit:
    """New lines go at the start of the line that follows the entry's last value."""
    if after > 0 and text[after - 1] == "\n":
        return (after, after, lines)
    line_end = text.find("\n", after)
    if line_end == -1:
        return (len(text), len(text), newline + lines)
    return (line_end + 1, line_end + 1, lines)


def apply_edits(text: str, edits: Sequence[Edit], offset: int = 0) -> str:
    """Apply edits (offsets relative to ``offset`` in ``text``), last first so offsets stay valid."""
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:offset + start] + replacement + text[offset + end:]
    return text
