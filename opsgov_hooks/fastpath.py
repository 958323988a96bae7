"""The no-op fast path of ``opsgov check --staged``: "nothing governed is staged", proved with git alone.

Why it exists: most commits touch nothing governed, and the pre-commit hook runs on
every one of them. The floor of a staged check is a bare interpreter plus one
``git diff-index``; importing Click, YAML or even ``subprocess`` would cost more than
that floor. So the ``opsgov`` console script (:mod:`opsgov_hooks.console`) first asks
:func:`quick_check`; when it cannot answer, ``opsgov check`` and ``opsgov check --staged`` (the
hook: nothing to parse) run the staged check without importing Click, and any other command
line goes to the CLI. The full command asks it too (for
``--format`` or ``-C``), so there is one answer, computed in one place.

What it proves: the staged change (index against HEAD, every path, deletions and both
sides of a rename included) touches no governed path, no record file and no
configuration file, and holds no unresolved conflict. The governed patterns come from
HEAD's ``.opsgov.yaml`` and ``pyproject.toml``: with neither, the defaults below; with
either, the rules :func:`remember` wrote when the full command last read that
configuration, in ``$XDG_CACHE_HOME/opsgov`` (``~/.cache/opsgov``) under a key made of
the exact bytes of both files and the opsgov version, so a rule set can never be
stale. No HEAD, a git error, an unknown status, no or an unreadable cache entry: it
answers "not sure" and the full command decides. It never passes by default.

Why it runs git itself and not through :mod:`opsgov_hooks.git.process`: importing
``subprocess`` alone (6 to 13 ms here) costs more than a ``git diff-index``. It keeps that module's
rules: no shell, NUL-separated output, only constant arguments (object names go on
stdin), the same environment (no prompt, no pager, no optional locks).

``OPSGOV_NO_FASTPATH=1`` turns it off.
"""
from __future__ import annotations

import os
import sys

from opsgov_hooks import __version__

CONFIG_FILES = (".opsgov.yaml", "pyproject.toml")   # staged, either always takes the full path
FORMAT = "opsgov-governed-1"                          # of a cache entry; part of its key
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
TYPE_CHECKING = False   # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from opsgov_hooks.policy.config import Policy

# What makes a staged path interesting: (where records live, the literal prefixes of the governed globs
# or None when a glob has none, the governed globs). The default policy's are kept equal by a test.
Rules = tuple[tuple[str, ...], tuple[str, ...] | None, tuple[str, ...]]
DEFAULT_RULES: Rules = (("ops/operations", "ops/ledger"), ("ops/", "docs/governance/"),
                        ("ops/**", "docs/governance/**"))


_NOT_SURE: list[bool] = []   # the console script asked about this process's staged check and could not answer


def not_sure() -> None:
    """The console script (:mod:`opsgov_hooks.console`) asked and could not answer: see :func:`asked_already`."""
    _NOT_SURE.append(True)


def asked_already(repo: str) -> bool:
    """True (once) when the console script already asked :func:`nothing_to_judge` about ``repo`` in this
    process and could not answer: the full command need not ask git the same again."""
    if repo == "." and _NOT_SURE:
        _NOT_SURE.clear()
        return True
    return False


