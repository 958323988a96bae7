"""All git access lives here; everything else works on plain data.

Rules of this module:
* git runs without a shell, with ``-z``/NUL-separated output where paths appear;
* anything that came from input is placed after ``--end-of-options`` or ``--``,
  or fed on stdin, so it can never be read as an option;
* many objects are read by one ``git cat-file --batch`` process, never one
  process per object.
"""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import IO

from opsgov_hooks.findings import UsageError

NULL_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

_ENV = {
    # Never prompt, never page, never let a user's config reformat what we parse.
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}


def git_env() -> dict[str, str]:
    """The environment every git process runs with: the caller's, made non-interactive and stable."""
    return {**os.environ, **_ENV}


def find_root(start: str) -> str:
    """The repository root when inside git (without running git), else ``start`` itself.

    For commands that also work on a plain folder of records (``opsgov validate``, ``new``, ``run``);
    :meth:`Git.discover` asks git and fails outside a repository; :meth:`Git.discover_any`
    also accepts a bare repository (a server's hook).
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


@dataclasses.dataclass(frozen=True)
class Change:
    """One touched path of a change. ``old_path`` is set for renames and copies."""

    status: str  # A, M, D, T, R, C
    path: str
    old_path: str | None = None
    old_mode: str = ""
    new_mode: str = ""

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclasses.dataclass(frozen=True)
class TagRef:
    """An ``ops-*`` tag as git stores it."""

    ref: str                 # refs/tags/ops-2026-01-27-001
    object_type: str         # "tag" for annotated, "commit" for lightweight
    object_sha: str
    target_sha: str          # the commit the tag points at (peeled)
    tag_name: str            # the name written inside the tag object
    message: str             # subject + body, without the signature
    signature: str

    @property
    def name(self) -> str:
        return self.ref.removeprefix("refs/tags/")


class Git:
    def __init__(self, root: str) -> None:
        self.root = root
        self._batch: subprocess.Popen[bytes] | None = None
        self._common_dir: str | None = None

    # -- plumbing -------------------------------------------------------------
    def run(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        env = git_env()
        try:
            proc = subprocess.run(("git", *args), cwd=self.root, input=stdin, capture_output=True, env=env)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH; install git and run again") from None
        if check and proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {subcommand(args)} failed: {message}{missing_object_fix(message)}")
        return proc.stdout

    def ok(self, *args: str) -> bool:
        env = git_env()
        return subprocess.run(("git", *args), cwd=self.root, capture_output=True, env=env).returncode == 0

    def forget_batch(self) -> None:
        """In a forked child: leave the parent's ``cat-file --batch`` to the parent (one starts on demand)."""
        self._batch = None

    def close(self) -> None:
        if self._batch is not None:
            assert self._batch.stdin is not None
            self._batch.stdin.close()
            self._batch.wait()
            self._batch = None

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- repository facts ---------------------------------------------------
    @classmethod
    def discover(cls, path: str = ".") -> Git:
        """The repository containing ``path``; exit 2 with the fix when there is none."""
        env = git_env()
        if not os.path.isdir(path):
            raise GitError(f"{path}: no such directory; give -C the path of a clone of the repository")
        try:
            proc = subprocess.run(("git", "rev-parse", "--show-toplevel"), cwd=path, capture_output=True, env=env)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH; install git and run again") from None
        if proc.returncode != 0:
            bare = subprocess.run(("git", "rev-parse", "--is-bare-repository"), cwd=path, capture_output=True,
                                  env=env)
            if bare.stdout.strip() == b"true":
                raise GitError(f"{os.path.abspath(path)} is a bare repository, which has no working tree: run "
                               "'opsgov check --pre-receive' from its hooks/pre-receive, and everything else in a "
                               "clone")
            raise GitError(f"{os.path.abspath(path)} is not inside a git repository; run opsgov from a "
                           "clone of the repository (or 'git init' first)")
        return cls(proc.stdout.decode("utf-8").rstrip("\n"))

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def ref_snapshot(self) -> bytes:
        """Every ref and the object it names (one ``for-each-ref``): changes whenever any ref moves."""
        return self.run("for-each-ref", "--format=%(objectname) %(refname)")

    def object_counts(self) -> bytes:
        """``count-objects -v``: changes whenever an object arrives, loose or in a pack."""
        return self.run("count-objects", "-v")

    def head(self) -> str | None:
        """HEAD's commit, or None in a repository with no commit yet."""
        out = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
        return out.decode() if out else None

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

    def worktree_blob_ids(self, prefixes: Sequence[str]) -> dict[str, str]:
        """path -> blob id for working-tree files git knows are unchanged since staged.

        Index entries (stage 0, regular files only: a symlink's blob is its target's
        name, not the bytes read through it) minus what ``diff-files`` reports as
        changed. Two processes; no file is read or hashed.
        """
        wanted = [p for p in prefixes if p]
        out = self.run("ls-files", "-s", "-z", "--", *wanted)
        changed = set(self.run("diff-files", "--name-only", "-z", "--", *wanted).split(b"\0"))
        result = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, path = record.split(b"\t", 1)
            mode, sha, stage = meta.split()
            if stage == b"0" and mode in (b"100644", b"100755") and path not in changed:
                result[path.decode("utf-8", "surrogateescape")] = sha.decode()
        return result

    def config_get(self, key: str) -> str | None:
        out = self.run("config", "--get", "--end-of-options", key, check=False).strip()
        return out.decode("utf-8", "replace") if out else None

    # -- history ----------------------------------------------------------------
    def rev_list(self, *args: str) -> list[str]:
        return self.run("rev-list", *args).decode().split()

    def commit_messages(self, shas: Sequence[str]) -> dict[str, str]:
        """Commit messages of many commits, from one batch read."""
        messages = {}
        for sha, (kind, body) in zip(shas, self.read_objects(shas)):
            if kind == "commit" and body is not None:
                text = body.decode("utf-8", "replace")
                messages[sha] = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        return messages

    def parents(self, sha: str) -> list[str]:
        out = self.run("rev-list", "--parents", "-n", "1", "--end-of-options", sha).decode().split()
        return out[1:]

    # -- trees and objects --------------------------------------------------------
    def ls_tree(self, rev: str, prefixes: Sequence[str] = ()) -> dict[str, str]:
        """path -> blob sha of the files of ``rev`` (under ``prefixes`` when given)."""
        # No "--" here: after --end-of-options ls-tree reads "--" as a path named "--"
        # and lists nothing. Everything after the tree-ish is a path to ls-tree anyway.
        out = self.run("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", rev,
                       *[p for p in prefixes if p])
        return _parse_ls(out, sha_field=2)

    def ls_index(self, prefixes: Sequence[str] = ()) -> dict[str, str]:
        """path -> blob sha of the staged files (under ``prefixes`` when given)."""
        out = self.run("ls-files", "-s", "-z", "--", *[p for p in prefixes if p])
        result = {}
        for record in out.split(b"\0"):
            if record:
                meta, path = record.split(b"\t", 1)
                result[path.decode("utf-8", "surrogateescape")] = meta.split()[1].decode()
        return result

    def read_objects(self, names: Iterable[str], limit: int | None = None) -> list[tuple[str, bytes | None]]:
        """(type, content) for each object name, from one long-lived ``cat-file --batch``.

        A missing object gives ("missing", None). Names are fed on stdin, never as
        arguments, so no name can be an option. With ``limit``, at most that many
        bytes of an object are kept (the rest is read past in chunks), so a huge
        blob in a pull request cannot exhaust memory.
        """
        names = list(names)
        if not names:
            return []
        proc = self._batch_process()
        assert proc.stdin is not None and proc.stdout is not None
        asked = [name for name in names if "\n" not in name]
        # Pipelined: every name is sent before the first answer is read, so git never waits
        # for a round trip per object. A thread writes (a big batch would fill the pipe to git
        # while git's answers fill the pipe back, each side waiting on the other).
        writer = _write_all(proc.stdin, b"".join(n.encode("utf-8", "surrogateescape") + b"\n" for n in asked),
                            in_thread=len(asked) > 64)
        answers: dict[int, tuple[str, bytes | None]] = {}
        try:
            for i in range(len(asked)):
                header = proc.stdout.readline().rstrip(b"\n").split()
                # "<sha> <type> <size>" for an object; "<name> missing" (or "ambiguous") otherwise,
                # where the name may hold spaces: only the first shape ends in a size.
                if len(header) != 3 or not header[2].isdigit() or header[1] == b"missing":
                    answers[i] = ("missing", None)
                    continue
                size = int(header[2])
                keep = size if limit is None else min(size, limit)
                data = proc.stdout.read(keep)
                _skip(proc.stdout, size - keep)
                proc.stdout.read(1)
                answers[i] = (header[1].decode(), data)
        finally:
            if writer is not None:
                writer.join()
        found = iter(answers[i] for i in range(len(asked)))
        return [("missing", None) if "\n" in name else next(found) for name in names]

    def read_blobs(self, shas: Sequence[str], what: str, limit: int | None = None) -> list[bytes | None]:
        """The contents of objects a tree or the index names: one the clone lacks is exit 2 naming it
        and the fix, never read as an empty or absent file."""
        found = self.read_objects(shas, limit)
        for sha, (kind, _data) in zip(shas, found):
            if kind == "missing" and sha not in (NULL_SHA, EMPTY_BLOB):  # no object; intent-to-add (git add -N)
                raise GitError(f"git cat-file --batch cannot read object {sha} ({what}): this clone is missing it; "
                               f"{FETCH_FIX}")
        return [data for _kind, data in found]

    def _batch_process(self) -> subprocess.Popen[bytes]:
        if self._batch is None:
            env = git_env()
            self._batch = subprocess.Popen(("git", "cat-file", "--batch"), cwd=self.root, env=env,
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL)
        return self._batch

    def object_types(self, names: Sequence[str]) -> dict[str, tuple[str, str]]:
        """name -> (type, full sha) for each name that exists; ambiguous and missing names are absent.

        One ``cat-file --batch-check`` process for all the names.
        """
        clean = [n for n in names if n and "\n" not in n]
        if not clean:
            return {}
        out = self.run("cat-file", "--batch-check=%(objectname) %(objecttype)",
                       stdin="\n".join(clean).encode() + b"\n")
        result = {}
        for name, line in zip(clean, out.decode("utf-8", "replace").splitlines()):
            parts = line.split()
            if len(parts) == 2 and parts[1] not in ("missing", "ambiguous"):
                result[name] = (parts[1], parts[0])
        return result

    def ops_tags(self, pattern: str = "refs/tags/ops-*") -> list[TagRef]:
        # %(contents), not subject + body: git joins the lines of a message's first
        # paragraph into one "subject", which would garble an entry written without a title.
        fields = ("%(refname)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(tag)",
                  "%(contents)", "%(contents:signature)")
        out = self.run("for-each-ref", "--format=" + "%00".join(fields) + "%00", "--end-of-options", pattern)
        parts = out.decode("utf-8", "replace").split("\0")
        tags = []
        for i in range(0, len(parts) - 1, len(fields)):
            ref, otype, osha, peeled, tagname, message, signature = parts[i:i + len(fields)]
            ref = ref.lstrip("\n")
            target = peeled or osha
            if signature and message.endswith(signature):
                message = message[:-len(signature)]
            tags.append(TagRef(ref, otype, osha, target, tagname, message.rstrip("\n") + "\n", signature))
        return tags

    # -- history for reports ------------------------------------------------------
    def log_with_changes(self, rev: str = "HEAD") -> list[LogCommit]:
        """Every commit reachable from ``rev`` (newest first) with the blobs it changed, from ONE ``git log``.

        Merges list no files (their changes are the merged commits'); the root commit
        lists everything it adds. Renames are split into a delete and an add, so every
        touched path is seen.
        """
        fields = "%H%x00%P%x00%aI%x00%cI%x00%an%x00%ae%x00%B"
        out = self.run("log", "-z", "--raw", "--root", "--no-renames", "--no-abbrev", "--no-color",
                       "--no-show-signature", "--encoding=UTF-8", f"--format={fields}",
                       "--end-of-options", rev, "--")
        return _parse_log(out)

    def iter_log_with_changes(self, rev: str = "HEAD") -> Iterator[LogCommit]:
        """:meth:`log_with_changes`, streamed: one commit at a time from git's output, read in chunks,
        so a history of 100,000 commits is never held whole (not its output, not its commits)."""
        fields = "%H%x00%P%x00%aI%x00%cI%x00%an%x00%ae%x00%B"
        args = ("log", "-z", "--raw", "--root", "--no-renames", "--no-abbrev", "--no-color", "--no-show-signature",
                "--encoding=UTF-8", f"--format={fields}", "--end-of-options", rev, "--")
        env = {**os.environ, **_ENV}
        with subprocess.Popen(("git", *args), cwd=self.root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            yield from _iter_log(_tokens(proc.stdout))
            error = proc.stderr.read()
            if proc.wait() != 0:
                message = error.decode("utf-8", "replace").strip()
                raise GitError(f"git log failed: {message}{missing_object_fix(message)}")

    def count_commits(self, rev: str = "HEAD") -> int:
        return int(self.run("rev-list", "--count", "--end-of-options", rev, "--").strip() or b"0")

    def tag_dates(self, pattern: str = "refs/tags/ops-*") -> dict[str, str]:
        """ref -> ISO 8601 creation time (the tagger date; the commit date for a lightweight tag)."""
        out = self.run("for-each-ref", "--format=%(refname)%00%(creatordate:iso-strict)%00",
                       "--end-of-options", pattern)
        parts = out.decode("utf-8", "replace").split("\0")
        return {parts[i].lstrip("\n"): parts[i + 1] for i in range(0, len(parts) - 1, 2)}
    # -- lifecycle: ledger lock, rollback references, tags ----------------------------
    def common_dir(self) -> str:
        """The repository's shared git directory (the same for every worktree): where the ledger lock lives."""
        cached = self._common_dir
        if cached is None:
            out = self.run("rev-parse", "--path-format=absolute", "--git-common-dir")
            cached = self._common_dir = out.decode("utf-8", "surrogateescape").rstrip("\n")
        return cached

    def check_objects(self, names: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """name -> (type, full sha) for every name, from ONE ``cat-file --batch-check``.

        The type is ``missing`` or ``ambiguous`` (sha None) when git says so. Names
        go on stdin, so none can be read as an option.
        """
        clean = list(dict.fromkeys(n for n in names if n and "\n" not in n))
        if not clean:
            return {}
        out = self.run("cat-file", "--batch-check=%(objectname) %(objecttype)",
                       stdin="\n".join(clean).encode("utf-8", "surrogateescape") + b"\n")
        result: dict[str, tuple[str, str | None]] = {}
        for name, line in zip(clean, out.decode("utf-8", "replace").splitlines()):
            if line.endswith(" missing") or line.endswith(" ambiguous"):
                result[name] = (line.rsplit(" ", 1)[1], None)
            else:
                sha, _, kind = line.partition(" ")
                result[name] = (kind, sha)
        return result

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
        import tempfile

        with tempfile.TemporaryFile() as errors:
            try:
                proc = subprocess.Popen(("git", "rev-list", "--parents", "--stdin"), cwd=self.root,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                        env=git_env(), bufsize=0)  # raw: a read returns what is there
            except FileNotFoundError:
                raise GitError("git is not installed or not on PATH; install git and run again") from None
            assert proc.stdin is not None and proc.stdout is not None
            finished = False
            try:
                proc.stdin.write("\n".join(wanted).encode() + b"\n")
                proc.stdin.close()
                rest = b""
                while chunk := proc.stdout.read(WALK_CHUNK):
                    lines = (rest + chunk).split(b"\n")
                    rest = lines.pop()
                    yield [(parts[0], parts[1:]) for parts in (line.decode().split() for line in lines) if parts]
                if rest.strip():
                    parts = rest.decode().split()
                    yield [(parts[0], parts[1:])]
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

    def local_tag(self, name: str) -> str | None:
        """The object a local tag ref points at, or None."""
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/tags/{name}", check=False)
        return out.decode().strip() or None

    def remote_tags(self, remote: str, names: Sequence[str]) -> dict[str, str]:
        """tag name -> object sha on ``remote`` for the given names (one ``ls-remote``)."""
        out = self.run("ls-remote", "--tags", "--refs", "--end-of-options", remote,
                       *[f"refs/tags/{n}" for n in names])
        result = {}
        for line in out.decode("utf-8", "replace").splitlines():
            sha, _, ref = line.partition("\t")
            result[ref.removeprefix("refs/tags/")] = sha
        return result

    def create_tag(self, name: str, commit: str, message: str, *, sign: bool) -> None:
        """An annotated (optionally signed) tag; never forced, never an editor, the message verbatim."""
        env_editor = {"GIT_EDITOR": "true"}
        args = ["-c", "core.editor=true", "tag", "-a", "-s" if sign else "--no-sign", "--cleanup=verbatim",
                "-F", "-", "--end-of-options", name, commit]
        self._run_env(args, env_editor, stdin=message.encode("utf-8"))

    def delete_local_tag(self, name: str, expected: str) -> None:
        """Delete a tag this process just created, only if it still points at ``expected``."""
        self.run("update-ref", "-d", "--end-of-options", f"refs/tags/{name}", expected)

    def push_tag(self, remote: str, name: str) -> tuple[bool, str]:
        """Push one tag without force: (accepted, git's message)."""
        env = git_env()
        ref = f"refs/tags/{name}"
        proc = subprocess.run(("git", "push", "--porcelain", "--end-of-options", remote, f"{ref}:{ref}"),
                              cwd=self.root, capture_output=True, env=env)
        text = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        return proc.returncode == 0, text

    def verify_tag(self, name: str, allowed_signers: str | None) -> tuple[bool, str]:
        """``git verify-tag --raw``: (valid, what git and gpg/ssh-keygen said)."""
        env = git_env()
        config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
        proc = subprocess.run(("git", *config, "verify-tag", "--raw", "--end-of-options", f"refs/tags/{name}"),
                              cwd=self.root, capture_output=True, env=env)
        return proc.returncode == 0, (proc.stdout + proc.stderr).decode("utf-8", "replace")

    def _run_env(self, args: Sequence[str], extra: dict[str, str], stdin: bytes | None = None) -> bytes:
        env = {**git_env(), **extra}
        proc = subprocess.run(("git", *args), cwd=self.root, input=stdin, capture_output=True, env=env)
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {' '.join(a for a in args if not a.startswith('-'))[:40]} failed: {message}")
        return proc.stdout


    # -- the gate's operations (each one process for many objects) ---------------------------
    @classmethod
    def discover_any(cls, path: str = ".") -> Git:
        """A work tree's top level, or a bare repository's directory (a server's pre-receive hook)."""
        env = git_env()
        try:
            proc = subprocess.run(("git", "rev-parse", "--is-bare-repository", "--absolute-git-dir"), cwd=path,
                                  capture_output=True, env=env)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH; install git and run again") from None
        lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        if proc.returncode == 0 and len(lines) == 2 and lines[0] == "true":
            return cls(lines[1])
        return cls.discover(path)

    def staged_entries(self, base: str | None) -> list[DiffEntry]:
        """The staged change against ``base`` (HEAD), or the empty tree in a new repository."""
        out = self.run(*_DIFF_OPTS, "diff-index", "--cached", *_RAW, "--end-of-options", base or EMPTY_TREE)
        return parse_raw(out)

    def diff_entries(self, old: str | None, new: str) -> list[DiffEntry]:
        """The change from ``old`` (None: the empty tree) to ``new``."""
        out = self.run(*_DIFF_OPTS, "diff-tree", *_RAW, "--end-of-options", old or EMPTY_TREE, new)
        return parse_raw(out)

    def commit_diffs(self, pairs: Sequence[tuple[str, str | None]]) -> dict[str, CommitDiff]:
        """For each (commit, parent) its change against that parent only (None: a root commit), one process."""
        if not pairs:
            return {}
        # --no-renames: trees only. Rename detection reads the blobs of every added and deleted file,
        # and a blob missing from old, unrelated history must not stop the gate; both sides of a
        # rename are touched either way (a delete and an add).
        out = self.run(*_DIFF_OPTS, "diff-tree", "--stdin", "--root", "--always", *_RAW_TREES, _HEADER_FORMAT,
                       stdin=_diff_tree_input(pairs))
        return {d.sha: d for d in parse_commit_diffs(out)}

    def merge_own_paths(self, merges: Sequence[str]) -> dict[str, set[str]]:
        """For each merge commit, the paths whose content differs from every parent (one process).

        This is what git's combined diff (``diff-tree -c``) lists: a path the merge took
        unchanged from one of its parents is that parent's change, judged on the commits
        that made it; a path resolved by hand (or changed only by the merge) is listed.
        """
        if not merges:
            return {}
        out = self.run(*_DIFF_OPTS, "diff-tree", "--stdin", "-c", "-r", "-z", "--raw", "--no-abbrev",
                       "--no-ext-diff", "--format=%x01%H", stdin="".join(f"{m}\n" for m in merges).encode())
        return parse_combined_paths(out)

    def merge_patches(self, merges: Sequence[str]) -> bytes:
        """Zero-context combined patches (``--cc``) of merge commits, each after a ``\\x01sha`` line."""
        if not merges:
            return b""
        return self.run(*_DIFF_OPTS, "diff-tree", "--stdin", "--cc", "-U0", "--no-color", "--no-ext-diff",
                        "--src-prefix=a/", "--dst-prefix=b/", "--format=%x01%H",
                        stdin="".join(f"{m}\n" for m in merges).encode())

    def merge_heads(self) -> list[str]:
        """The commits being merged into HEAD (``MERGE_HEAD``; several for an octopus), or none."""
        path = self.run("rev-parse", "--git-path", "MERGE_HEAD").decode("utf-8", "surrogateescape").rstrip("\n")
        full = os.path.join(self.root, path)
        if not os.path.isfile(full):
            return []  # no merge in progress (and never a special file opened for reading)
        with open(full, encoding="ascii", errors="replace") as f:
            heads = [line.strip() for line in f if line.strip()]
        found = self.object_types([f"{h}^{{commit}}" for h in heads])
        return [found[f"{h}^{{commit}}"][1] for h in heads if f"{h}^{{commit}}" in found]

    def staged_paths_against(self, commit: str) -> set[str]:
        """The paths whose staged content differs from ``commit``."""
        out = self.run(*_DIFF_OPTS, "diff-index", "--cached", "-r", "-z", "--name-only", "--no-ext-diff",
                       "--end-of-options", commit)
        return {_decode_path(p) for p in out.split(b"\0") if p}

    def staged_patch(self, base: str | None) -> bytes:
        """Zero-context patch of the staged change (binary files appear as 'Binary files ... differ')."""
        return self.run(*_DIFF_OPTS, "diff-index", "--cached", *_PATCH, "--end-of-options", base or EMPTY_TREE)

    def commit_patches(self, pairs: Sequence[tuple[str, str | None]]) -> bytes:
        """Zero-context patches of many commits against their chosen parent, each after a ``\\x01sha`` line."""
        if not pairs:
            return b""
        return self.run(*_DIFF_OPTS, "diff-tree", "--stdin", "--root", *_PATCH, "--format=%x01%H",
                        stdin=_diff_tree_input(pairs))

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

    def blob_at(self, rev: str | None, path: str) -> str | None:
        """The blob id of ``path`` in ``rev``'s tree (None: no such file, or ``rev`` is None)."""
        return self.ls_tree(rev, [path]).get(path) if rev is not None else None

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.run("merge-base", "--end-of-options", a, b, check=False).strip()
        return out.decode() if out else None

    def shallow_commits(self) -> set[str]:
        """The commits whose parents a shallow clone cut off (empty in a complete repository)."""
        path = self.run("rev-parse", "--git-path", "shallow").decode("utf-8", "surrogateescape").rstrip("\n")
        try:
            with open(os.path.join(self.root, path), encoding="ascii") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def remotes_without_tags(self) -> list[str]:
        """The remotes configured never to fetch tags (``tagOpt = --no-tags``, what ``git clone --no-tags`` sets)."""
        out = self.run("config", "--get-regexp", "-z", r"^remote\..*\.tagopt$", check=False)
        found = []
        for record in out.split(b"\0"):
            key, _sep, value = record.decode("utf-8", "replace").partition("\n")
            if value.strip() == "--no-tags":
                found.append(key[len("remote."):-len(".tagopt")])
        return found

    def tags_merged_into(self, commit: str, pattern: str = "refs/tags/ops-*") -> set[str]:
        """Names of the tags matching ``pattern`` whose commit is ``commit`` or one of its ancestors."""
        out = self.run("for-each-ref", "--format=%(refname)", f"--merged={commit}", "--end-of-options", pattern)
        return {line.removeprefix("refs/tags/") for line in out.decode("utf-8", "replace").splitlines() if line}

    def parse_trailers(self, message: bytes) -> list[tuple[str, str]]:
        """(key, value) of a message's trailers as git parses them (comment lines and scissors ignored)."""
        out = self.run("interpret-trailers", "--parse", stdin=message)
        pairs = []
        for line in out.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                pairs.append((key.strip(), value.strip()))
        return pairs

    def peel_commits(self, names: Sequence[str]) -> dict[str, str]:
        """name -> commit sha for each name that peels to a commit (tags followed), in one process."""
        found = self.object_types([f"{n}^{{commit}}" for n in names])
        return {n: found[f"{n}^{{commit}}"][1] for n in names if f"{n}^{{commit}}" in found}


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


# How much of a parent walk is read at a time (about 3,000 commits).
WALK_CHUNK = 1 << 18


def _write_all(stream: IO[bytes], payload: bytes, *, in_thread: bool) -> threading.Thread | None:
    """Send ``payload`` to a batch process: inline for a few names, from a thread for many."""
    def send() -> None:
        try:
            stream.write(payload)
            stream.flush()
        except (BrokenPipeError, OSError):
            pass  # git is gone: the reader sees the end of its output and reports what it got

    if not in_thread:
        send()
        return None
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            raise GitError("git cat-file stopped in the middle of an object; run again")
        count -= len(chunk)


def _parse_ls(out: bytes, sha_field: int) -> dict[str, str]:
    result = {}
    for record in out.split(b"\0"):
        if record:
            meta, path = record.split(b"\t", 1)
            fields = meta.split()
            if fields[1] == b"blob":
                result[path.decode("utf-8", "surrogateescape")] = fields[sha_field].decode()
    return result


# -- the gate's diff parsing -------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DiffEntry:
    """One entry of ``--raw`` diff output, with the object ids of both sides."""

    status: str              # A, M, D, T, R, C, U
    path: str
    old_path: str | None
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str

    @property
    def change(self) -> Change:
        return Change(self.status, self.path, self.old_path, self.old_mode, self.new_mode)

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclasses.dataclass(frozen=True)
class CommitDiff:
    """A commit's change against one chosen parent, and its ``Ops-Id`` trailer values."""

    sha: str
    entries: list[DiffEntry]
    trailers: tuple[str, ...]


TRAILER_KEY = "Ops-Id"
_DIFF_OPTS = ("-c", "core.quotePath=true")
_RAW = ("-r", "-z", "--raw", "-M", "--no-ext-diff", "--no-abbrev")
_RAW_TREES = ("-r", "-z", "--raw", "--no-renames", "--no-ext-diff", "--no-abbrev")
_PATCH = ("-r", "-p", "-U0", "-M", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
_HEADER_FORMAT = f"--format=%x01%H%x02%(trailers:key={TRAILER_KEY},valueonly,unfold,separator=%x1f)%x02"


def _diff_tree_input(pairs: Sequence[tuple[str, str | None]]) -> bytes:
    """``commit parent`` lines for ``diff-tree --stdin``: the parent given is the only one compared."""
    return "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()


def _decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _raw_entry(tokens: list[bytes], i: int) -> tuple[DiffEntry | None, int]:
    """The raw entry whose ``:meta`` token is ``tokens[i]``, and the index after its paths."""
    fields = tokens[i].lstrip(b"\n").decode("ascii", "replace")[1:].split()
    if len(fields) != 5:
        return None, i + 1
    old_mode, new_mode, old_sha, new_sha, status = fields
    if status[0] in "RC":
        if i + 2 >= len(tokens):
            return None, len(tokens)
        return DiffEntry(status[0], _decode_path(tokens[i + 2]), _decode_path(tokens[i + 1]), old_mode,
                         new_mode, old_sha, new_sha), i + 3
    if i + 1 >= len(tokens):
        return None, len(tokens)
    return DiffEntry(status[0], _decode_path(tokens[i + 1]), None, old_mode, new_mode, old_sha, new_sha), i + 2


def parse_raw(out: bytes) -> list[DiffEntry]:
    """``--raw -z`` output of one diff."""
    return [entry for diff in _parse_raw_stream(out, headers=False) for entry in diff.entries]


def parse_commit_diffs(out: bytes) -> list[CommitDiff]:
    """``diff-tree --stdin -z --raw`` output with ``%x01sha%x02trailers%x02`` headers."""
    return _parse_raw_stream(out, headers=True)


def parse_combined_paths(out: bytes) -> dict[str, set[str]]:
    """``diff-tree --stdin -c -z --raw --format=%x01%H`` output: merge -> its listed paths.

    A combined entry is ``::<modes> <shas> <statuses>`` then one path (no renames in combined
    mode); the path is taken by position, so no byte of it is read as a header.
    """
    result: dict[str, set[str]] = {}
    current: set[str] | None = None
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if token[:1] == b"\x01":
            current = result.setdefault(token[1:].strip().decode("ascii", "replace"), set())
            i += 1
        elif token[:1] == b":" and current is not None and i + 1 < len(tokens):
            current.add(_decode_path(tokens[i + 1]))
            i += 2
        else:
            i += 1
    return result


def _parse_raw_stream(out: bytes, *, headers: bool) -> list[CommitDiff]:
    """Paths are consumed by position after their ``:meta`` token, so a path holding any byte
    (a newline, \\x01, a leading colon) is never taken for a header or an entry."""
    tokens = out.split(b"\0")
    result: list[CommitDiff] = [] if headers else [CommitDiff("", [], ())]
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if headers and token[:1] == b"\x01" and token[-1:] == b"\x02" and b"\x02" in token[1:-1]:
            sha, trailers = token[1:-1].split(b"\x02", 1)
            values = tuple(v.strip() for v in trailers.decode("utf-8", "replace").split("\x1f") if v.strip())
            result.append(CommitDiff(sha.decode("ascii", "replace"), [], values))
            i += 1
        elif token[:1] == b":" and result:
            entry, i = _raw_entry(tokens, i)
            if entry is not None:
                result[-1].entries.append(entry)
        else:
            i += 1
    return result
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
    """:func:`_parse_log` over a stream of fields (the same positional parse)."""
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


def _parse_log(out: bytes) -> list[LogCommit]:
    """Parse ``git log -z --raw --format=<7 NUL-separated fields>``.

    Each commit is its seven header fields, then zero or more raw records (a
    ``:``-prefixed meta field and one path, ``--no-renames``). The parse is by
    position, so a path that looks like a sha or a message can never be misread.
    """
    parts = out.split(b"\0")
    commits: list[LogCommit] = []
    i = 0
    while i + 7 <= len(parts) and parts[i].strip(b"\n"):
        head = [p.decode("utf-8", "replace") for p in parts[i:i + 7]]
        i += 7
        changes: list[BlobChange] = []
        while i + 1 < len(parts) and parts[i].lstrip(b"\n").startswith(b":"):
            _old_mode, _new_mode, old_blob, new_blob, status = parts[i].lstrip(b"\n")[1:].decode().split()
            changes.append(BlobChange(status[0], parts[i + 1].decode("utf-8", "surrogateescape"), old_blob,
                                      new_blob))
            i += 2
        sha, parents, author_date, commit_date, name, email, message = head
        commits.append(LogCommit(sha.lstrip("\n"), tuple(parents.split()), author_date, commit_date, name, email,
                                 message, tuple(changes)))
    return commits
