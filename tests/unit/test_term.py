"""Terminal manners: colour and progress only on a terminal, never with NO_COLOR; shell completion."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from opsgov_hooks.term import Printer, Progress, colour_enabled, paint


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert paint("ok", "green", FakeTerminal()) == "\033[32mok\033[0m"
    assert paint("ok", "green", io.StringIO()) == "ok"


@pytest.mark.parametrize(("name", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_colour_when_asked(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv(name, value)
    assert colour_enabled(FakeTerminal()) is False
    assert paint("ok", "green", FakeTerminal()) == "ok"


def test_progress_overwrites_one_line_on_a_terminal_and_is_silent_elsewhere() -> None:
    tty = FakeTerminal()
    with Progress(tty) as progress:
        progress.update("reading history...")
        progress.update("done?")
    assert tty.getvalue() == "\rreading history...\rdone?             \r     \r"
    pipe = io.StringIO()
    with Progress(pipe) as progress:
        progress.update("reading history...")
    assert pipe.getvalue() == ""
    quiet = FakeTerminal()
    with Progress(quiet, quiet=True) as progress:
        progress.update("reading history...")
    assert quiet.getvalue() == ""


def test_quiet_printer_still_prints_what_needs_action() -> None:
    out = io.StringIO()
    printer = Printer(out, quiet=True)
    printer.info("created x")
    printer.always("add this snippet")
    assert out.getvalue() == "add this snippet\n"


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F _opsgov_completion opsgov"),
                                               ("zsh", "compdef _opsgov_completion opsgov"),
                                               ("fish", "complete --no-files --command opsgov")])
def test_shell_completion_script(shell: str, marker: str) -> None:
    env = {**os.environ, "_OPSGOV_COMPLETE": f"{shell}_source"}
    proc = subprocess.run((sys.executable, "-m", "opsgov_hooks"), capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout


def test_completion_completes_subcommands() -> None:
    env = {**os.environ, "_OPSGOV_COMPLETE": "bash_complete", "COMP_WORDS": "opsgov rep", "COMP_CWORD": "1"}
    proc = subprocess.run((sys.executable, "-m", "opsgov_hooks"), capture_output=True, text=True, env=env)
    assert proc.stdout.splitlines() == ["plain,report"]