def asks(argv: list[str]) -> bool:
    """Whether :func:`quick_check` asks git about this command line at all."""
    env = os.environ
    if argv not in (["check"], ["check", "--staged"]) or env.get("GITHUB_ACTIONS") == "true":
        return False   # other arguments, or another default report format
    return not (env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_TO_REF"))   # else pre-commit asks for a range


def quick_check(argv: list[str]) -> int | None:
    """0 when ``opsgov check [--staged]`` would certainly pass and print nothing, else None."""
    if not asks(argv):
        return None
    return 0 if nothing_to_judge() else None


def nothing_to_judge(repo: str = ".") -> bool:
    """True only when the staged change of ``repo`` provably touches nothing the gate judges."""
    if os.environ.get("OPSGOV_NO_FASTPATH") or not hasattr(os, "posix_spawnp"):
        return False
    if os.path.lexists(os.path.join(repo, ".gitmodules")):
        return False   # submodules: a gitlink's mode is not in --name-status, and one may hold governed files
    where = () if repo == "." else ("-C", repo)   # an option's value: never read as an option itself
    # Both at once: next to the first process, the second costs little wall time.
    diff = _spawn((*where, "diff-index", "--cached", "-z", "--name-status", "--no-renames", "HEAD", "--"))
    config = _spawn((*where, "cat-file", "--batch"), b"HEAD:.opsgov.yaml\nHEAD:pyproject.toml\n")
    staged, blobs = _collect(diff), _collect(config)
    paths = None if staged is None else staged_paths(staged)
    if paths is None:
        return False   # no HEAD yet, not a repository, a conflict: the full command says what to do
    if not paths:
        return True
    rules = None if blobs is None else rules_for(blobs)
    return rules is not None and not may_be_governed(rules, paths)


def staged_paths(out: bytes) -> list[str] | None:
    """The paths ``diff-index --name-status -z --no-renames`` lists; None for a status other than A, D, M, T."""
    tokens = out.split(b"\0")
    if tokens.pop() != b"" or len(tokens) % 2:
        return None
    if any(status not in (b"A", b"D", b"M", b"T") for status in tokens[::2]):
        return None   # U: an unresolved conflict, which the full command reports
    return [path.decode("utf-8", "surrogateescape") for path in tokens[1::2]]


def may_be_governed(rules: Rules, paths: list[str]) -> bool:
    """False only when no path is a configuration file, lies where records live, or matches a governed glob."""
    records, anchors, globs = rules
    candidates = []
    for path in paths:
        if path in CONFIG_FILES or path.startswith(records):
            return True
        # A glob with a literal prefix matches only below it (and pathspec lets ``dir/**`` match ``dir``).
        if anchors is None or any(path.startswith(a) or a.startswith(path + "/") for a in anchors):
            candidates.append(path)
    if not candidates:
        return False
    from opsgov_hooks.policy.globquick import quick_match   # imports nothing itself

    # RE2 takes UTF-8 only: bytes git gave that are not UTF-8 are matched as U+FFFD (as globs.py does).
    candidates = [path.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for path in candidates]
    key = tuple(globs)
    answers = [quick_match(key, path) for path in candidates]
    if True in answers:
        return True
    unsure = [path for path, answer in zip(candidates, answers) if answer is None]
    if not unsure:
        return False
    try:
        import pathspec   # rare: a glob the text alone cannot decide for a path near it
    except ImportError:
        return True
    spec = pathspec.GitIgnoreSpec.from_lines(globs, backend="re2")   # as gate.globs.compile_globs builds it
    return any(spec.match_file(path) for path in unsure)


# -- the rules of HEAD's configuration ------------------------------------------------------------------

def rules_for(blobs: bytes) -> Rules | None:
    """The rules for HEAD's configuration, from ``cat-file --batch`` output for its two files."""
    contents = batch_contents(blobs)
    if contents is None:
        return None
    if contents == (None, None):
        return DEFAULT_RULES
    return _read_rules(cache_file(*contents))


def batch_contents(out: bytes) -> tuple[bytes | None, bytes | None] | None:
    """The two answers of ``cat-file --batch``: a blob's bytes, or None when missing; None for anything else."""
    found: list[bytes | None] = []
    pos = 0
    for _ in range(2):
        end = out.find(b"\n", pos)
        header = out[pos:end].split(b" ") if end >= 0 else []
        if len(header) == 2 and header[1] == b"missing":
            found.append(None)
            pos = end + 1
        elif len(header) == 3 and header[1] == b"blob" and header[2].isdigit():
            size = int(header[2])
            found.append(out[end + 1:end + 1 + size])
            pos = end + 1 + size + 1
        else:
            return None   # a tree, a submodule, an ambiguous name, cut-off output
    return (found[0], found[1]) if pos == len(out) else None


def cache_file(config: bytes | None, pyproject: bytes | None) -> str | None:
    """Where the rules of exactly this configuration are kept (None: there is no cache folder)."""
    try:
        from _blake2 import blake2b   # hashlib's blake2b, without the OpenSSL hashlib loads first
    except ImportError:
        from hashlib import blake2b
    digest = blake2b(f"{FORMAT}\0{__version__}\0".encode(), digest_size=20)
    for raw in (config, pyproject):
        digest.update(b"-" if raw is None else b"+%d\0" % len(raw) + raw)
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):   # the XDG rule: a relative path is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "opsgov", f"governed-{digest.hexdigest()}") if os.path.isabs(base) else None


