"""History walks: revisions, parents, the log with the blobs each commit changed, shallow clones.

Walks that may be long are streamed from one git process and read in chunks, so a
caller that has its answer stops reading and a history of 100,000 commits is never
held whole.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Generator, Iterator, Sequence
from typing import IO

from opsgov_hooks.git.objects import ObjectReads
from opsgov_hooks.git.process import GitError, failure, run_git, start_git

# How much of a parent walk is read at a time (about 3,000 commits).
WALK_CHUNK = 1 << 18
# One commit of the log: seven NUL-separated fields, the message last.
_LOG_FORMAT = "--format=%H%x00%P%x00%aI%x00%cI%x00%an%x00%ae%x00%B"


@dataclasses.dataclass(frozen=True)
class BlobChange:
    """One path a commit changed, with its blob before and after (all zeros when absent)."""

    status: str  # A, M, D, T
    path: str
    old_blob: str
    new_blob: str


@dataclasses.dataclass(frozen=True)
class LogCommit:
    sha: str
    parents: tuple[str, ...]
    author_date: str          # ISO 8601 as git prints it (%aI)
    commit_date: str          # ISO 8601 (%cI)
    author_name: str
    author_email: str
    message: str
    changes: tuple[BlobChange, ...]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


class _WalkInFile:
    """A parent walk started early (:meth:`History.prefetch_walk`), its output going to a temporary file."""

    def __init__(self, tips: frozenset[str], proc: subprocess.Popen[bytes], out: IO[bytes]) -> None:
        self.tips = tips
        self.proc = proc
        self.out = out
        self.owner = os.getpid()
        self.code: int | None = None

    def settled(self) -> int | None:
        """git's exit code once it has ended; None when it cannot be known here (a forked child cannot wait
        for its parent's git: the walk is then asked again)."""
        if self.code is None and os.getpid() == self.owner:
            self.code = self.proc.wait()
        return self.code

    def end(self) -> None:
        if os.getpid() == self.owner:
            if self.proc.poll() is None:
                self.proc.kill()
            self.code = self.proc.wait()
            self.out.close()


