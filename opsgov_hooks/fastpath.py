"""``opsgov check --staged`` on a commit that touches nothing governed, answered before Click loads.

Most commits of a repository touch no governed path, and the pre-commit hook runs
on every one of them. The floor of any check is a bare interpreter plus one
``git diff-index`` (about 11 ms here); importing Click alone costs 18 ms more, so
the full command cannot come near the floor. This module can: it imports nothing
beyond what the interpreter has already loaded, runs two git processes, and
answers "exit 0" only when it can *prove* that the staged change touches no
governed path, no record and no configuration file. In every other case (a
governed path, a rename from one, no HEAD yet, a configuration it cannot read
as plain path prefixes, any git problem, any other arguments) it returns None
and the full command runs and decides.

Why git is called here and not through :mod:`opsgov_hooks.gitio`: importing
``subprocess`` and ``dataclasses`` alone would cost more than the whole floor.
The rules of gitio are kept: no shell, NUL-separated output, nothing from
input on the command line.

``OPSGOV_NO_FASTPATH=1`` turns it off.
"""
from __future__ import annotations

import os
import sys

CONFIG_FILE = ".opsgov.yaml"
PYPROJECT_FILE = "pyproject.toml"
# The standard's defaults (config.Policy): governed paths, and where records live.
DEFAULT_PREFIXES = ("ops/", "docs/governance/")
_GLOB_CHARS = frozenset("*?[]!\\")
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def main() -> int:
    """The ``opsgov`` console script: the fast answer when there is one, else the full CLI."""
    code = quick_check(sys.argv[1:])
    if code is not None:
        return code
    from opsgov_hooks.cli import main as cli_main

    return cli_main()


def quick_check(argv: list[str]) -> int | None:
    """0 when ``opsgov check [--staged]`` would certainly pass with no output, else None."""
    if argv not in (["check"], ["check", "--staged"]) or not _eligible():
        return None
    # Both git processes run at once: on two cores that hides one of them.
    diff = _spawn("diff-index", "--cached", "--name-only", "-z", "--no-renames", "--no-ext-diff", "HEAD")
    config = _spawn("cat-file", "--batch", stdin=f"HEAD:{CONFIG_FILE}\nHEAD:{PYPROJECT_FILE}\n".encode())
    staged, blobs = _collect(diff), _collect(config)
    if staged is None:
        return None  # no HEAD yet, not a repository, no git: the full command says what to do
    paths = [p for p in staged.split(b"\0") if p]
    if not paths:
        return 0
    prefixes = governed_prefixes(blobs)
    if prefixes is None:
        return None
    for raw in paths:
        path = raw.decode("utf-8", "surrogateescape")
        if path in (CONFIG_FILE, PYPROJECT_FILE) or path.startswith(prefixes):
            return None
    return 0


def _eligible() -> bool:
    env = os.environ
    if env.get("OPSGOV_NO_FASTPATH") or env.get("GITHUB_ACTIONS") == "true":
        return False  # under GitHub Actions the default report format is not text
    if env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_TO_REF"):
        return False  # pre-commit asks for a range: not a staged check
    # Until the gate exists, "check" is an unknown command and must fail as such.
    return os.path.exists(os.path.join(os.path.dirname(__file__), "commands", "check.py"))


def governed_prefixes(out: bytes | None) -> tuple[str, ...] | None:
    """Path prefixes that make a staged path interesting, from HEAD's configuration; None if unsure.

    ``out`` is what ``cat-file --batch`` answered for HEAD's two configuration files.
    """
    if out is None:
        return None
    blobs = _batch_blobs(out)
    if blobs is None:
        return None
    config, pyproject = blobs
    if config is None and (pyproject is None or b"opsgov" not in pyproject[1]):
        return DEFAULT_PREFIXES
    return _configured_prefixes(config, pyproject)


