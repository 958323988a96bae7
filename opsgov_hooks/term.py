"""Terminal manners shared by the commands: colour, progress and ``--quiet``.

Colour and progress are for people at a terminal only: never in a pipe, a file
or CI logs, and never when ``NO_COLOR`` is set (https://no-color.org: any
non-empty value). Output meant for machines (JSON, reports) never goes through
here.
"""
from __future__ import annotations

import os
from typing import TextIO

_COLOURS = {"green": "32", "yellow": "33", "red": "31", "bold": "1", "dim": "2", "cyan": "36"}


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream is not a terminal
        return False


def colour_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def paint(text: str, colour: str, stream: TextIO) -> str:
    """``text`` in ``colour`` when ``stream`` is a colour terminal, else unchanged."""
    code = _COLOURS.get(colour)
    if code is None or not colour_enabled(stream):
        return text
    return f"\033[{code}m{text}\033[0m"


class Progress:
    """One self-overwriting status line on a terminal; silent anywhere else.

    Long runs (a report over years of history) say what they are doing, but a
    pipe or a CI log never receives carriage returns.
    """

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.enabled = not quiet and is_terminal(stream)
        self._width = 0

    def update(self, message: str) -> None:
        if not self.enabled:
            return
        line = message[:78]
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._width = len(line)

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.done()


class Printer:
    """Status lines for people: suppressed by ``--quiet``; what needs action is always printed."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet

    def info(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(text + "\n")

    def always(self, text: str) -> None:
        self.stream.write(text + "\n")

    def paint(self, text: str, colour: str) -> str:
        return paint(text, colour, self.stream)
