"""Diffs: the staged change, a commit's change against a chosen parent, merges, zero-context patches.

Each operation is one git process for many commits (``diff-tree --stdin``). Raw output is
parsed by position, so no byte of a path is ever taken for a header or an entry.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from opsgov_hooks.git.objects import EMPTY_TREE, ObjectReads


@dataclasses.dataclass(frozen=True)
class DiffEntry:
    """One entry of ``--raw`` diff output, with the object ids of both sides."""

    status: str              # A, M, D, T, R, C, U
    path: str
    old_path: str | None     # set for renames and copies
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str

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


def _diff_entries(old: str | None, new: str) -> tuple[str, ...]:
    return (*_DIFF_OPTS, "diff-tree", *_RAW, "--end-of-options", old or EMPTY_TREE, new)


def _staged_patch(base: str | None) -> tuple[str, ...]:
    return (*_DIFF_OPTS, "diff-index", "--cached", *_PATCH, "--end-of-options", base or EMPTY_TREE)


class Diffs(ObjectReads):
    def staged_entries(self, base: str | None) -> list[DiffEntry]:
        """The staged change against ``base`` (HEAD), or the empty tree in a new repository."""
        out = self.run(*_DIFF_OPTS, "diff-index", "--cached", *_RAW, "--end-of-options", base or EMPTY_TREE)
        return parse_raw(out)

    def staged_paths_against(self, commit: str) -> set[str]:
        """The paths whose staged content differs from ``commit``."""
        out = self.run(*_DIFF_OPTS, "diff-index", "--cached", "-r", "-z", "--name-only", "--no-ext-diff",
                       "--end-of-options", commit)
        return {_decode_path(p) for p in out.split(b"\0") if p}

    def staged_patch(self, base: str | None) -> bytes:
        """Zero-context patch of the staged change (binary files appear as 'Binary files ... differ')."""
        return self.run(*_staged_patch(base))

    def prefetch_staged_patch(self, base: str | None) -> None:
        """Start :meth:`staged_patch` now, to be read when the content rules ask for it."""
        self.prefetch(*_staged_patch(base))

    def diff_entries(self, old: str | None, new: str) -> list[DiffEntry]:
        """The change from ``old`` (None: the empty tree) to ``new``."""
        return parse_raw(self.run(*_diff_entries(old, new)))

    def prefetch_diff_entries(self, old: str | None, new: str) -> None:
        """Start :meth:`diff_entries` now, to be read when it is asked for."""
        self.prefetch(*_diff_entries(old, new))

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

    def commit_patches(self, pairs: Sequence[tuple[str, str | None]]) -> bytes:
        """Zero-context patches of many commits against their chosen parent, each after a ``\\x01sha`` line."""
        if not pairs:
            return b""
        return self.run(*_DIFF_OPTS, "diff-tree", "--stdin", "--root", *_PATCH, "--format=%x01%H",
                        stdin=_diff_tree_input(pairs))

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
        full = self.git_path("MERGE_HEAD")
        if not os.path.isfile(full):
            return []  # no merge in progress (and never a special file opened for reading)
        with open(full, encoding="ascii", errors="replace") as f:
            heads = [line.strip() for line in f if line.strip()]
        return list(self.peel_commits(heads).values())

    def parse_trailers(self, message: bytes) -> list[tuple[str, str]]:
        """(key, value) of a message's trailers as git parses them (comment lines and scissors ignored)."""
        out = self.run("interpret-trailers", "--parse", stdin=message)
        pairs = []
        for line in out.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                pairs.append((key.strip(), value.strip()))
        return pairs


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