def _batch_blobs(out: bytes) -> tuple[tuple[str, bytes] | None, tuple[str, bytes] | None] | None:
    """The two answers of ``cat-file --batch``: (sha, content) or None when missing."""
    result: list[tuple[str, bytes] | None] = []
    pos = 0
    for _ in range(2):
        end = out.find(b"\n", pos)
        header = out[pos:end].split(b" ")
        if end < 0 or header[-1] == b"missing":
            result.append(None)
            pos = end + 1
            continue
        if len(header) != 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        result.append((header[0].decode(), out[end + 1:end + 1 + size]))
        pos = end + 1 + size + 1
    return result[0], result[1]


def _configured_prefixes(config: tuple[str, bytes] | None,
                         pyproject: tuple[str, bytes] | None) -> tuple[str, ...] | None:
    """Prefixes of a configured policy, remembered per configuration blob in the clone's cache folder."""
    common = _git("rev-parse", "--git-common-dir")
    if common is None:
        return None
    folder = os.path.join(os.fsdecode(common.strip()), "opsgov-cache")
    name = f"fastpath-{config[0] if config else '-'}-{pyproject[0] if pyproject else '-'}"
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        return tuple(lines[1:-1]) if lines[0] == "prefixes" else None
    except OSError:
        pass
    prefixes = _prefixes_from_policy(config[1] if config else None, pyproject[1] if pyproject else None)
    _remember(folder, name, prefixes)
    return prefixes


def _prefixes_from_policy(config: bytes | None, pyproject: bytes | None) -> tuple[str, ...] | None:
    from opsgov_hooks.config import resolve_policy
    from opsgov_hooks.findings import UsageError

    try:
        policy = resolve_policy(config, pyproject)
    except UsageError:
        return None  # a broken configuration: the full command reports it
    prefixes = []
    for pattern in policy.governed_paths:
        prefix = literal_prefix(pattern)
        if prefix is None:
            return None
        prefixes.append(prefix)
    prefixes += [policy.operations_dir + "/", policy.ledger_path]
    return tuple(p for p in prefixes if p)


def literal_prefix(pattern: str) -> str | None:
    """``dir/sub/**`` -> ``dir/sub/``; None for anything a prefix cannot express exactly."""
    body = pattern.removeprefix("/")
    if not body.endswith("/**"):
        return None
    body = body[:-3]
    if not body or any(c in _GLOB_CHARS for c in body) or "//" in body or body.startswith("/"):
        return None
    return body + "/"


def _remember(folder: str, name: str, prefixes: tuple[str, ...] | None) -> None:
    text = "prefixes\n" + "".join(p + "\n" for p in prefixes) if prefixes is not None else "unsure\n"
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(folder, name))
    except OSError:
        pass


def _git(*args: str) -> bytes | None:
    return _collect(_spawn(*args))


def _spawn(*args: str, stdin: bytes = b"") -> tuple[int, int] | None:
    """Start one git process (os.posix_spawn: no imports); (pid, stdout fd), or None if it cannot start."""
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    env = {**os.environ, **_ENV}
    actions = [(os.POSIX_SPAWN_DUP2, r_in, 0), (os.POSIX_SPAWN_DUP2, w_out, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    try:
        pid = os.posix_spawnp("git", ["git", *args], env, file_actions=actions)
    except OSError:
        for fd in (r_in, w_in, r_out, w_out, devnull):
            os.close(fd)
        return None
    for fd in (r_in, w_out, devnull):
        os.close(fd)
    try:
        with os.fdopen(w_in, "wb") as f:  # a few bytes at most: fits the pipe, cannot block
            f.write(stdin)
    except BrokenPipeError:
        pass  # git exited before reading (e.g. not a repository): its exit code says so
    return pid, r_out


def _collect(started: tuple[int, int] | None) -> bytes | None:
    """All of a started process's stdout, or None when it could not start or failed."""
    if started is None:
        return None
    pid, r_out = started
    with os.fdopen(r_out, "rb") as f:
        out = f.read()
    _pid, status = os.waitpid(pid, 0)
    return out if os.waitstatus_to_exitcode(status) == 0 else None
