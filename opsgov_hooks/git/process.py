"""How git runs: the environment, the process core every job class builds on, finding the repository.

Rules of every ``opsgov_hooks.git`` module:
* git runs without a shell, with ``-z``/NUL-separated output where paths appear;
* anything that came from input is placed after ``--end-of-options`` or ``--``,
  or fed on stdin, so it can never be read as an option;
* many objects are read by one ``git cat-file --batch`` process, never one
  process per object (:mod:`opsgov_hooks.git.objects`).

The jobs live one per module (objects, diffs, history, tags), each a small class over
:class:`GitProcess`; :class:`opsgov_hooks.git.gitio.Git` composes them into the one type
callers hold.
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any, Self

from opsgov_hooks.findings import UsageError

_ENV = {
    # Never prompt, never page, never let a user's config reformat what we parse.
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}
NOT_INSTALLED = "git is not installed or not on PATH; install git and run again"


# The pack windows git maps while it reads (core.packedGitWindowSize is 1 GiB on 64-bit systems):
# every page of the pack a walk touches stays in git's resident set, so on a 100,000-commit history
# git's own processes were a cold run's peak (cat-file of the record blobs 142 MB, the ancestry
# rev-list 160 MB). With smaller windows git unmaps as it goes: 108 and 83 MB, in the same time
# (16 MiB windows went lower still, but cost a cold --all 3-5% in remapping).
_PACK_WINDOWS = (("core.packedGitWindowSize", "32m"), ("core.packedGitLimit", "96m"))


def git_env() -> dict[str, str]:
    """The environment every git process runs with: the caller's, made non-interactive and stable,
    with small pack windows added after any configuration the caller passes the same way."""
    env = {**os.environ, **_ENV}
    count = env.get("GIT_CONFIG_COUNT", "0")
    if not count.isdigit():
        return env   # the caller's own setting is broken: git says so, in its own words
    for i, (key, value) in enumerate(_PACK_WINDOWS, int(count)):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    env["GIT_CONFIG_COUNT"] = str(int(count) + len(_PACK_WINDOWS))
    return env


def find_root(start: str) -> str:
    """The repository root when inside git (without running git), else ``start`` itself.

    For commands that also work on a plain folder of records (``opsgov validate``, ``new``, ``run``);
    :meth:`GitProcess.discover` asks git and fails outside a repository;
    :meth:`GitProcess.discover_any` also accepts a bare repository (a server's hook).
    """
    here = os.path.abspath(start)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


class GitError(UsageError):
    """git failed in a way the user must fix (exit code 2)."""


# How git says an object the command needed is not in the clone (a partial or damaged clone,
# a history cut by a shallow fetch, a pack removed by hand).
_MISSING = re.compile(r"(?:unable to read|bad object|missing (?:blob|tree|commit) object|Could not read|"
                      r"not a valid object name|did not receive expected object|is corrupt|"
                      r"loose object \S+ \(stored in [^)]*\) is corrupt)\s*([0-9a-f]{40,64})?", re.IGNORECASE)
FETCH_FIX = ("fetch the missing history: 'git fetch --refetch' (a partial or damaged clone; 'git fetch --unshallow' "
             "for a shallow one), or clone the repository again")


def missing_object_fix(stderr: str) -> str:
    """The fix to add to git's message when it says an object is missing, else ''."""
    m = _MISSING.search(stderr)
    if not m:
        return ""
    what = f"object {m[1]}" if m[1] else "an object it needs"
    return f" (this clone is missing {what}; {FETCH_FIX})"


def subcommand(args: Sequence[str]) -> str:
    """The git command an argument list runs (``-c key=value`` settings before it skipped)."""
    i = 0
    while i < len(args) and args[i] == "-c":
        i += 2
    return args[i] if i < len(args) else "git"


def failure(args: Sequence[str], stderr: bytes) -> GitError:
    """The error for a git command that failed: git's words, and the fix when an object is missing."""
    message = stderr.decode("utf-8", "replace").strip()
    return GitError(f"git {subcommand(args)} failed: {message}{missing_object_fix(message)}")


def run_git(args: Sequence[str], cwd: str, *, stdin: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """One git process to its end, output captured; :class:`GitError` when git itself is missing."""
    try:
        return subprocess.run(("git", *args), cwd=cwd, input=stdin, capture_output=True, env=env or git_env())
    except FileNotFoundError:
        raise GitError(NOT_INSTALLED) from None


def start_git(args: Sequence[str], cwd: str, *, stdin: int | IO[Any] | None, stderr: int | IO[Any] | None,
              bufsize: int = -1, stdout: int | IO[Any] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """A git process whose output is read as it comes (a long walk, a batch reader), or goes to a file."""
    try:
        return subprocess.Popen(("git", *args), cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr,
                                env=git_env(), bufsize=bufsize)
    except FileNotFoundError:
        raise GitError(NOT_INSTALLED) from None


class _Started:
    """A git process started ahead of the question, its output read as it comes by a thread (a pipe
    nobody reads would stop git after 64 KiB, and a listing of 100,000 paths is a megabyte)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._out: list[tuple[bytes, bytes]] = []
        self._reader = threading.Thread(target=lambda: self._out.append(proc.communicate()), daemon=True)
        self._reader.start()

    def result(self) -> subprocess.CompletedProcess[bytes]:
        self._reader.join()
        out, err = self._out[0] if self._out else (b"", b"")
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)

    def end(self) -> None:
        self.proc.kill()
        self._reader.join()


class GitProcess:
    """One repository's root and the git processes run in it; the job classes add what they ask git."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._common_dir: str | None = None
        self._shallow: bool | None = None        # a run never deepens its clone: asked once
        self._git_paths: dict[str, str] = {}
        self._started: dict[tuple[str, ...], _Started] = {}   # see prefetch()

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> bytes:
        """git's output; :class:`GitError` with git's message when it fails (unless ``check`` is off).

        ``env``: settings added to :func:`git_env` for this one process.
        """
        started = self._started.pop(args, None) if stdin is None and env is None else None
        if started is not None:
            proc = started.result()
        else:
            proc = run_git(args, self.root, stdin=stdin, env={**git_env(), **env} if env else None)
        if check and proc.returncode != 0:
            raise failure(args, proc.stderr)
        return proc.stdout

    def prefetch(self, *args: str) -> None:
        """Start ``git args`` now: the next :meth:`run` with the same arguments takes its output.

        A check asks git one question after another, and waits for each; a question whose
        arguments are known early runs on the other core while Python loads the records.
        Same process, same arguments, same environment: the answer is the one ``run`` would get.
        """
        if args not in self._started:
            self._started[args] = _Started(start_git(args, self.root, stdin=subprocess.DEVNULL,
                                                     stderr=subprocess.PIPE))

    def close(self) -> None:
        """End the processes kept open between calls (a job class that keeps one extends this)."""
        for started in self._started.values():   # asked for, then not needed
            started.end()
        self._started.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- finding the repository -------------------------------------------------------
    @classmethod
    def discover(cls, path: str = ".") -> Self:
        """The repository containing ``path``; exit 2 with the fix when there is none."""
        if not os.path.isdir(path):
            raise GitError(f"{path}: no such directory; give -C the path of a clone of the repository")
        # What every check asks next, in the same process: each git process saved is 1-2 ms of the hook.
        primed = run_git(("rev-parse", "--show-toplevel", "--path-format=absolute", "--git-common-dir",
                          "--is-shallow-repository", "--git-path", "MERGE_HEAD"), path)
        lines = primed.stdout.split(b"\n")
        if primed.returncode == 0 and len(lines) == 5 and lines[4] == b"" and lines[2] in (b"true", b"false"):
            git = cls(lines[0].decode("utf-8"))
            git._common_dir = lines[1].decode("utf-8", "surrogateescape")
            git._shallow = lines[2] == b"true"
            git._git_paths["MERGE_HEAD"] = lines[3].decode("utf-8", "surrogateescape")
            return git
        # Not a repository, an older git, or a newline in a path: one question at a time.
        proc = run_git(("rev-parse", "--show-toplevel"), path)
        if proc.returncode != 0:
            bare = run_git(("rev-parse", "--is-bare-repository"), path)
            if bare.stdout.strip() == b"true":
                raise GitError(f"{os.path.abspath(path)} is a bare repository, which has no working tree: run "
                               "'opsgov check --pre-receive' from its hooks/pre-receive, and everything else in a "
                               "clone")
            raise GitError(f"{os.path.abspath(path)} is not inside a git repository; run opsgov from a "
                           "clone of the repository (or 'git init' first)")
        return cls(proc.stdout.decode("utf-8").rstrip("\n"))

    @classmethod
    def discover_any(cls, path: str = ".") -> Self:
        """A work tree's top level, or a bare repository's directory (a server's pre-receive hook)."""
        if os.path.isdir(path):  # else discover names the missing directory
            proc = run_git(("rev-parse", "--is-bare-repository", "--absolute-git-dir"), path)
            lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
            if proc.returncode == 0 and len(lines) == 2 and lines[0] == "true":
                return cls(lines[1])
        return cls.discover(path)

    # -- repository facts -----------------------------------------------------------
    def common_dir(self) -> str:
        """The repository's shared git directory (the same for every worktree): where the ledger lock lives."""
        cached = self._common_dir
        if cached is None:
            out = self.run("rev-parse", "--path-format=absolute", "--git-common-dir")
            cached = self._common_dir = out.decode("utf-8", "surrogateescape").rstrip("\n")
        return cached

    def git_path(self, name: str) -> str:
        """The path of ``name`` inside the git directory (``MERGE_HEAD``, ``shallow``), worktrees respected."""
        known = self._git_paths.get(name)
        if known is not None:
            return known
        path = self.run("rev-parse", "--git-path", name).decode("utf-8", "surrogateescape").rstrip("\n")
        return os.path.join(self.root, path)

    def config_get(self, key: str) -> str | None:
        out = self.run("config", "--get", "--end-of-options", key, check=False).strip()
        return out.decode("utf-8", "replace") if out else None

    def ref_snapshot(self) -> bytes:
        """Every ref and the object it names (one ``for-each-ref``): changes whenever any ref moves."""
        return self.run("for-each-ref", "--format=%(objectname) %(refname)")

    def object_counts(self) -> bytes:
        """``count-objects -v``: changes whenever an object arrives, loose or in a pack."""
        return self.run("count-objects", "-v")
