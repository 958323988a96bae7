"""The Execution log of an operation record, parsed into steps with file line numbers.

The format is the standard's Execution Contract::

    [STEP N | 2026-01-27T10:00:00Z]            (rollback steps: [STEP N | ... | ROLLBACK])
    Command:
        <exact command>
    Result:
        <relevant output>
    Status: PASS|FAIL
    Verification:
        $ <verification command>
        <its output>

Labels and step headers count only in column 0. ``opsgov run`` indents every
captured line by four spaces, so a command's output can never forge a label, a
step or a heading. Fence lines (```) are ignored, so a log may sit in code
blocks. Hand-written, unindented content is accepted as well.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from opsgov_hooks.findings import Finding, UsageError
from opsgov_hooks.records.declaration import split_front_matter
from opsgov_hooks.records.markdown import Outline, Section, outline_of

LABELS = ("Command", "Result", "Status", "Verification")
IN_PROGRESS = "IN PROGRESS"
ROLLBACK = "ROLLBACK"
# The fields are runs of a class without '|' and ']', each ended by one of those literals: nothing
# to retry (the blanks around a field are stripped in code, not by overlapping \s* runs).
_HEADER = re.compile(r"\[STEP\s+(\d{1,9})\s*\|([^|\]]*)(?:\|([^|\]]*))?\]\s*\Z")
_LABEL = re.compile(r"(Command|Result|Status|Verification):(.*)\Z")
_FENCE = re.compile(r" {0,3}(?:`{3,}|~{3,})")
_LABEL_INITIALS = frozenset(label[0] for label in LABELS)   # a line starting otherwise is no label


@dataclasses.dataclass(frozen=True)
class Field:
    lines: tuple[str, ...]      # content, the recorder's four-space indentation removed
    line: int                   # file line of the label
    numbers: tuple[int, ...] = ()   # file line of each content line

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


@dataclasses.dataclass(frozen=True)
class Step:
    number: int
    timestamp: str
    mark: str | None
    line: int                               # file line of the [STEP ...] header
    fields: Mapping[str, Field]
    repeated: tuple[str, ...] = ()          # labels given more than once
    stray_line: int | None = None           # text between the header and the first label

    @property
    def rollback(self) -> bool:
        return self.mark == ROLLBACK

    @property
    def status(self) -> str | None:
        field = self.fields.get("Status")
        return field.text if field is not None else None

    @property
    def last_line(self) -> int:
        """The file line of the step's last label or content line."""
        return max([self.line] + [max((f.line, *f.numbers)) for f in self.fields.values()])

    def text(self, label: str) -> str:
        field = self.fields.get(label)
        return field.text if field is not None else ""

    def verification_commands(self) -> list[tuple[str, int]]:
        """(command, file line) of each ``$ command`` line of the Verification field.

        A hand-written field without ``$`` lines counts as one command per line.
        """
        field = self.fields.get("Verification")
        if field is None:
            return []
        numbered = list(zip(field.lines, field.numbers))
        marked = [(t[2:].strip(), n) for t, n in numbered if t.startswith("$ ")]
        if marked:
            return marked
        return [(t.strip(), n) for t, n in numbered if t.strip() and not t.strip().startswith("(")]


@dataclasses.dataclass(frozen=True)
class LogProblem:
    line: int
    message: str


@dataclasses.dataclass(frozen=True)
class ExecutionLog:
    heading_line: int
    steps: tuple[Step, ...]
    problems: tuple[LogProblem, ...]
    insert_line: int            # file line before which the next step goes

    def last(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if s.status == "FAIL"), None)


def find_log_section(outline: Outline) -> Section | None:
    return outline.find(lambda title: title == "execution log" or title.startswith("execution log "))


def parse_record_log(text: str, rel: str) -> ExecutionLog:
    """The Execution log of a whole operation record; :class:`UsageError` when it has none to write to."""
    split = split_front_matter(rel, text)
    if isinstance(split, Finding):
        raise UsageError(f"{rel}: {split.message}")
    _front, body, body_line = split
    log = parse_log(body, body_line)
    if log is None:
        raise UsageError(f"{rel} has no '## 3) Execution log' section; add one (see docs/OPS_RUNBOOK_TEMPLATE.md) "
                         "and run again")
    return log