class History(ObjectReads):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self._walk: _WalkInFile | None = None

    def close(self) -> None:
        if self._walk is not None:
            self._walk.end()
            self._walk = None
        super().close()

    # -- revisions ----------------------------------------------------------------------
    def head(self) -> str | None:
        """HEAD's commit, or None in a repository with no commit yet."""
        out = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
        return out.decode() if out else None

    def head_branch(self) -> str | None:
        """The branch HEAD names (``refs/heads/main``), or None when HEAD is detached."""
        out = self.run("symbolic-ref", "-q", "HEAD", check=False).strip()
        return out.decode("utf-8", "surrogateescape") if out else None

    def resolve_commit(self, rev: str) -> str:
        """The full sha of ``rev`` as a commit; :class:`GitError` naming the fix when it is unknown."""
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in rev):
            shown = rev.encode("unicode_escape").decode("ascii")
            raise GitError(f"cannot resolve '{shown}' to a commit: it holds control characters, which no "
                           "revision name has; retype the revision")
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
        if not out.strip():
            hint = (" (this clone is shallow: fetch the full history, e.g. 'git fetch --unshallow' or "
                    "'fetch-depth: 0' in actions/checkout)") if self.is_shallow() else ""
            raise GitError(f"cannot resolve '{rev}' to a commit{hint}")
        return out.decode().strip()

    def is_shallow(self) -> bool:
        if self._shallow is None:
            self._shallow = self.run("rev-parse", "--is-shallow-repository").strip() == b"true"
        return self._shallow

    def shallow_commits(self) -> set[str]:
        """The commits whose parents a shallow clone cut off (empty in a complete repository)."""
        try:
            with open(self.git_path("shallow"), encoding="ascii") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    # -- the graph ----------------------------------------------------------------------
    def parents(self, sha: str) -> list[str]:
        out = self.run("rev-list", "--parents", "-n", "1", "--end-of-options", sha).decode().split()
        return out[1:]

    def rev_list(self, *args: str) -> list[str]:
        return self.run("rev-list", *args).decode().split()

    def count_commits(self, rev: str = "HEAD") -> int:
        return int(self.run("rev-list", "--count", "--end-of-options", rev, "--").strip() or b"0")

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.run("merge-base", "--end-of-options", a, b, check=False).strip()
        return out.decode() if out else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """``ancestor`` is ``descendant`` or one of its ancestors (False too when git cannot say)."""
        proc = run_git(("merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant), self.root)
        return proc.returncode == 0

    def commits_between(self, head: str, exclude: Sequence[str] = (),
                        exclude_all_refs: bool = False) -> list[tuple[str, list[str]]]:
        """(commit, parents) reachable from ``head`` and from none of ``exclude`` (nor, optionally, any
        existing ref), oldest first in topological order."""
        args = ["rev-list", "--reverse", "--topo-order", "--parents"]
        if exclude_all_refs:
            args += ["--not", "--all", "--not"]
        args += ["--end-of-options", head, *(f"^{sha}" for sha in exclude)]
        lines = self.run(*args).decode().splitlines()
        return [(line.split()[0], line.split()[1:]) for line in lines if line.strip()]

    def path_commits(self, rev: str, path: str, *, exclude: str | None = None, added: bool = False,
                     first_parent: bool = False) -> list[str]:
        """Commits reachable from ``rev`` and not from ``exclude`` that change ``path`` (``added``: that
        add it), oldest first. The path is a literal pathspec: no glob in it is expanded."""
        args = ["log", "--reverse", "--format=%H", "--no-renames", "--no-ext-diff"]
        args += ["--first-parent"] if first_parent else []
        args += ["--diff-filter=A"] if added else []
        args += ["--end-of-options", rev, *([f"^{exclude}"] if exclude else []), "--", f":(literal){path}"]
        return self.run(*args).decode().split()

    def walk_parents(self, tips: Sequence[str]) -> Generator[list[tuple[str, list[str]]], None, None]:
        """(commit, parents) for every commit reachable from ``tips``, from ONE ``rev-list --parents``.

        Streamed, newest first, in batches of a few thousand commits: a caller that has its
        answer stops reading, and the walk stops with it (rollback commits sit near their
        tips, so most walks end early instead of listing 100,000 commits). Tips go on stdin,
        never on the command line.
        """
        wanted = [t for t in dict.fromkeys(tips) if t]
        if not wanted:
            return
        early = self._walk
        if early is not None and early.tips.issuperset(wanted) and early.settled() == 0:
            yield from _read_walk(early)   # a walk from more tips lists every commit these reach
            return
        # Otherwise (no early walk, other tips, or it failed: one of its extra tips may be an object
        # the clone lacks, which this walk does not start from) the walk is asked here, as always.
        with tempfile.TemporaryFile() as errors:
            proc = start_git(("rev-list", "--parents", "--stdin"), self.root, stdin=subprocess.PIPE, stderr=errors,
                             bufsize=0)  # raw: a read returns what is there
            assert proc.stdin is not None and proc.stdout is not None
            finished = False
            try:
                proc.stdin.write("\n".join(wanted).encode() + b"\n")
                proc.stdin.close()
                stdout = proc.stdout
                yield from _batches(iter(lambda: stdout.read(WALK_CHUNK), b""))
                finished = True
            finally:
                if not finished and proc.poll() is None:
                    proc.kill()  # the caller has what it needs
                proc.stdout.close()
                code = proc.wait()
            if finished and code != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip()
                raise GitError(f"git rev-list failed: {message}")

    def prefetch_walk(self, tips: Sequence[str]) -> None:
        """Start the parent walk of ``tips`` now, into a temporary file: a later :meth:`walk_parents`
        of some of these tips reads it instead of walking again.

        A cold ``--all`` starts it before it loads the records, so git walks the history on the core
        that is idle meanwhile. Call :meth:`settle_walk` before forking a process that will read it.
        """
        wanted = [t for t in dict.fromkeys(tips) if t and "\n" not in t]
        if not wanted or self._walk is not None:
            return
        out = tempfile.TemporaryFile()
        try:
            # git's message is not kept: a failed early walk is only asked again (walk_parents), and
            # that walk reports it.
            proc = start_git(("rev-list", "--parents", "--stdin"), self.root, stdin=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, stdout=out)
            assert proc.stdin is not None
            try:
                proc.stdin.write("\n".join(wanted).encode() + b"\n")
                proc.stdin.close()
            except OSError:
                pass   # git is gone already: its exit code says the walk failed
        except BaseException:
            out.close()
            raise
        self._walk = _WalkInFile(frozenset(wanted), proc, out)

    def settle_walk(self) -> None:
        """Wait for a walk started by :meth:`prefetch_walk` to end (a forked child cannot wait for it)."""
        if self._walk is not None:
            self._walk.settled()

    # -- commits and their changes ----------------------------------------------------------
    def commit_messages(self, shas: Sequence[str]) -> dict[str, str]:
        """Commit messages of many commits, from one batch read."""
        messages = {}
        for sha, (kind, body) in zip(shas, self.read_objects(shas)):
            if kind == "commit" and body is not None:
                text = body.decode("utf-8", "replace")
                messages[sha] = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        return messages

    def iter_log_with_changes(self, rev: str = "HEAD") -> Iterator[LogCommit]:
        """Every commit reachable from ``rev`` (newest first) with the blobs it changed, from ONE ``git log``.

        Streamed: one commit at a time from git's output, read in chunks, so a history of
        100,000 commits is never held whole (not its output, not its commits). Merges list
        no files (their changes are the merged commits'); the root commit lists everything
        it adds. Renames are split into a delete and an add, so every touched path is seen.
        """
        args = ("log", "-z", "--raw", "--root", "--no-renames", "--no-abbrev", "--no-color", "--no-show-signature",
                "--encoding=UTF-8", _LOG_FORMAT, "--end-of-options", rev, "--")
        with start_git(args, self.root, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            yield from _iter_log(_tokens(proc.stdout))
            error = proc.stderr.read()
            if proc.wait() != 0:
                raise failure(args, error)


def _read_walk(walk: _WalkInFile) -> Iterator[list[tuple[str, list[str]]]]:
    """The batches :meth:`History.walk_parents` yields, read from a walk that ended well (by offset:
    a forked child shares the file's position with its parent)."""
    def chunks() -> Iterator[bytes]:
        fd, offset = walk.out.fileno(), 0
        while chunk := os.pread(fd, WALK_CHUNK, offset):
            offset += len(chunk)
            yield chunk

    return _batches(chunks())


def _batches(chunks: Iterator[bytes]) -> Iterator[list[tuple[str, list[str]]]]:
    """``rev-list --parents`` output, read a chunk at a time, as batches of (commit, parents)."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield [(parts[0], parts[1:]) for parts in (line.decode().split() for line in lines) if parts]
    if rest.strip():
        parts = rest.decode().split()
        yield [(parts[0], parts[1:])]


def _tokens(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[bytes]:
    """The NUL-separated fields of a stream, read a chunk at a time."""
    tail = b""
    while True:
        data = stream.read(chunk)
        if not data:
            break
        parts = (tail + data).split(b"\0")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail


def _iter_log(tokens: Iterator[bytes]) -> Iterator[LogCommit]:
    """Parse ``git log -z --raw`` with :data:`_LOG_FORMAT`, one commit at a time.

    Each commit is its seven header fields, then zero or more raw records (a
    ``:``-prefixed meta field and one path, ``--no-renames``). The parse is by
    position, so a path that looks like a sha or a message can never be misread.
    """
    token = next(tokens, None)
    while token is not None and token.strip(b"\n"):
        head = [token]
        for _ in range(6):
            field = next(tokens, None)
            if field is None:
                return
            head.append(field)
        changes: list[BlobChange] = []
        token = next(tokens, None)
        while token is not None and token.lstrip(b"\n").startswith(b":"):
            path = next(tokens, None)
            if path is None:
                break
            _old_mode, _new_mode, old_blob, new_blob, status = token.lstrip(b"\n")[1:].decode().split()
            changes.append(BlobChange(status[0], path.decode("utf-8", "surrogateescape"), old_blob, new_blob))
            token = next(tokens, None)
        sha, parents, author_date, commit_date, name, email, message = (p.decode("utf-8", "replace") for p in head)
        yield LogCommit(sha.lstrip("\n"), tuple(parents.split()), author_date, commit_date, name, email, message,
                        tuple(changes))
