"""Object reads: trees, the index, blobs through one ``cat-file --batch``, object types.

Many objects are read by one long-lived ``git cat-file --batch`` process, never one
process per object; names go on stdin, never on the command line.
"""
from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Sequence
from typing import IO

from opsgov_hooks.git.process import FETCH_FIX, GitError, GitProcess, start_git

NULL_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def _ls_tree(rev: str, prefixes: Sequence[str]) -> tuple[str, ...]:
    # No "--" here: after --end-of-options ls-tree reads "--" as a path named "--"
    # and lists nothing. Everything after the tree-ish is a path to ls-tree anyway.
    return ("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", rev, *[p for p in prefixes if p])


class ObjectReads(GitProcess):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self._batch: subprocess.Popen[bytes] | None = None

    def forget_batch(self) -> None:
        """In a forked child: leave the parent's ``cat-file --batch`` and prefetched questions to the
        parent (the child asks its own on demand)."""
        self._batch = None
        self._started = {}

    def close(self) -> None:
        if self._batch is not None:
            assert self._batch.stdin is not None
            self._batch.stdin.close()
            self._batch.wait()
            self._batch = None
        super().close()

    # -- trees and the index ------------------------------------------------------
    def ls_tree(self, rev: str, prefixes: Sequence[str] = ()) -> dict[str, str]:
        """path -> blob sha of the files of ``rev`` (under ``prefixes`` when given)."""
        out = self.run(*_ls_tree(rev, prefixes))
        result = {}
        for record in out.split(b"\0"):
            if record:
                meta, path = record.split(b"\t", 1)
                fields = meta.split()
                if fields[1] == b"blob":
                    result[path.decode("utf-8", "surrogateescape")] = fields[2].decode()
        return result

    def prefetch_ls_tree(self, rev: str) -> None:
        """Start :meth:`ls_tree` of the whole of ``rev`` now, to be read when it is asked for."""
        self.prefetch(*_ls_tree(rev, ()))

    def blob_at(self, rev: str | None, path: str) -> str | None:
        """The blob id of ``path`` in ``rev``'s tree (None: no such file, or ``rev`` is None)."""
        return self.ls_tree(rev, [path]).get(path) if rev is not None else None

    def ls_index(self, prefixes: Sequence[str] = ()) -> dict[str, str]:
        """path -> blob sha of the staged files (under ``prefixes`` when given)."""
        return {path.decode("utf-8", "surrogateescape"): sha for path, _mode, sha, _stage in self._index(prefixes)}

    def worktree_blob_ids(self, prefixes: Sequence[str]) -> dict[str, str]:
        """path -> blob id for working-tree files git knows are unchanged since staged.

        Index entries (stage 0, regular files only: a symlink's blob is its target's
        name, not the bytes read through it) minus what ``diff-files`` reports as
        changed. Two processes; no file is read or hashed.
        """
        entries = self._index(prefixes)
        changed = set(self.run("diff-files", "--name-only", "-z", "--", *[p for p in prefixes if p]).split(b"\0"))
        return {path.decode("utf-8", "surrogateescape"): sha for path, mode, sha, stage in entries
                if stage == b"0" and mode in (b"100644", b"100755") and path not in changed}

    def _index(self, prefixes: Sequence[str]) -> list[tuple[bytes, bytes, str, bytes]]:
        """(path, mode, blob sha, stage) of each index entry under ``prefixes`` (one ``ls-files -s``)."""
        out = self.run("ls-files", "-s", "-z", "--", *[p for p in prefixes if p])
        entries = []
        for record in out.split(b"\0"):
            if record:
                meta, path = record.split(b"\t", 1)
                mode, sha, stage = meta.split()
                entries.append((path, mode, sha.decode(), stage))
        return entries

    # -- object contents ------------------------------------------------------------
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
            self._batch = start_git(("cat-file", "--batch"), self.root, stdin=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        return self._batch

    # -- object names -----------------------------------------------------------------
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

    def object_sizes(self, names: Sequence[str]) -> dict[str, tuple[str, str, int]]:
        """name -> (full sha, type, size in bytes) for each name that exists, from ONE ``cat-file --batch-check``
        (nothing is inflated). Names go on stdin, so none can be read as an option."""
        clean = list(dict.fromkeys(n for n in names if n and "\n" not in n))
        if not clean:
            return {}
        out = self.run("cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                       stdin="\n".join(clean).encode("utf-8", "surrogateescape") + b"\n")
        result: dict[str, tuple[str, str, int]] = {}
        for name, line in zip(clean, out.decode("utf-8", "replace").splitlines()):
            parts = line.split(" ")
            if len(parts) == 3 and parts[2].isdigit():   # "<name> missing" has no size; a name may hold spaces
                result[name] = (parts[0], parts[1], int(parts[2]))
        return result

    def object_types(self, names: Sequence[str]) -> dict[str, tuple[str, str]]:
        """name -> (type, full sha) for each name that exists; ambiguous and missing names are absent."""
        return {name: (kind, sha) for name, (kind, sha) in self.check_objects(names).items() if sha is not None}

    def peel_commits(self, names: Sequence[str]) -> dict[str, str]:
        """name -> commit sha for each name that peels to a commit (tags followed), in one process."""
        found = self.object_types([f"{n}^{{commit}}" for n in names])
        return {n: found[f"{n}^{{commit}}"][1] for n in names if f"{n}^{{commit}}" in found}


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
