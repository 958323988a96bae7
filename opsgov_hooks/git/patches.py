"""Added lines of zero-context patches, for the content rules (NOT ALLOWED patterns, secrets).

The parser trusts only what git generates: hunk headers give exact line counts, so an
added line that looks like a file header ("+++ b/x") or a commit marker is never
taken for one. Binary files have no hunks and so no added lines.
"""
from __future__ import annotations

import dataclasses
import re

_HUNK = re.compile(rb"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13,
            ord('"'): ord('"'), ord("\\"): ord("\\")}


@dataclasses.dataclass(frozen=True)
class AddedLine:
    path: str
    line: int       # 1-based line number in the new file
    text: str


def unquote_path(raw: bytes) -> str:
    """A path as git prints it in a patch header: C-quoted when it holds special bytes."""
    if not (raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2):
        return raw.decode("utf-8", "surrogateescape")
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        byte = body[i]
        if byte != ord("\\") or i + 1 >= len(body):
            out.append(byte)
            i += 1
        elif body[i + 1:i + 4].isdigit() and len(body[i + 1:i + 4]) == 3:
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
    return bytes(out).decode("utf-8", "surrogateescape")


def _new_path(line: bytes) -> str | None:
    """The path of a ``+++ b/<path>`` header; None for ``+++ /dev/null``."""
    target = line[4:]
    if target == b"/dev/null":
        return None
    if not target.startswith(b'"'):
        target = target.removesuffix(b"\t")  # git appends a tab when the path holds a space
    path = unquote_path(target)
    return path[2:] if path.startswith("b/") else path


_COMBINED_RANGE = re.compile(rb"[-+](\d+)(?:,(\d+))?")


class _Parser:
    """Hunks of a plain patch (one parent) or of a combined one (``--cc``: one column per parent).

    In a combined hunk a line of the result carries ``+`` in the columns of the parents that
    lack it and a space in those that have it; a removed line carries ``-`` where a parent had
    it. Only a line added against *every* parent is the merge's own; the others came from one
    of its parents and are judged on the commits that made them.
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.columns = 1
        self.old_left = [0]
        self.new_left = 0
        self.next_line = 0

    def in_hunk(self) -> bool:
        return self.new_left > 0 or any(n > 0 for n in self.old_left)

    def hunk_line(self, line: bytes, out: list[AddedLine]) -> None:
        marks = line[:self.columns]
        if line.startswith(b"\\"):
            return  # "\ No newline at end of file"
        if b"-" in marks:
            for i, mark in enumerate(marks):
                if mark == ord("-"):
                    self.old_left[i] -= 1
            if len(marks) < self.columns:
                self.old_left = [0] * self.columns  # a truncated patch: leave the hunk
            return
        if len(marks) == self.columns and marks == b"+" * self.columns and self.path is not None:
            text = line[self.columns:].decode("utf-8", "replace").rstrip("\r")
            out.append(AddedLine(self.path, self.next_line, text))
        for i, mark in enumerate(marks):
            if mark != ord("+"):
                self.old_left[i] -= 1   # a line the parent has too (context)
        if len(marks) < self.columns:
            self.old_left = [0] * self.columns
        self.next_line += 1
        self.new_left -= 1

    def header_line(self, line: bytes) -> None:
        if line.startswith(b"diff --git ") or line.startswith(b"diff --cc ") or line.startswith(b"diff --combined "):
            self.path = None
        elif line.startswith(b"+++ "):
            self.path = _new_path(line)
        elif line.startswith(b"@@@"):
            self._combined_header(line)
        elif line.startswith(b"@@ "):
            m = _HUNK.match(line)
            if m:
                self.columns = 1
                self.old_left = [int(m[1]) if m[1] is not None else 1]
                self.new_left = int(m[3]) if m[3] is not None else 1
                self.next_line = int(m[2])

    def _combined_header(self, line: bytes) -> None:
        """``@@@ -a,b -c,d +e,f @@@`` (one ``@`` more than there are parents)."""
        marker = len(line) - len(line.lstrip(b"@"))
        end = line.find(b" " + b"@" * marker, marker)
        if end < 0:
            return
        ranges = _COMBINED_RANGE.findall(line[marker:end])
        if len(ranges) != marker or marker < 2:
            return
        self.columns = marker - 1
        self.old_left = [int(count) if count else 1 for _start, count in ranges[:-1]]
        start, count = ranges[-1]
        self.new_left = int(count) if count else 1
        self.next_line = int(start)


def added_lines(patch: bytes) -> list[AddedLine]:
    """Every added line of a patch of one change (no commit markers)."""
    return added_lines_by_commit(patch, markers=False).get("", [])


def added_lines_by_commit(patch: bytes, *, markers: bool = True) -> dict[str, list[AddedLine]]:
    """Added lines per commit of ``diff-tree --stdin --format=%x01%H -p`` (or ``--cc``) output."""
    result: dict[str, list[AddedLine]] = {"": []} if not markers else {}
    current: list[AddedLine] = result.get("", [])
    parser = _Parser()
    for line in patch.split(b"\n"):
        if parser.in_hunk():
            parser.hunk_line(line, current)
        elif markers and line.startswith(b"\x01"):
            current = result.setdefault(line[1:].decode("ascii", "replace").strip(), [])
            parser = _Parser()
        else:
            parser.header_line(line)
    return result
