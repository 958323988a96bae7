"""Does a command stay inside the scope contract? Services and NOT ALLOWED rules.

Two questions, asked by ``opsgov run`` before anything runs and by the
execution-log rules afterwards:

* **services**: a command of a service manager (``service_commands`` in the
  config: systemctl, service, docker, podman, supervisorctl, rc-service) that
  starts, stops, restarts, reloads, enables... a service may only name services
  of ALLOWED_SERVICES. Read-only inspection (``status``, ``is-active``, ``logs``,
  ``ps``...) is allowed for any service, as the scope contract says. A command
  that acts on every service at once (``systemctl reboot``, ``docker compose
  down``, ``supervisorctl restart all``) or whose services opsgov cannot tell
  (an unknown verb, ``docker run`` without ``--name``) is refused: when uncertain,
  HALT and ASK.
* **NOT ALLOWED**: the command line must not match a forbidden rule's
  ``commands`` expressions (e.g. ``redis-cli XADD quantum:stream:trade.intent``).

Wrappers (sudo, env, timeout, nice...) are looked through, and so are
``sh -c SCRIPT``, ``su -c SCRIPT`` and ``ssh HOST COMMAND``, whose scripts are split
into simple commands. This reads a command as a careful reviewer would, not as a
shell would: it catches mistakes and careless scope creep, not a determined
operator (a script file's contents, for one, are not read).
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
import shlex
from collections.abc import Iterator, Sequence

from opsgov_hooks.execution import servicecmds
from opsgov_hooks.execution.servicecmds import ServiceAction
from opsgov_hooks.policy.config import Policy


@dataclasses.dataclass(frozen=True)
class Violation:
    kind: str       # "service" or "forbidden"
    message: str
    needs: str      # what would have to change for the command to be allowed


def violations(argv: Sequence[str], allowed_services: Sequence[str], policy: Policy) -> list[Violation]:
    return forbidden_violations(argv, policy) + service_violations(argv, allowed_services, policy)


def violations_for_text(text: str, allowed_services: Sequence[str], policy: Policy) -> list[Violation]:
    """The same questions for a recorded command line (as ``opsgov run`` wrote it, shell-quoted)."""
    try:
        argv = shlex.split(text)
    except ValueError:
        argv = ["sh", "-c", text]
    return violations(argv, allowed_services, policy)


# -- NOT ALLOWED ------------------------------------------------------------------

def forbidden_violations(argv: Sequence[str], policy: Policy) -> list[Violation]:
    texts = (" ".join(argv), shlex.join(argv))
    found = []
    for rule in policy.forbidden:
        if any(_compiled(p).search(t) for p in rule.commands for t in texts):
            found.append(Violation("forbidden", f"`{shlex.join(argv)}` breaks the NOT ALLOWED rule "
                                   f"'{rule.id}': {rule.message}",
                                   "nothing can allow it: NOT ALLOWED holds for every operation"))
    return found


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# -- services -----------------------------------------------------------------------

def service_violations(argv: Sequence[str], allowed: Sequence[str], policy: Policy) -> list[Violation]:
    if not _mentions(policy.service_commands).search(" ".join(argv)):
        return []  # no service manager named anywhere: nothing to look through (the common case, and cheap)
    found = []
    for simple in simple_commands(list(argv)):
        program = os.path.basename(simple[0])
        if program == "?" and _mentions(policy.service_commands).search(simple[1]):
            found.append(Violation("service", f"opsgov cannot read the shell script {simple[1]!r}, which "
                                   "names a service manager", "the script with balanced quotes"))
            continue
        if program not in policy.service_commands:
            continue
        action = service_action(program, simple[1:])
        found.extend(_judge(shlex.join(simple), action, allowed))
    return found


@functools.lru_cache(maxsize=16)
def _mentions(commands: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?<![\w.-]){re.escape(c)}(?![\w.-])" for c in commands) or r"(?!)")


def _judge(command: str, action: ServiceAction, allowed: Sequence[str]) -> list[Violation]:
    listed = ", ".join(allowed) or "none"
    if action.scope == "all":
        return [Violation("service", f"`{command}` acts on every service at once, beyond ALLOWED_SERVICES "
                          f"({listed})", "an operation declared for that: ALLOWED_SERVICES cannot grant it")]
    if action.scope == "unknown":
        return [Violation("service", f"opsgov cannot tell which services `{command}` acts on",
                          "the command written with the service named explicitly "
                          "(e.g. systemctl restart <service>)")]
    outside = [s for s in action.services if not service_allowed(s, allowed)]
    return [Violation("service", f"`{command}` acts on service '{s}', which is not in ALLOWED_SERVICES "
                      f"({listed})", f"a declaration whose ALLOWED_SERVICES names {s}: widening the scope "
                      "is a new operation ('opsgov new')") for s in outside]


def service_allowed(name: str, allowed: Sequence[str]) -> bool:
    return _unit(name) in {_unit(a) for a in allowed}


def _unit(name: str) -> str:
    return name.removesuffix(".service")


# -- looking through wrappers and shells ------------------------------------------------

_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"})
# wrapper -> (options taking a value, positionals before the wrapped command)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-c", "--user", "--group",
                        "--host", "--prompt", "--close-from", "--chdir", "--role", "--type", "--other-user",
                        "--command-timeout", "--login-class"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "env": (frozenset({"-u", "-C", "--unset", "--chdir"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "--class", "--classdata"}), 0),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "--user", "--group", "--supp-group"}), 0),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "chrt": (frozenset(), 1), "taskset": (frozenset(), 1),
    "nohup": (frozenset(), 0), "time": (frozenset(), 0), "command": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0), "setsid": (frozenset(), 0), "xargs": (frozenset({"-I", "-L", "-n", "-P",
                                                                                       "-s", "-d", "-E", "-a"}), 0),
}
_SSH_VALUE = frozenset("-b -c -D -E -e -F -I -i -J -L -l -m -O -o -p -Q -R -S -W -w -B".split())
_MAX_DEPTH = 4


def simple_commands(argv: list[str], depth: int = 0) -> Iterator[list[str]]:
    """The simple commands ``argv`` runs, looking through wrappers, ``sh -c`` and ``ssh``."""
    argv = _unwrap(argv)
    if not argv or depth > _MAX_DEPTH:
        return
    program = os.path.basename(argv[0])
    script = _script_of(program, argv[1:])
    if script is None:
        yield argv
        return
    for segment in split_script(script):
        yield from simple_commands(segment, depth + 1)


def _unwrap(argv: list[str]) -> list[str]:
    while argv and os.path.basename(argv[0]) in _WRAPPERS:
        value_options, positionals = _WRAPPERS[os.path.basename(argv[0])]
        rest = _skip_options(argv[1:], value_options)
        rest = rest[positionals:]
        while os.path.basename(argv[0]) == "env" and rest and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", rest[0]):
            rest = rest[1:]
        argv = rest
    return argv


def _skip_options(args: list[str], value_options: frozenset[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        if args[i] == "--":
            return args[i + 1:]
        i += 2 if args[i] in value_options else 1
    return args[i:]


def _script_of(program: str, args: list[str]) -> str | None:
    """The script a shell, ``su -c`` or ``ssh`` runs, or None for any other program."""
    if program in _SHELLS or program == "su":
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

    A script that cannot be tokenised becomes one ``["?", script]`` command: never a silent pass.
    """
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


# -- what each service manager's command acts on ---------------------------------------------------

def service_action(program: str, args: list[str]) -> ServiceAction:
    analyse = servicecmds.ANALYSERS.get(program, servicecmds.generic)
    return analyse(args)
