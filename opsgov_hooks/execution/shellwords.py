"""What a command line runs: the one command analysis behind the service and NOT ALLOWED checks.

A command is read as a careful reviewer would: wrappers (``sudo`` with its
options, ``env``, ``timeout``, ``xargs``...) are looked through, the scripts of
``sh -c``, ``su -c`` and ``ssh HOST COMMAND`` are split into every simple command
they run (pipelines, lists, ``xargs`` included), a program named by a full path
is known by its base name (and, when asked, by the name its symbolic link
resolves to). What cannot be read this way is said to be *opaque*: an
interpreter's inline code or script file, ``eval``/``source``, a shell reading
its script from a file or standard input, a script that does not tokenise. The
checks refuse an opaque command unless the configuration allows it
(``opaque_commands: allow``): when opsgov cannot tell, it fails.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Callable, Iterator, Sequence


@dataclasses.dataclass(frozen=True)
class Simple:
    """One simple command a command line runs."""

    argv: tuple[str, ...]       # the program first, wrappers removed
    fed: bool = False           # xargs / find -exec append arguments only known at run time
    opaque: str = ""            # why opsgov cannot tell what it runs ("" when it can)
    names: tuple[str, ...] = ()  # the program's names: as written (base name), then resolved through links

    @property
    def program(self) -> str:
        return self.names[0] if self.names else ""


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "fish", "mksh", "tcsh", "csh"})
# Interpreters whose code opsgov does not read; the version/help options alone run no code.
_INTERPRETER = re.compile(r"(?:python|pypy|perl|ruby|node|nodejs|php|lua|luajit|tclsh|wish|pwsh|powershell|"
                          r"rscript|osascript|groovy|jshell|deno|bun|awk|gawk|mawk|nawk)[0-9.]*\Z", re.I)
_HARMLESS_OPTIONS = frozenset({"--version", "-V", "-v", "--help", "-h"})
_SCRIPT_SUFFIX = re.compile(r"\.(?:sh|bash|zsh|ksh|py|pl|rb|js|php|lua|ps1)\Z", re.I)
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_EVAL = frozenset({"eval", "source", "."})

# wrapper -> (options taking a value, positionals before the wrapped command)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-c", "--user", "--group",
                        "--host", "--prompt", "--close-from", "--chdir", "--role", "--type", "--other-user",
                        "--command-timeout", "--login-class"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "env": (frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "--class", "--classdata"}), 0),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "--user", "--group", "--supp-group"}), 0),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "chrt": (frozenset(), 1), "taskset": (frozenset(), 1),
    "nohup": (frozenset(), 0), "time": (frozenset(), 0), "command": (frozenset(), 0), "builtin": (frozenset(), 0),
    "setsid": (frozenset(), 0), "exec": (frozenset({"-a"}), 0), "unbuffer": (frozenset(), 0), "watch": (frozenset({"-n", "--interval"}), 0),
    "xargs": (frozenset({"-I", "-L", "-n", "-P", "-s", "-d", "-E", "-a", "--max-args", "--max-procs",
                         "--delimiter", "--arg-file", "--replace", "--max-lines", "--max-chars"}), 0),
}
_FED = frozenset({"xargs"})
_SSH_VALUE = frozenset("-b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w -B".split())
MAX_DEPTH = 4

Resolver = Callable[[str], str | None]


def analyse(argv: Sequence[str], resolve: Resolver | None = None) -> list[Simple]:
    """Every simple command ``argv`` runs (``resolve``: a program name -> the name its links resolve to)."""
    return list(_analyse(list(argv), 0, False, resolve))


def _analyse(argv: list[str], depth: int, fed: bool, resolve: Resolver | None) -> Iterator[Simple]:
    argv, wrapped_fed = _unwrap(argv)
    fed = fed or wrapped_fed
    if not argv:
        return
    if depth > MAX_DEPTH:
        yield Simple(tuple(argv), fed, "it nests shells deeper than opsgov reads", _names(argv[0], resolve))
        return
    names = _names(argv[0], resolve)
    program = names[0]
    script = _script_of(program, argv[1:])
    if script is not None:
        for segment in split_script(script):
            if segment[0] == "?":
                yield Simple(tuple(segment), fed, "its shell script does not tokenise", ("?",))
            else:
                yield from _analyse(segment, depth + 1, fed, resolve)
        return
    yield Simple(tuple(argv), fed, _opaque(names, argv[1:]), names)
    if program == "find":
        yield from _find_exec(argv[1:], depth, resolve)


def _names(program: str, resolve: Resolver | None) -> tuple[str, ...]:
    written = os.path.basename(program) or program
    resolved = resolve(program) if resolve is not None else None
    resolved_name = os.path.basename(resolved) if resolved else None
    return (written,) if resolved_name is None or resolved_name == written else (written, resolved_name)


def _opaque(names: tuple[str, ...], args: list[str]) -> str:
    """Why the program's effect cannot be read from its arguments ("" when it can)."""
    for name in names:
        if name in _EVAL:
            return f"'{name}' runs text opsgov does not read"
        if name in SHELLS:
            return f"'{name}' runs a script file or standard input opsgov does not read"
        if _INTERPRETER.match(name) and not all(a in _HARMLESS_OPTIONS for a in args):
            return f"'{name}' runs code (inline, a file or standard input) opsgov does not read"
        if _SCRIPT_SUFFIX.search(name):
            return f"'{name}' is a script file opsgov does not read"
    return ""