def parse_log(body: str, body_line: int) -> ExecutionLog | None:
    """The Execution log of a runbook body, or None when the body has no such section."""
    outline = outline_of(body, body_line)
    section = find_log_section(outline)
    if section is None:
        return None
    parser = _Parser(outline)
    parser.feed(section.start, section.end)
    steps, problems = parser.finish()
    lines = outline.lines
    last = section.heading.index
    for i in range(section.end - 1, section.start - 1, -1):   # the last non-blank line, from the end
        if lines[i].strip():
            last = i
            break
    return ExecutionLog(outline.file_line(section.heading.index), tuple(steps), tuple(problems),
                        outline.file_line(last + 1))


class _Parser:
    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self.steps: list[Step] = []
        self.problems: list[LogProblem] = []
        self.header: tuple[int, str, str | None, int] | None = None
        self.fields: dict[str, list[tuple[str, int]]] = {}
        self.field_lines: dict[str, int] = {}
        self.label: str | None = None
        self.repeated: list[str] = []
        self.stray: int | None = None
        self.skipping = False
        self.in_comment = False

    def feed(self, start: int, end: int) -> None:
        """Read lines ``start``..``end`` of the outline. Most lines are content or blank: only a line
        whose first character allows it is matched against the fence or the label pattern."""
        fence, label_match = _FENCE.match, _LABEL.match
        for number, line in enumerate(self.outline.lines[start:end], self.outline.file_line(start)):
            first = line[:1]
            if self.header is None and (self.in_comment or first == "<") and self._comment(line):
                continue
            if (first == " " or first == "`" or first == "~") and fence(line):
                continue
            if first == "[" and line.startswith("[STEP"):
                self._header(line, number)
            elif first in _LABEL_INITIALS and (m := label_match(line)) is not None:
                self._label(m[1], m[2], number)
            elif self.label is not None:
                self.fields[self.label].append((line[4:] if line.startswith("    ") else line.lstrip(" "), number))
            elif self.header is not None and self.stray is None and line.strip():
                self.stray = number

    def _comment(self, line: str) -> bool:
        """HTML comments outside steps (template guidance) are skipped."""
        if not self.in_comment and not line.startswith("<!--"):
            return False
        self.in_comment = "-->" not in line
        return True

    def _header(self, line: str, number: int) -> None:
        self._close()
        m = _HEADER.match(line)
        if m is None:
            self.problems.append(LogProblem(number, f"malformed step header {line.strip()!r}: write "
                                            "[STEP N | <UTC ISO 8601 timestamp>] or [STEP N | ... | ROLLBACK]"))
            self.skipping = True
            return
        self.skipping = False
        mark = m[3].strip() if m[3] is not None else None
        if mark is not None and mark != ROLLBACK:
            self.problems.append(LogProblem(number, f"unknown step mark {mark!r}: the only mark is ROLLBACK"))
        self.header = (int(m[1]), m[2].strip(), mark, number)

    def _label(self, label: str, inline: str, number: int) -> None:
        if self.header is None:
            if not self.skipping:
                self.problems.append(LogProblem(number, f"'{label}:' outside a step: start the step with "
                                                "[STEP N | <UTC timestamp>]"))
            return
        if label in self.fields:
            self.repeated.append(label)
        self.label = label
        self.fields[label] = [(inline.strip(), number)] if inline.strip() else []
        self.field_lines[label] = number

    def _close(self) -> None:
        if self.header is None:
            return
        number, timestamp, mark, line = self.header
        fields = {}
        for label, content in self.fields.items():
            while content and not content[-1][0].strip():
                content.pop()
            texts: tuple[str, ...] = ()
            numbers: tuple[int, ...] = ()
            if content:
                texts, numbers = zip(*content)   # (text, line) pairs -> the texts, the lines
            fields[label] = Field(texts, self.field_lines[label], numbers)
        self.steps.append(Step(number, timestamp, mark, line, fields, tuple(self.repeated), self.stray))
        self.header, self.fields, self.field_lines, self.label = None, {}, {}, None
        self.repeated, self.stray = [], None

    def finish(self) -> tuple[list[Step], list[LogProblem]]:
        self._close()
        return self.steps, self.problems
