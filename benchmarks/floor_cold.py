"""The floor of a cold whole-repository run: the least work any Python checker of these records does.

A cold ``opsgov check --all`` (or ``validate``) must read every record file, parse it, and (for
``--all``) know the ancestry of the commits its rollback references name. This script does only
that, and nothing opsgov adds (no rule, no line numbers, no duplicate-key check, no cache), at
three depths::

    python benchmarks/floor_cold.py                  # the 100,000-commit generated repository
    python benchmarks/floor_cold.py --repo PATH --runs 5

* **git**: ``ls-tree`` of HEAD and one ``cat-file --batch`` of every record file; for ``--all``
  also one ``rev-list --parents`` from HEAD and every ``ops-*`` tag's commit, run beside the
  rest (into a file, as opsgov's early walk), and every walked commit's parents in a dict;
* **lines**: the same, and every record decoded and split into lines, on two cores (the parent
  and a forked child, as opsgov splits its files): touching the text at all costs this;
* **libyaml**: the same, and each operation record's front matter and each month file parsed by
  PyYAML's C loader, the fastest YAML parser Python has, and each runbook's headings found by one
  regex.

Each line is the median of ``--runs`` runs of a fresh process (the OS page cache warm).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _floor(repo: str, walk: bool, depth: str) -> None:
    """One run, in this process (what the median is taken of)."""
    import marshal
    import tempfile

    def git(*args: str, stdin: bytes | None = None) -> bytes:
        return subprocess.run(["git", *args], cwd=repo, input=stdin, stdout=subprocess.PIPE, check=True).stdout

    walker, walked = None, tempfile.TemporaryFile()
    if walk:
        tips = git("for-each-ref", "--format=%(objectname)%0a%(*objectname)", "refs/tags/ops-*").split()
        walker = subprocess.Popen(["git", "rev-list", "--parents", "--stdin"], cwd=repo, stdin=subprocess.PIPE,
                                  stdout=walked)
        assert walker.stdin is not None
        walker.stdin.write(b"HEAD\n" + b"\n".join(tips) + b"\n")
        walker.stdin.close()
    listing = git("ls-tree", "-r", "-z", "HEAD", "--", "ops/operations", "ops/ledger")
    paths, shas = [], []
    for record in listing.split(b"\0"):
        if record:
            meta, path = record.split(b"\t", 1)
            paths.append(path.decode())
            shas.append(meta.split()[2])
    out = git("cat-file", "--batch", stdin=b"\n".join(shas) + b"\n")
    blobs, at = [], 0
    for _ in shas:
        end = out.index(b"\n", at)
        size = int(out[at:end].split()[2])
        blobs.append(out[end + 1:end + 1 + size])
        at = end + 2 + size
    headings = re.compile(r"^#{1,6} .*$", re.M)

    def parse(indexes: range) -> list[int]:
        import yaml

        loader = yaml.CSafeLoader
        counts = []
        for i in indexes:
            text = blobs[i].decode()
            if depth == "lines":
                counts.append(len(text.split("\n")))
            elif paths[i].endswith(".yaml"):
                counts.append(len(list(yaml.load_all(text, Loader=loader))))
            else:
                _start, front, body = text.split("---\n", 2)
                yaml.load(front, Loader=loader)
                counts.append(len(headings.findall(body)))
        return counts

    if depth != "git":
        half = len(paths) // 2
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            os.write(write_end, marshal.dumps(parse(range(half, len(paths)))))
            os._exit(0)
        os.close(write_end)
        mine = parse(range(half))
        with os.fdopen(read_end, "rb") as f:
            theirs = marshal.loads(f.read())
        os.waitpid(pid, 0)
        assert len(mine) + len(theirs) == len(paths)
    if walker is not None:
        walker.wait()
        walked.seek(0)
        parents = {}
        for line in walked:
            parts = line.split()
            parents[parts[0]] = parts[1:]


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        _floor(sys.argv[2], sys.argv[3] == "walk", sys.argv[4])
        return 0
    import generate

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", type=Path)
    p.add_argument("--commits", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    repo = args.repo or generate.ensure(generate.Shape(commits=args.commits), generate.WORK) / "repo"
    print("| floor of a cold ... | git | lines | libyaml |\n|---|---|---|---|")
    for label, mode in (("validate", "nowalk"), ("check --all", "walk")):
        cells = []
        for depth in ("git", "lines", "libyaml"):
            walls, cpus = [], []
            for _ in range(args.runs + 1):
                start = time.perf_counter()
                proc = subprocess.Popen([sys.executable, __file__, "--one", str(repo), mode, depth])
                _pid, status, usage = os.wait4(proc.pid, 0)
                if status != 0:
                    print(f"{label}, {depth}: the floor run failed (status {status})", file=sys.stderr)
                    return 1
                walls.append((time.perf_counter() - start) * 1000)
                cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
            cells.append(f"{statistics.median(walls[1:]):.0f} ms ({statistics.median(cpus[1:]):.0f} ms CPU)")
        print(f"| {label} | {' | '.join(cells)} |")
    print(f"medians of {args.runs} runs after one warm-up, wall (CPU of the process tree)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
