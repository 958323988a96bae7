"""The sections of an operation record's runbook: ATX headings outside fenced code.

Only headings that start in column 0 count. Recorded output and multi-line
declaration values are always indented, so neither can forge a section.
Line numbers are file lines (1-based), so findings point into the record.
"""
from __future__ import annotations

import functools

import dataclasses
import re
from collections.abc import Callable, Sequence

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\Z")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NUMBERING = re.compile(r"\A(?:\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+")


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int
    title: str
    index: int          # index into the lines


@dataclasses.dataclass(frozen=True)
class Section:
    heading: Heading
    start: int          # index of the first line after the heading
    end: int            # index after the section's last line

    @property
    def title(self) -> str:
        return self.heading.title


class Outline:
    """Lines of a Markdown text and its headings; ``first_line`` is the file line of ``lines[0]``."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.lines = split_lines(text)
        self.first_line = first_line
        self.in_fence = _fenced(self.lines)
        self.headings = _headings(self.lines, self.in_fence)

    def file_line(self, index: int) -> int:
        return self.first_line + index

    def section(self, heading: Heading) -> Section:
        end = next((h.index for h in self.headings if h.index > heading.index and h.level <= heading.level),
                   len(self.lines))
        return Section(heading, heading.index + 1, end)

    def find(self, match: Callable[[str], bool], *, level: int | None = None,
             within: Section | None = None) -> Section | None:
        """The first section whose normalised title satisfies ``match``."""
        for h in self.headings:
            if within is not None and not within.start <= h.index < within.end:
                continue
            if (level is None or h.level == level) and match(normalise(h.title)):
                return self.section(h)
        return None


def normalise(title: str) -> str:
    """'5) Report' -> 'report'; '6) Sign-off & Ledger Entry' -> 'signoff and ledger entry'."""
    text = _NUMBERING.sub("", title.strip()).rstrip(":").strip()
    text = text.replace("&", " and ").replace("sign-off", "signoff").replace("Sign-off", "signoff")
    return " ".join(text.casefold().split())


def split_lines(text: str) -> list[str]:
    """Lines split on ``\n`` only (``str.splitlines`` also splits on form feeds and U+2028,
    which would make line numbers disagree with every editor and with git)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _headings(lines: Sequence[str], fenced: Sequence[bool]) -> list[Heading]:
    found = []
    for i, line in enumerate(lines):
        if fenced[i] or not line.startswith("#"):
            continue
        m = _HEADING.match(line)
        if m:
            found.append(Heading(len(m[1]), m[2], i))
    return found


def _fenced(lines: Sequence[str]) -> list[bool]:
    """For each line: is it a fence line or inside fenced code (CommonMark rules, simplified)?"""
    result = []
    opener: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if opener is None:
            if m:
                opener = m[1]
            result.append(opener is not None)
            continue
        result.append(True)
        if m and m[1][0] == opener[0] and len(m[1]) >= len(opener) and not line[m.end():].strip():
            opener = None
    return result


def fenced_block(outline: Outline, section: Section, info: re.Pattern[str]) -> tuple[int, int] | None:
    """(opening, closing) line indexes of the first fenced block of ``section`` whose info string
    matches ``info``; the closing index is ``section.end`` when the block is never closed."""
    for i in range(section.start, section.end):
        m = _FENCE.match(outline.lines[i])
        if m is None or not info.fullmatch(outline.lines[i][m.end():].strip()):
            continue
        fence = m[1]
        for j in range(i + 1, section.end):
            closing = outline.lines[j].strip()
            if closing.startswith(fence) and not closing.strip(fence[0]):
                return i, j
        return i, section.end
    return None


def strip_comments(text: str) -> str:
    """Text without HTML comments: template guidance is not content."""
    return re.sub(r"<!--.*?(?:-->|\Z)", "", text, flags=re.S)


@functools.lru_cache(maxsize=65536)
def outline_of(text: str, first_line: int = 1) -> Outline:
    """The outline of a runbook body, built once however many rules read it (do not mutate it)."""
    return Outline(text, first_line)
