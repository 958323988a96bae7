"""The sections of an operation record's runbook: ATX headings outside fenced code.

Only headings that start in column 0 count. Recorded output and multi-line
declaration values are always indented, so neither can forge a section.
Line numbers are file lines (1-based), so findings point into the record.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\Z")   # the definition; _heading() applies it
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FENCE_FIRST = frozenset(" `~")   # the first character of any line _FENCE matches
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
        self.in_fence, self.headings = _scan(self.lines)
        # Rules look sections up by title several times per record: each title is normalised and
        # each section's end found once, and a section is built the first time it is asked for.
        self._titles = [normalise(h.title) for h in self.headings]
        self._ends = _section_ends(self.headings, len(self.lines))
        self._sections: dict[int, Section] = {}

    def file_line(self, index: int) -> int:
        return self.first_line + index

    def section(self, heading: Heading) -> Section:
        known = self._sections.get(heading.index)
        if known is not None and known.heading is heading:
            return known
        end = next((h.index for h in self.headings if h.index > heading.index and h.level <= heading.level),
                   len(self.lines))
        return Section(heading, heading.index + 1, end)

    def find(self, match: Callable[[str], bool], *, level: int | None = None,
             within: Section | None = None) -> Section | None:
        """The first section whose normalised title satisfies ``match``."""
        for position, (h, title) in enumerate(zip(self.headings, self._titles)):
            if within is not None and not within.start <= h.index < within.end:
                continue
            if (level is None or h.level == level) and match(title):
                return self._section_at(position)
        return None

    def first_by_title(self, within: Section) -> dict[str, Section]:
        """For each normalised title under ``within``, its first section: what :meth:`find` with
        ``within`` and a test of equality would answer, for every title in one pass."""
        first: dict[str, Section] = {}
        for position, (h, title) in enumerate(zip(self.headings, self._titles)):
            if within.start <= h.index < within.end and title not in first:
                first[title] = self._section_at(position)
        return first

    def _section_at(self, position: int) -> Section:
        h = self.headings[position]
        known = self._sections.get(h.index)
        if known is None:
            known = self._sections[h.index] = Section(h, h.index + 1, self._ends[position])
        return known


@functools.lru_cache(maxsize=4096)   # the same few titles recur in every runbook
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
    if "\r" not in text:
        return lines
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _scan(lines: Sequence[str]) -> tuple[list[bool], list[Heading]]:
    """For each line, is it a fence line or inside fenced code (CommonMark rules, simplified);
    and the headings outside fenced code. One pass, looking only at lines whose first
    character lets them be a fence or a heading.

    Only fence lines change the fence state: a block runs from its opening fence line through
    its closing one (or to the end), so the lines in between are filled in, not matched. A
    heading line is never a fence line, so it is fenced exactly when a block is open.
    """
    fenced = [False] * len(lines)
    headings = []
    opener: str | None = None
    opened = 0
    for i, line in enumerate(lines):
        first = line[:1]
        if first == "#":
            if opener is None:
                heading = _heading(line)
                if heading is not None:
                    headings.append(Heading(heading[0], heading[1], i))
            continue
        if first != "`" and first != "~" and first != " ":    # a fence starts with one of these
            continue
        m = _FENCE.match(line)
        if m is None:
            continue
        if opener is None:
            opener, opened = m[1], i
        elif m[1][0] == opener[0] and len(m[1]) >= len(opener) and not line[m.end():].strip():
            fenced[opened:i + 1] = [True] * (i + 1 - opened)
            opener = None
    if opener is not None:
        fenced[opened:] = [True] * (len(lines) - opened)
    return fenced, headings


@functools.lru_cache(maxsize=4096)   # most heading lines ('## 5) Report') recur in every runbook
def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading line: what ``_HEADING`` matches, in string operations.

    The regex's lazy title is tried one character at a time against the optional closing
    sequence, the largest share of building an outline. Its answer is: the text after the
    opening hashes and blanks, without trailing blanks, and without a closing run of hashes
    when blanks precede it.
    """
    rest = line.lstrip("#")
    level = len(line) - len(rest)
    if not 1 <= level <= 6 or rest[:1] not in (" ", "\t"):
        return None
    title = rest.lstrip(" \t").rstrip(" \t")
    bare = title.rstrip("#")
    if len(bare) < len(title) and bare[-1:] in (" ", "\t"):
        title = bare.rstrip(" \t")
    return level, title


def _section_ends(headings: Sequence[Heading], count: int) -> list[int]:
    """For each heading, the index after its section: the next heading of the same or a higher level."""
    ends = [count] * len(headings)
    open_: list[int] = []      # positions of headings whose end is not known yet, levels increasing
    for position, h in enumerate(headings):
        while open_ and headings[open_[-1]].level >= h.level:
            ends[open_.pop()] = h.index
        open_.append(position)
    return ends


def fenced_block(outline: Outline, section: Section, info: re.Pattern[str]) -> tuple[int, int] | None:
    """(opening, closing) line indexes of the first fenced block of ``section`` whose info string
    matches ``info``; the closing index is ``section.end`` when the block is never closed."""
    lines = outline.lines
    for i in range(section.start, section.end):
        if lines[i][:1] not in _FENCE_FIRST:   # what _FENCE cannot match, without calling it
            continue
        m = _FENCE.match(lines[i])
        if m is None or not info.fullmatch(lines[i][m.end():].strip()):
            continue
        fence = m[1]
        for j in range(i + 1, section.end):
            closing = outline.lines[j].strip()
            if closing.startswith(fence) and not closing.strip(fence[0]):
                return i, j
        return i, section.end
    return None


_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def strip_comments(text: str) -> str:
    """Text without HTML comments: template guidance is not content."""
    return _COMMENT.sub("", text)


@functools.lru_cache(maxsize=65536)
def outline_of(text: str, first_line: int = 1) -> Outline:
    """The outline of a runbook body, built once however many rules read it (do not mutate it)."""
    return Outline(text, first_line)
