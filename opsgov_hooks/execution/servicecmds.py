"""What one service manager command acts on: read-only, no service, named services, all, or unknown.

Each analyser reads the arguments after the program name. Verbs opsgov does not
know are "unknown" (refused by ``opsgov run``), except for docker/podman, whose
many non-container commands (images, volumes, builds) restart nothing.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class ServiceAction:
    scope: str                      # "read", "none", "services", "all" or "unknown"
    services: tuple[str, ...] = ()


Analyser = Callable[[list[str]], ServiceAction]

READ = ServiceAction("read")
NONE = ServiceAction("none")
ALL = ServiceAction("all")
UNKNOWN = ServiceAction("unknown")


def positionals(args: list[str], value_options: frozenset[str]) -> list[str]:
    """The non-option arguments; ``--opt=value`` and ``-o value`` (for ``value_options``) skipped."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i + 1:]
        if arg.startswith("-") and arg != "-":
            i += 2 if arg in value_options else 1
            continue
        out.append(arg)
        i += 1
    return out


def services(names: list[str]) -> ServiceAction:
    if any(n == "all" for n in names):
        return ALL
    return ServiceAction("services", tuple(names)) if names else NONE


# -- systemctl -------------------------------------------------------------------

_SYSTEMCTL_VALUE = frozenset({"-H", "--host", "-M", "--machine", "-t", "--type", "-p", "--property", "-P", "-s",
                              "--signal", "-n", "--lines", "-o", "--output", "--state", "--kill-whom",
                              "--kill-value", "--root", "--image", "--job-mode", "--what", "--timestamp",
                              "--preset-mode", "--boot-loader-entry", "--boot-loader-menu", "--reboot-argument",
                              "--message", "--drop-in", "--when", "--check-inhibitors"})
_SYSTEMCTL_READ = frozenset({"status", "show", "cat", "list-units", "list-unit-files", "list-dependencies",
                             "list-timers", "list-sockets", "list-jobs", "list-machines", "list-automounts",
                             "list-paths", "is-active", "is-enabled", "is-failed", "is-system-running",
                             "get-default", "show-environment", "help", "whoami"})
_SYSTEMCTL_UNITS = frozenset({"start", "stop", "restart", "reload", "try-restart", "reload-or-restart",
                              "try-reload-or-restart", "condrestart", "condreload", "condstop", "force-reload",
                              "kill", "enable", "disable", "reenable", "mask", "unmask", "preset", "revert",
                              "edit", "reset-failed", "freeze", "thaw", "clean", "link"})
_SYSTEMCTL_FIRST_UNIT = frozenset({"set-property", "bind", "mount-image", "add-wants", "add-requires"})
_SYSTEMCTL_ALL = frozenset({"reboot", "poweroff", "halt", "kexec", "isolate", "default", "rescue", "emergency",
                            "suspend", "hibernate", "hybrid-sleep", "suspend-then-hibernate", "soft-reboot",
                            "switch-root", "daemon-reexec", "exit", "preset-all"})


def systemctl(args: list[str]) -> ServiceAction:
    words = positionals(args, _SYSTEMCTL_VALUE)
    verb = words[0] if words else "list-units"
    if verb in _SYSTEMCTL_READ:
        return READ
    if verb == "daemon-reload":
        return NONE
    if verb in _SYSTEMCTL_UNITS:
        return services(words[1:])
    if verb in _SYSTEMCTL_FIRST_UNIT:
        return services(words[1:2])
    return ALL if verb in _SYSTEMCTL_ALL else UNKNOWN


# -- SysV service, OpenRC rc-service ------------------------------------------------

def service(args: list[str]) -> ServiceAction:
    """``service NAME VERB``; ``rc-service [-e|-l|-r] NAME VERB``."""
    if any(a in ("--status-all", "-e", "--exists", "-l", "--list", "-r", "--resolve") for a in args):
        return READ
    words = positionals(args, frozenset())
    if not words:
        return NONE
    verb = words[1] if len(words) > 1 else ""
    return READ if verb == "status" else services(words[:1])


# -- docker, podman ---------------------------------------------------------------------

_DOCKER_GLOBAL = frozenset({"-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert",
                            "--tlscert", "--tlskey", "--url", "--connection", "--root", "--runroot",
                            "--storage-driver", "--cgroup-manager", "--identity"})
_DOCKER_SUB = frozenset({"-t", "--time", "--timeout", "-s", "--signal", "-u", "--user", "-w", "--workdir", "-e",
                         "--env", "--env-file", "--detach-keys", "--format", "--filter", "--since",
                         "--until", "-n", "--tail", "--name", "--cpus", "--memory", "-m", "--restart",
                         "--network", "-p", "--publish", "-v", "--volume", "--mount", "--entrypoint", "-l",
                         "--label", "--label-file", "--hostname", "-h", "--log-driver", "--log-opt",
                         "--platform", "--pull", "--cpu-shares", "--memory-swap", "--add-host", "--dns",
                         "--device", "--ulimit", "--cap-add", "--cap-drop", "--security-opt", "--stop-signal",
                         "--stop-timeout", "--health-cmd", "--health-interval", "--ip", "--replicas", "--image",
                         "--index", "--scale", "--wait-timeout", "--profile", "--progress", "--file",
                         "--project-name", "--project-directory", "--ansi", "--parallel"})
