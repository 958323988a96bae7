"""Does a command stay inside the scope contract? Services, NOT ALLOWED rules, and what opsgov cannot read.

Three questions, asked by ``opsgov run`` before anything runs and by the
execution-log rules (``opsgov validate``, ``opsgov check``) afterwards, all on the
one command analysis of :mod:`opsgov_hooks.execution.shellwords` (wrappers, shell
scripts, pipelines, ``xargs``, full paths, symbolic links):

* **services**: a command of a service manager (``service_commands`` in the
  config: systemctl, service, docker, podman, supervisorctl, rc-service) that
  starts, stops, restarts, reloads, enables... a service may only name services
  of ALLOWED_SERVICES. Read-only inspection (``status``, ``is-active``, ``logs``,
  ``ps``...) is allowed for any service, as the scope contract says. A command
  that acts on every service at once (``systemctl reboot``, ``docker compose
  down``, ``supervisorctl restart all``) or whose services opsgov cannot tell
  (an unknown verb, ``docker run`` without ``--name``, names fed by ``xargs``) is
  refused: when uncertain, HALT and ASK.
* **NOT ALLOWED**: no simple command the line runs (nor the line as written) may
  match a forbidden rule's ``commands`` expressions (e.g. ``iptables``, however
  it is wrapped or spelled with a path).
* **opaque**: a command whose effect cannot be read from its words (an
  interpreter's code, ``eval``, a script file) is refused unless the config says
  ``opaque_commands: allow``.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
import shlex
from collections.abc import Iterator, Sequence

from opsgov_hooks import linear
from opsgov_hooks.execution import servicecmds
from opsgov_hooks.execution.servicecmds import ServiceAction
from opsgov_hooks.execution.shellwords import Resolver, Simple, analyse, simple_commands, split_script
from opsgov_hooks.policy.config import Policy

__all__ = ["Violation", "ServiceAction", "violations", "violations_for_text", "simple_commands", "split_script",
           "service_allowed"]


@dataclasses.dataclass(frozen=True)
class Violation:
    kind: str       # "service" or "forbidden"
    message: str
    needs: str      # what would have to change for the command to be allowed


def violations(argv: Sequence[str], allowed_services: Sequence[str], policy: Policy,
               resolve: Resolver | None = None) -> list[Violation]:
    """Every way ``argv`` breaks the scope contract (``resolve``: follow program names through links,
    as ``opsgov run`` does on the machine that runs them)."""
    simples = analyse(argv, resolve)
    return (forbidden_violations(argv, policy, simples) + service_violations(argv, allowed_services, policy, simples)
            + opaque_violations(simples, policy))


def violations_for_text(text: str, allowed_services: Sequence[str], policy: Policy) -> list[Violation]:
    """The same questions for a recorded command line (as ``opsgov run`` wrote it, shell-quoted)."""
    try:
        argv = shlex.split(text)
    except ValueError:
        argv = ["sh", "-c", text]
    return violations(argv, allowed_services, policy)


# -- NOT ALLOWED ------------------------------------------------------------------

def forbidden_violations(argv: Sequence[str], policy: Policy, simples: Sequence[Simple] | None = None) -> list[Violation]:
    """The line as written, and each simple command it runs under each of its program's names."""
    texts = {" ".join(argv), shlex.join(argv)}
    for simple in simples if simples is not None else analyse(argv):
        for name in simple.names or simple.argv[:1]:
            words = [name, *simple.argv[1:]]
            texts.update((" ".join(words), shlex.join(words)))
    found = []
    for rule in policy.forbidden:
        if any(linear.compiled(p).search(t) for p in rule.commands for t in texts):
            found.append(Violation("forbidden", f"`{shlex.join(argv)}` breaks the NOT ALLOWED rule "
                                   f"'{rule.id}': {rule.message}",
                                   "nothing can allow it: NOT ALLOWED holds for every operation"))
    return found


def opaque_violations(simples: Sequence[Simple], policy: Policy) -> list[Violation]:
    if policy.opaque_commands == "allow":
        return []
    mentions = _mentions(policy.service_commands)
    # An unreadable script naming a service manager is refused by the service check already.
    return [Violation("opaque", f"opsgov cannot tell what `{shlex.join(s.argv)}` runs: {s.opaque}",
                      "the commands written out (e.g. systemctl restart <service>), or "
                      "'opaque_commands: allow' in the configuration") for s in simples
            if s.opaque and not (s.program == "?" and mentions.search(s.argv[1]))]


# -- services -----------------------------------------------------------------------

def service_violations(argv: Sequence[str], allowed: Sequence[str], policy: Policy,
                       simples: Sequence[Simple] | None = None) -> list[Violation]:
    everything = " ".join(argv)
    if simples is None and not _mentions(policy.service_commands).search(everything):
        return []  # no service manager named anywhere: nothing to look through (the common case, and cheap)
    found = []
    for simple in simples if simples is not None else analyse(argv):
        if simple.program == "?" and _mentions(policy.service_commands).search(simple.argv[1]):
            found.append(Violation("service", f"opsgov cannot read the shell script {simple.argv[1]!r}, which "
                                   "names a service manager", "the script with balanced quotes"))
            continue
        program = next((n for n in simple.names if n in policy.service_commands), None)
        if program is None:
            continue
        action = service_action(program, list(simple.argv[1:]))
        if simple.fed and action.scope != "read":
            action = servicecmds.UNKNOWN   # the names arrive on standard input at run time
        found.extend(_judge(shlex.join(simple.argv), action, allowed))
    return found


@functools.lru_cache(maxsize=16)
def _mentions(commands: tuple[str, ...]) -> linear.Pattern:
    # RE2 (no lookaround): the name between two characters that cannot be part of a name, or the ends.
    names = "|".join(re.escape(c) for c in commands)
    return linear.compile_linear(rf"(?:^|[^\w.-])(?:{names})(?:[^\w.-]|$)" if names else r"\b\B")


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


# -- what each service manager's command acts on ---------------------------------------------------

def service_action(program: str, args: list[str]) -> ServiceAction:
    analyser = servicecmds.ANALYSERS.get(program, servicecmds.generic)
    return analyser(args)
