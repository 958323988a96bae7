"""``WorktreeSource.list`` and ``read_many`` answer as the path-by-path definitions they replaced."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from opsgov_hooks.git.sources import READ_LIMIT, WorktreeSource, read_regular


def _reference_list(root: str, prefixes: list[str]) -> list[str]:
    found: list[str] = []
    for prefix in prefixes:
        full = os.path.join(root, prefix)
        if os.path.isfile(full):
            found.append(prefix)
            continue
        for dirpath, dirnames, filenames in os.walk(full):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            for filename in sorted(filenames):
                found.append(os.path.relpath(os.path.join(dirpath, filename), root).replace(os.sep, "/"))
    return sorted(set(found))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel in ("top.yaml", "ops/operations/OPS-2026-01-27-001.md", "ops/ledger/2026-01.yaml", "ops/a/b/c/d.md",
                "ops/.git/HEAD", "ops/sub/.git/config", "ops/with space/x y.md", "ops/ünï/ç.md", ".opsgov.yaml"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (root / "ops" / "linked").symlink_to("a")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("outside")
    (root / "ops" / "away").symlink_to(outside)
    (root / "ops" / "a" / "file-link.md").symlink_to("../ledger/2026-01.yaml")
    (root / "ops" / "a" / "out-link.md").symlink_to(outside / "secret.md")
    os.mkfifo(root / "ops" / "a" / "fifo.md")
    return root


@pytest.mark.parametrize("prefixes", [["ops"], ["ops/operations", "ops/ledger"], [""], ["top.yaml", "nope", "ops/a"]])
def test_listing_agrees_with_the_path_by_path_definition(tree: Path, prefixes: list[str]) -> None:
    for root in (str(tree), str(tree) + "/"):
        assert WorktreeSource(root).list(prefixes) == _reference_list(root, prefixes)


def test_reading_agrees_with_resolving_every_path(tree: Path) -> None:
    source = WorktreeSource(str(tree))
    # Folder links are not walked into, but a path may name a file through one.
    paths = source.list(["ops", "top.yaml"]) + ["ops/away/secret.md", "ops/linked/b/c/d.md", "ops/linked/fifo.md",
                                                "ops/missing.md"]
    got = source.read_many(paths)
    root = os.path.realpath(tree)
    for path in paths:
        full = os.path.realpath(tree / path)
        readable = os.path.commonpath([root, full]) == root and os.path.isfile(full) and "fifo" not in path
        expected = Path(full).read_bytes() if readable else None
        assert got[path] == expected, path
    assert got["ops/away/secret.md"] is None and got["ops/a/out-link.md"] is None
    assert got["ops/linked/b/c/d.md"] == b"ops/a/b/c/d.md" and got["ops/missing.md"] is None and got["ops/a/file-link.md"] == b"ops/ledger/2026-01.yaml"
    assert source.special == {"ops/a/fifo.md": "a FIFO", "ops/linked/fifo.md": "a FIFO"}


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 65537, READ_LIMIT - 1, READ_LIMIT, READ_LIMIT + 1, 3 * READ_LIMIT])
def test_reading_one_file_gives_its_first_bytes_up_to_the_limit(tmp_path: Path, size: int) -> None:
    body = bytes(range(256)) * (size // 256 + 1)
    path = tmp_path / "record.md"
    path.write_bytes(body[:size])
    assert read_regular(str(path)) == body[:min(size, READ_LIMIT)]


def test_a_file_that_reports_no_size_is_read_to_its_end() -> None:
    # /proc files say size 0 and still have content: the read goes on until the end of the file.
    got = read_regular("/proc/self/status") or b""
    assert got.startswith(b"Name:") and b"\nPid:" in got and got.endswith(b"\n")


def test_what_is_not_a_regular_file_is_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)   # opened without blocking and not read: a read would hang this test
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "link.md").symlink_to("folder.md")
    assert read_regular(str(fifo)) is None
    assert read_regular(str(tmp_path / "folder.md")) is None
    assert read_regular(str(tmp_path / "link.md")) is None
    assert read_regular(str(tmp_path / "missing.md")) is None
    if os.getuid() != 0:   # root reads anything
        locked = tmp_path / "locked.md"
        locked.write_text("x")
        locked.chmod(0)
        assert read_regular(str(locked)) is None