def _read_rules(path: str | None) -> Rules | None:
    """A cache entry; None when there is none, or it is unreadable or not exactly what :func:`remember` writes."""
    try:
        data = _read_all(os.open(path, os.O_RDONLY)) if path else b""
        tokens = data.decode("utf-8").split("\0")
    except (OSError, UnicodeDecodeError):
        return None
    if tokens[0] != FORMAT or tokens[-1] != "end":
        return None
    found: dict[str, list[str]] = {"r": [], "a": [], "u": [], "g": []}
    for token in tokens[1:-1]:
        if token[:1] not in found:
            return None
        found[token[:1]].append(token[1:])
    return tuple(found["r"]), None if found["u"] else tuple(found["a"]), tuple(found["g"])


def rules_of(policy: Policy) -> Rules:
    """The rules of a policy: where its records live, and its governed globs (called by the full command)."""
    from opsgov_hooks.policy.globs import literal_prefix
    from opsgov_hooks.records.store import record_prefixes

    prefixes = [literal_prefix(p) for p in policy.governed_paths]
    anchors = None if None in prefixes else tuple(p for p in prefixes if p)
    if any(rule.applies_to == "all" for rule in policy.forbidden):
        # A NOT ALLOWED rule judges every change: no staged path is ever provably nothing to judge.
        return ("",), anchors, tuple(policy.governed_paths)
    return tuple(record_prefixes(policy)), anchors, tuple(policy.governed_paths)


def remember(config: bytes | None, pyproject: bytes | None, policy: Policy) -> None:
    """Keep the rules of a configuration the full command has read; best effort (no cache folder, no cache)."""
    target = cache_file(config, pyproject) if config is not None or pyproject is not None else None
    if target is None:
        return
    records, anchors, globs = rules_of(policy)
    tokens = [FORMAT, *("r" + p for p in records), *("a" + p for p in anchors or ()),
              *(["u"] if anchors is None else []), *("g" + p for p in globs), "end"]
    try:
        data = "\0".join(tokens).encode("utf-8")
    except UnicodeEncodeError:
        return
    if any("\0" in t for t in tokens) or _read_file(target) == data:
        return
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError:
        pass


def _read_file(path: str) -> bytes | None:
    try:
        return _read_all(os.open(path, os.O_RDONLY))
    except OSError:
        return None


# -- git, without subprocess --------------------------------------------------------------------------

def _spawn(args: tuple[str, ...], stdin: bytes = b"") -> tuple[int, int] | None:
    """Start ``git *args`` reading ``stdin``; (pid, stdout fd), or None when it cannot start."""
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, r_in, 0), (os.POSIX_SPAWN_DUP2, w_out, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    try:
        pid = os.posix_spawnp("git", ["git", *args], {**os.environ, **_ENV}, file_actions=actions)
    except OSError:
        pid = 0
    for fd in (r_in, w_out, devnull):
        os.close(fd)
    try:
        if pid and stdin:
            os.write(w_in, stdin)   # a few bytes: they fit the pipe, so this cannot block
    except BrokenPipeError:
        pass   # git exited first (e.g. not a repository): its exit code says so
    os.close(w_in)
    if not pid:
        os.close(r_out)
        return None
    return pid, r_out


def _collect(started: tuple[int, int] | None) -> bytes | None:
    """All of a started process's output, or None when it could not start or failed."""
    if started is None:
        return None
    pid, r_out = started
    try:
        out = _read_all(r_out)
    finally:
        _pid, status = os.waitpid(pid, 0)
    return out if os.waitstatus_to_exitcode(status) == 0 else None


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