_DOCKER_READ = frozenset({"ps", "logs", "inspect", "top", "port", "diff", "stats", "wait", "export", "events",
                          "history", "images", "info", "version", "search", "ls", "list", "healthcheck"})
_DOCKER_CONTAINERS = frozenset({"start", "stop", "restart", "kill", "rm", "pause", "unpause", "update",
                                "attach", "rename", "exec", "cp", "run", "create", "commit", "checkpoint"})


def docker(args: list[str]) -> ServiceAction:
    rest = _after_globals(args, _DOCKER_GLOBAL)
    verb, rest = (rest[0], rest[1:]) if rest else ("", [])
    if verb == "container":
        verb, rest = (rest[0], rest[1:]) if rest else ("ls", [])
    if verb == "compose":
        return compose(rest)
    if verb == "service":
        return _swarm_service(rest)
    if verb in _DOCKER_READ:
        return READ
    if verb in _DOCKER_CONTAINERS:
        return _containers(verb, rest)
    return ALL if verb == "stack" and rest[:1] in (["deploy"], ["rm"], ["up"]) else NONE


def _after_globals(args: list[str], value_options: frozenset[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in value_options else 1
    return args[i:]


def _containers(verb: str, args: list[str]) -> ServiceAction:
    if verb in ("run", "create"):
        name = _option_value(args, "--name")
        return services([name]) if name else UNKNOWN
    words = positionals(args, _DOCKER_SUB)
    if verb in ("exec", "attach", "rename", "commit", "checkpoint", "update"):
        return services(words[:1] if verb != "update" else words)
    if verb == "cp":
        return services([w.split(":", 1)[0] for w in words if ":" in w and not w.startswith("/")])
    return services(words)


def _option_value(args: list[str], option: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


_COMPOSE_GLOBAL = frozenset({"-f", "--file", "-p", "--project-name", "--profile", "--env-file", "--project-directory",
                             "--ansi", "--progress", "--parallel"})
_COMPOSE_READ = frozenset({"ps", "logs", "config", "ls", "images", "top", "version", "port", "events", "convert"})
_COMPOSE_NONE = frozenset({"pull", "build", "push"})


def compose(args: list[str]) -> ServiceAction:
    """``docker compose SUB [SERVICE...]``: no service named means every service of the project."""
    rest = _after_globals(args, _COMPOSE_GLOBAL)
    sub, rest = (rest[0], rest[1:]) if rest else ("", [])
    if sub in _COMPOSE_READ:
        return READ
    if sub in _COMPOSE_NONE:
        return NONE
    words = positionals(rest, _DOCKER_SUB)
    if sub in ("exec", "run", "attach"):
        return services(words[:1]) if words else UNKNOWN
    if sub == "scale":
        return services([w.split("=", 1)[0] for w in words]) if words else UNKNOWN
    return services(words) if words and sub != "down" else ALL


def _swarm_service(args: list[str]) -> ServiceAction:
    sub, rest = (args[0], args[1:]) if args else ("ls", [])
    if sub in ("ls", "ps", "inspect", "logs"):
        return READ
    if sub == "create":
        name = _option_value(rest, "--name")
        return services([name]) if name else UNKNOWN
    words = positionals(rest, _DOCKER_SUB)
    return services([w.split("=", 1)[0] for w in words]) if words else UNKNOWN


# -- supervisorctl ------------------------------------------------------------------------

_SUPERVISOR_VALUE = frozenset({"-c", "--configuration", "-s", "--serverurl", "-u", "--username", "-p",
                               "--password", "-r", "--history-file"})
_SUPERVISOR_READ = frozenset({"status", "avail", "tail", "pid", "version", "help", "maintail", "fg"})


def supervisorctl(args: list[str]) -> ServiceAction:
    words = positionals(args, _SUPERVISOR_VALUE)
    verb = words[0] if words else "status"
    if verb in _SUPERVISOR_READ:
        return READ
    if verb in ("reread", "clear"):
        return NONE
    if verb in ("shutdown", "reload"):
        return ALL
    names = words[2:] if verb == "signal" else words[1:]
    if verb == "update" and not names:
        return ALL
    return services(names) if verb in ("start", "stop", "restart", "signal", "update", "add", "remove") \
        else UNKNOWN


# -- any other configured service manager -------------------------------------------------------

_GENERIC_READ = frozenset({"status", "logs", "log", "show", "list", "ls", "ps", "inspect", "info", "version",
                           "help", "describe", "get", "top", "monit", "jlist"})


_DIGITS = re.compile(r"[0-9]+")


def generic(args: list[str]) -> ServiceAction:
    """``TOOL VERB NAME...``: read-only verbs pass, otherwise every NAME must be allowed."""
    words = positionals(args, frozenset())
    if not words or words[0] in _GENERIC_READ:
        return READ
    names = [w for w in words[1:] if not _DIGITS.fullmatch(w)]
    return services(names) if names else UNKNOWN


ANALYSERS: dict[str, Analyser] = {
    "systemctl": systemctl, "service": service, "rc-service": service,
    "docker": docker, "podman": docker, "supervisorctl": supervisorctl,
}