def _find_exec(args: list[str], depth: int, resolve: Resolver | None) -> Iterator[Simple]:
    """``find ... -exec CMD {} ;``: CMD runs on names found at run time."""
    for i, arg in enumerate(args):
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(i + 1, len(args)) if args[j] in (";", "+")), len(args))
            yield from _analyse(args[i + 1:end], depth + 1, True, resolve)


def simple_commands(argv: list[str], depth: int = 0) -> Iterator[list[str]]:
    """The simple commands ``argv`` runs, as argument lists (an untokenisable script: ``["?", script]``)."""
    for simple in _analyse(argv, depth, False, None):
        yield list(simple.argv)


def _unwrap(argv: list[str]) -> tuple[list[str], bool]:
    fed = False
    while argv and os.path.basename(argv[0]) in _WRAPPERS:
        wrapper = os.path.basename(argv[0])
        value_options, positionals = _WRAPPERS[wrapper]
        fed = fed or wrapper in _FED
        rest = _skip_options(argv[1:], value_options)
        rest = rest[positionals:]
        while wrapper == "env" and rest and _ENV_ASSIGNMENT.match(rest[0]):
            rest = rest[1:]
        argv = rest
    return argv, fed


def _skip_options(args: list[str], value_options: frozenset[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--":
            return args[i + 1:]
        i += 2 if args[i] in value_options else 1
    return args[i:]


def _script_of(program: str, args: list[str]) -> str | None:
    """The script a shell, ``su -c`` or ``ssh`` runs, or None for any other program."""
    if program in SHELLS or program == "su":
        for i, arg in enumerate(args[:-1]):
            if arg == "--command" or (arg.startswith("-") and not arg.startswith("--") and "c" in arg):
                return args[i + 1]
        return None
    if program == "ssh":
        rest = _skip_options(args, _SSH_VALUE)
        return " ".join(rest[1:]) if len(rest) > 1 else None
    return None


_OPERATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;", "|&", "!", "{", "}"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", "<<<", ">&", "<&", "&>", ">|", "&>>"})


def split_script(script: str) -> list[list[str]]:
    """A shell script's simple commands (``;``, ``&&``, ``||``, ``|``, newlines), redirections dropped.

    A script that cannot be tokenised, or that substitutes commands (``$(...)``, backquotes),
    becomes one ``["?", script]`` command: never a silent pass.
    """
    if "`" in script or "$(" in script:
        return [["?", script]]
    lexer = shlex.shlex(script.replace("\n", ";"), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return [["?", script]]
    segments: list[list[str]] = [[]]
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token in _OPERATORS:
            segments.append([])
        elif token in _REDIRECTS:
            skip_next = True
            if segments[-1] and segments[-1][-1].isdigit():
                segments[-1].pop()
        else:
            segments[-1].append(token)
    return [s for s in segments if s]
