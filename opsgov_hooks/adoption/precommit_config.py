"""Add opsgov's ``- repo:`` item to an existing ``.pre-commit-config.yaml``, keeping everything else.

Text insertion, not a YAML round trip: the team's comments, quoting and order stay byte for
byte. The item goes after the last line of the top-level ``repos:`` block sequence, indented
like its other items (or ``repos: []`` becomes a block with this one item). The result is
parsed and must be the old document with exactly one more item at the end of ``repos``;
anything else (a flow list, anchors, a file that does not parse) is left alone, and the
caller prints the item to add by hand.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

_REPOS = re.compile(r"repos[ \t]*:[ \t]*(?:#.*)?\Z")
_EMPTY_FLOW = re.compile(r"repos[ \t]*:[ \t]*\[[ \t]*\][ \t]*(#.*)?\Z")
_ITEM = re.compile(r"( *)- ")


def _load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _reindent(item: str, indent: int) -> list[str]:
    """The item (written at column 2 under ``repos:``) moved to ``indent`` spaces."""
    lines = item.rstrip("\n").split("\n")
    return [(" " * indent + line[2:]) if line.strip() else "" for line in lines]


def insert_item(text: str, item: str) -> str | None:
    """``text`` with ``item`` appended to its ``repos:`` list, or None when that cannot be done safely."""
    before = _load(text)
    if not isinstance(before, dict) or not isinstance(before.get("repos"), list):
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if _REPOS.match(line) or _EMPTY_FLOW.match(line)]
    if len(starts) != 1:
        return None
    start = starts[0]
    if _EMPTY_FLOW.match(lines[start]):
        comment = _EMPTY_FLOW.match(lines[start])[1]  # type: ignore[index]
        new = lines[:start] + ["repos:" + (f"  {comment}" if comment else "")] + _reindent(item, 2) + lines[start + 1:]
    else:
        end, indent = start + 1, None
        for i in range(start + 1, len(lines)):
            line = lines[i]
            if line.strip() and not line.startswith((" ", "\t", "#", "-")):
                break                      # the next top-level key
            if line.strip() and not line.lstrip().startswith("#"):
                end = i + 1                # the block's last content line
                m = _ITEM.match(line)
                if indent is None and m:
                    indent = len(m[1])
        new = lines[:end] + _reindent(item, indent if indent is not None else 2) + lines[end:]
    result = newline.join(new)
    after = _load(result)
    expected = dict(before, repos=[*before["repos"], *_load("repos:\n" + item)["repos"]])
    return result if after == expected else None
