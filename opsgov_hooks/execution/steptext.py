"""How ``opsgov run`` writes a step, and the surgery that puts it into a record.

A recorded step sits in a ```text fenced block (so Markdown shows it verbatim)
and every captured line is indented by four spaces: output can neither close the
fence (CommonMark allows at most three spaces before a closing fence) nor forge a
label, a step header or a heading, which count only in column 0.
"""
from __future__ import annotations

import re
import shlex
import signal
from collections.abc import Sequence

from opsgov_hooks.execution.procrun import Outcome

FENCE_OPEN = "```text"
FENCE_CLOSE = "```"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def escape(text: str) -> str:
    """Printable text: newlines normalised, other control characters (ANSI colours...) escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def command_text(argv: Sequence[str]) -> str:
    """The exact command, shell-quoted so it can be copied; never more than one line."""
    return shlex.join(argv).replace("\n", "\\n").replace("\r", "\\r")


def step_lines(number: int, timestamp: str, rollback: bool, command: str, result: Sequence[str],
               status: str, verification: Sequence[str]) -> list[str]:
    mark = " | ROLLBACK" if rollback else ""
    return [f"[STEP {number} | {timestamp}{mark}]", "Command:", *_indent([command]), "Result:", *_indent(result),
            f"Status: {status}", "Verification:", *_indent(verification)]


def _indent(lines: Sequence[str]) -> list[str]:
    return [f"    {line}" if line else "" for line in lines] or ["    (none)"]


def exit_text(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


def result_lines(outcome: Outcome, timeout: float | None, cap: int | None = None) -> list[str]:
    """The Result (or one verification's) lines: what happened, then the output."""
    if outcome.error is not None:
        return [f"could not start: {outcome.error}"]
    if outcome.interrupted:
        head = (f"INTERRUPTED by {outcome.interrupted} after {outcome.seconds:.1f}s: the command was stopped "
                f"({exit_text(outcome.returncode)}); its effect may be partial")
    elif outcome.timed_out:
        head = f"TIMED OUT after {timeout:g}s: the command was stopped ({exit_text(outcome.returncode)})"
    else:
        head = f"{exit_text(outcome.returncode)} in {outcome.seconds:.2f}s"
    return [head, *output_lines(outcome, cap)]


def output_lines(outcome: Outcome, cap: int | None = None) -> list[str]:
    head, tail, omitted = outcome.head, outcome.tail, outcome.omitted
    if cap is not None and len(head) + len(tail) > cap:
        omitted += len(head) + len(tail) - cap
        head, tail = head[:cap // 2], (tail[len(tail) - cap // 2:] if cap // 2 else b"")
    text = head.decode("utf-8", "replace")
    if omitted:
        text += f"\n[... {omitted} bytes of output omitted ...]\n"
    text += tail.decode("utf-8", "replace")
    lines = escape(text).rstrip("\n").split("\n") if text.strip() else ["(no output)"]
    if outcome.output_open:
        lines.append("(a background process kept the output open; its later output is not recorded)")
    return lines


# -- text surgery: only the step's own bytes change ----------------------------------------------------

def newline_of(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def insert_block(text: str, line: int, block: Sequence[str]) -> str:
    """``text`` with a blank line and ``block`` inserted before file line ``line`` (1-based)."""
    nl = newline_of(text)
    starts = _line_starts(text)
    offset = starts[line - 1] if line - 1 < len(starts) else len(text)
    prefix = "" if offset == 0 or text[offset - 1] == "\n" else nl
    return text[:offset] + prefix + nl + nl.join(block) + nl + text[offset:]


def replace_lines(text: str, first: int, last: int, lines: Sequence[str]) -> str:
    """``text`` with file lines ``first``..``last`` (1-based, inclusive) replaced by ``lines``."""
    nl = newline_of(text)
    starts = _line_starts(text)
    begin = starts[first - 1]
    end = starts[last] if last < len(starts) else len(text)
    return text[:begin] + "".join(line + nl for line in lines) + text[end:]
