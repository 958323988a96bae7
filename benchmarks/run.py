"""Time opsgov as whole processes against the floor and a peer, on generated repositories.

One command, from a clone (after ``pip install -e '.[bench]'``)::

    python benchmarks/run.py              # generates what is missing, then measures (a few minutes)
    python benchmarks/run.py --quick      # 1,000-commit history only, 3 runs: a smoke test

Each number is the median wall time of ``--runs`` runs (after one unmeasured
warm-up run) of a whole process started with :mod:`subprocess`; peak memory is
the child's ``ru_maxrss`` as returned by ``os.wait4`` for that very process
(a per-process figure: ``getrusage(RUSAGE_CHILDREN)`` only keeps the maximum
over all children ever waited for, so deltas of it cannot isolate one run).

* **floor**: ``python -I -S -c pass`` plus the git plumbing the command needs,
  each timed the same way; the floor is the sum of their medians.
* **peer**: ``check-jsonschema`` with ``schemas/ledger-entry.schema.json`` on the
  same ledger entries. It validates one document per file, so each multi-document
  month file is given to it in two fair forms, and the faster one is the peer:
  one file per entry (``split``), and one file per month holding a YAML list of
  its entries against a wrapper schema ``{"type": "array", "items": <entry>}``
  (``list``). The peer does less work than opsgov: no strict YAML, no line
  numbers, no operation records, no cross-record rules, no git.
* **cold/warm**: with the record cache (``.git/opsgov-cache``) removed before
  every run, or kept from the warm-up run. The OS page cache is warm in both.
* **restored** (``--restored``, and in the full run): what a CI job sees when it keeps
  opsgov's cache between runs (docs/ci.md, "Starting warm"): a fresh ``git clone
  --no-local`` of the repository (its own pack, another path), and before every run the
  folder an earlier run left *in the original repository*, copied into the clone. For the
  pull request's range that earlier run is the default branch's last push (``--range
  main~1..main``: what the cache a pull request restores holds) or the same range (a re-run);
  for ``--all`` and ``validate``, the same command on the default branch. Beside them, the
  same commands cold in that clone.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "ledger-entry.schema.json"
BIN = Path(sys.executable).parent
MISSING = "n/a (command missing)"


@dataclasses.dataclass
class Timing:
    seconds: float
    peak_mib: float
    rc: int
    cpu: float = 0.0   # user + system seconds of the process and the children it waited for


def run_once(cmd: Sequence[str], cwd: Path, stdin: bytes | None = None) -> Timing:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Timing(elapsed, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime)


def measure(cmd: Sequence[str], cwd: Path, runs: int, before: Callable[[], None] | None = None,
            stdin: bytes | None = None) -> Timing:
    """Median of ``runs`` runs after one warm-up; ``before`` runs before each (e.g. drop the cache)."""
    samples = []
    for _ in range(runs + 1):
        if before is not None:
            before()
        samples.append(run_once(cmd, cwd, stdin))
    samples = samples[1:]
    return Timing(statistics.median(s.seconds for s in samples), max(s.peak_mib for s in samples),
                  samples[-1].rc, statistics.median(s.cpu for s in samples))


def output_of(cmd: Sequence[str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return proc.returncode, (proc.stdout + proc.stderr)


# -- tools ---------------------------------------------------------------------------

def opsgov_cmd() -> list[str]:
    script = BIN / "opsgov"
    return [str(script)] if script.exists() else [sys.executable, "-m", "opsgov_hooks"]


def has_command(name: str) -> bool:
    code = f"import importlib.util,sys; sys.exit(importlib.util.find_spec('opsgov_hooks.commands.{name}') is None)"
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


def peer_cmd() -> list[str] | None:
    script = BIN / "check-jsonschema"
    if script.exists():
        return [str(script)]
    found = shutil.which("check-jsonschema")
    return [found] if found else None


PYTHON_FLOOR = [sys.executable, "-I", "-S", "-c", "pass"]


# -- peer inputs ---------------------------------------------------------------------

def split_entries(text: str) -> list[str]:
    docs = re.split(r"^---[ \t]*\n", text, flags=re.M)
    return [d for d in docs if d.strip()]


def as_list(entries: list[str]) -> str:
    return "".join("- " + e.rstrip("\n").replace("\n", "\n  ") + "\n" for e in entries)


def peer_inputs(repo: Path, ledger_files: Sequence[str], dest: Path) -> tuple[list[str], list[str], str]:
    """(split files, list files, wrapper schema) for the peer, written once under ``dest``."""
    split_dir, list_dir = dest / "split", dest / "list"
    wrapper = dest / "ledger-list.schema.json"
    if not dest.exists():
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "split").mkdir(parents=True)
        (tmp / "list").mkdir()
        for rel in ledger_files:
            entries = split_entries((repo / rel).read_text())
            stem = Path(rel).stem
            for i, entry in enumerate(entries):
                (tmp / "split" / f"{stem}-{i:04d}.yaml").write_text(entry)
            (tmp / "list" / f"{stem}.yaml").write_text(as_list(entries))
        schema = json.loads(SCHEMA.read_text())
        defs = schema.pop("$defs")
        for key in ("$schema", "$id"):
            schema.pop(key)
        (tmp / wrapper.name).write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                                     "type": "array", "items": schema, "$defs": defs}))
        os.replace(tmp, dest)
    return (sorted(str(p) for p in split_dir.iterdir()), sorted(str(p) for p in list_dir.iterdir()), str(wrapper))


def measure_peer(repo: Path, ledger_files: Sequence[str], dest: Path, runs: int) -> tuple[Timing, str] | None:
    cmd = peer_cmd()
    if cmd is None:
        return None
    split, listed, wrapper = peer_inputs(repo, ledger_files, dest)
    a = measure([*cmd, "--schemafile", str(SCHEMA), *split], repo, runs)
    b = measure([*cmd, "--schemafile", wrapper, *listed], repo, runs)
    for timing, form in ((a, "split"), (b, "list")):
        if timing.rc != 0:
            raise SystemExit(f"check-jsonschema ({form}) failed on the generated ledger: the data is wrong")
    return (a, f"split, {len(split)} files") if a.seconds <= b.seconds else (b, f"list, {len(listed)} files")


# -- repository state ----------------------------------------------------------------

def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(("git", *args), cwd=repo, check=True, capture_output=True, input=stdin).stdout


def reset(repo: Path) -> None:
    # Check out main first: 'reset --hard main' on another branch would move that branch (the pull request).
    git(repo, "checkout", "-q", "-f", "main")
    git(repo, "reset", "-q", "--hard", "main")


def drop_cache(repo: Path) -> Callable[[], None]:
    def drop() -> None:
        shutil.rmtree(repo / ".git" / "opsgov-cache", ignore_errors=True)
    return drop


def stage_noop(repo: Path, info: dict[str, object]) -> None:
    path = repo / str(info["noop_file"])
    path.write_text(path.read_text() + "# touched by the benchmark\n")
    git(repo, "add", "--", str(info["noop_file"]))


def stage_three(repo: Path, info: dict[str, object]) -> None:
    files = [str(f) for f in info["change_files"]]  # type: ignore[attr-defined]
    for rel in files:
        path = repo / rel
        path.write_text(path.read_text().replace("replicas:", "replicas: 3\n# was", 1))
    git(repo, "add", "--", *files)


def stage_ledger(repo: Path, info: dict[str, object]) -> None:
    """Grow the notes of one open operation's entry (allowed by the append-only rule)."""
    path = repo / str(info["ledger_file"])
    marker = f"notes: change {info['ledger_edit_index']} went as planned"
    text = path.read_text()
    assert marker in text, marker
    path.write_text(text.replace(marker, marker + "; audited by the benchmark", 1))
    git(repo, "add", "--", str(info["ledger_file"]))


# -- the scenarios -------------------------------------------------------------------

@dataclasses.dataclass
class Row:
    scenario: str
    history: str
    ours: Timing | None
    floor: float | None
    peer: tuple[Timing, str] | None
    target: str
    met: str = ""
    note: str = ""


def floor_of(repo: Path, runs: int, commands: Sequence[tuple[Sequence[str], bytes | None]]) -> float:
    total = measure(PYTHON_FLOOR, repo, runs).seconds
    for cmd, stdin in commands:
        total += measure(cmd, repo, runs, stdin=stdin).seconds
    return total


def record_blobs(repo: Path) -> bytes:
    out = git(repo, "ls-tree", "-r", "-z", "HEAD", "--", "ops/operations", "ops/ledger")
    return b"".join(rec.split(b"\t")[0].split()[2] + b"\n" for rec in out.split(b"\0") if rec)


def run_check(repo: Path, args: Sequence[str], runs: int, cold: bool) -> tuple[Timing, str]:
    cmd = [*opsgov_cmd(), "check", *args]
    rc, out = output_of(cmd, repo)
    if rc != 0:
        print(f"warning: {' '.join(cmd[1:])} exited {rc}:\n{out[:2000]}", file=sys.stderr)
    timing = measure(cmd, repo, runs, before=drop_cache(repo) if cold else None)
    return timing, "" if rc == 0 else f"exit {rc}"


def staged_rows(repo: Path, info: dict[str, object], label: str, runs: int, work: Path) -> list[Row]:
    rows = []
    available = has_command("check")
    diff_index = (["git", "diff-index", "--cached", "-z", "-M", "--raw", "HEAD"], None)
    for name, stage, target in (("check --staged, nothing governed staged", stage_noop, "<= 2x floor"),
                                ("check --staged, 3 governed files", stage_three, ""),
                                ("check --staged, one 250-entry ledger file", stage_ledger, "<= 0.5x peer")):
        reset(repo)
        stage(repo, info)
        floor = floor_of(repo, runs, [diff_index])
        peer = None
        if stage is stage_ledger:
            peer = measure_peer(repo, [str(info["ledger_file"])], work / "peer-staged", runs)
        ours, note = (run_check(repo, ["--staged"], runs, cold=False) if available else (None, MISSING))
        rows.append(Row(name, label, ours, floor, peer, target, note=note))
    reset(repo)
    return rows


def history_rows(repo: Path, info: dict[str, object], runs: int, work: Path) -> list[Row]:
    rows = []
    available = has_command("check")
    ledger = sorted(p.relative_to(repo).as_posix() for p in (repo / "ops" / "ledger").glob("*.yaml"))
    all_peer = measure_peer(repo, ledger, work / "peer-all", runs)
    reset(repo)
    pr_range = f"{info['pr_base']}..{info['pr_head']}"
    range_floor = floor_of(repo, runs, [(["git", "log", "-z", "--raw", "-M", "--format=%H", pr_range], None)])
    pr_ledger = git(repo, "diff", "--name-only", pr_range, "--", "ops/ledger").decode().split()
    git(repo, "checkout", "-q", str(info["pr_head"]))
    range_peer = measure_peer(repo, pr_ledger, work / "peer-range", runs)
    reset(repo)
    ours, note = run_check(repo, ["--range", pr_range], runs, cold=True) if available else (None, MISSING)
    rows.append(Row("check --range, 500-commit PR (cold)", "100k", ours, range_floor, range_peer, "", note=note))
    all_floor = floor_of(repo, runs, [(["git", "ls-tree", "-r", "-z", "HEAD"], None),
                                      (["git", "cat-file", "--batch"], record_blobs(repo)),
                                      (["git", "for-each-ref", "refs/tags/ops-*"], None)])
    for cold in (True, False):
        label = "cold" if cold else "warm"
        target = "<= 1.5 s, >= 5x faster than peer" if cold else "<= 0.3 s"
        ours, note = run_check(repo, ["--all"], runs, cold=cold) if available else (None, MISSING)
        rows.append(Row(f"check --all ({label})", "100k", ours, all_floor, all_peer, target, note=note))
    validate_floor = measure([sys.executable, "-I", "-S", "-c", READ_ALL], repo, runs).seconds
    for cold in (True, False):
        label = "cold" if cold else "warm"
        cmd = [*opsgov_cmd(), "validate"]
        rc, out = output_of(cmd, repo)
        ours = measure(cmd, repo, runs, before=drop_cache(repo) if cold else None)
        rows.append(Row(f"validate, whole ledger ({label})", "100k", ours, validate_floor, all_peer, "",
                        note="" if rc == 0 else f"exit {rc}: {out[:200]}"))
    return rows


def restored_rows(repo: Path, info: dict[str, object], label: str, runs: int, work: Path) -> list[Row]:
    """Cold against restored-cache runs in a fresh clone (see the module's docstring)."""
    if not has_command("check"):
        return []
    reset(repo)
    clone = work / "ci-clone"
    if not clone.exists():
        tmp = work / "ci-clone.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        git(work, "clone", "-q", "--no-local", "--", str(repo), str(tmp))
        os.replace(tmp, clone)
    # Commit ids: the clone has the pull request's branch only as origin/<name>.
    base, head = (git(repo, "rev-parse", "--verify", f"{info[k]}^{{commit}}").decode().strip()
                  for k in ("pr_base", "pr_head"))
    pr_range = f"{base}..{head}"
    main_push = f"{base}~1..{base}"   # the pull request branches off main's tip
    cases = [("check --range, 500-commit PR", ["check", "--range", pr_range],
              [("main's last push", ["check", "--range", main_push]), ("same range", ["check", "--range", pr_range])]),
             ("check --all", ["check", "--all"], [("main's run", ["check", "--all"])]),
             ("validate, whole ledger", ["validate"], [("main's run", ["validate"])])]
    rows = []
    for name, args, seeds in cases:
        cmd = [*opsgov_cmd(), *args]
        rc, out = output_of(cmd, clone)
        note = "" if rc in (0, 1) else f"exit {rc}: {out[:200]}"
        cold = measure(cmd, clone, runs, before=drop_cache(clone))
        rows.append(Row(f"{name} (CI clone, cold)", label, cold, None, None, "", note=note))
        for seed_name, seed_args in seeds:
            seed = work / "ci-seed"
            drop_cache(repo)()
            output_of([*opsgov_cmd(), *seed_args], repo)
            shutil.rmtree(seed, ignore_errors=True)
            shutil.copytree(repo / ".git" / "opsgov-cache", seed)

            def restore(seed: Path = seed) -> None:
                drop_cache(clone)()
                shutil.copytree(seed, clone / ".git" / "opsgov-cache")

            ours = measure(cmd, clone, runs, before=restore)
            rows.append(Row(f"{name} (CI clone, restored from {seed_name})", label, ours, None, None, "",
                            note=note))
    drop_cache(repo)()
    return rows


READ_ALL = ("import os\nfor d in ('ops/operations','ops/ledger'):\n for n in os.listdir(d):\n"
            "  open(os.path.join(d,n),'rb').read()")


# -- the table -----------------------------------------------------------------------

def judge(row: Row) -> str:
    if row.ours is None:
        return "n/a"
    t = row.ours.seconds
    checks = []
    if "2x floor" in row.target and row.floor:
        checks.append(t <= 2 * row.floor)
    if "0.5x peer" in row.target and row.peer:
        checks.append(t <= 0.5 * row.peer[0].seconds)
    if "1.5 s" in row.target:
        checks.append(t <= 1.5)
        if row.peer:
            checks.append(row.peer[0].seconds >= 5 * t)
    if "0.3 s" in row.target:
        checks.append(t <= 0.3)
    if not checks:
        return ""
    return "yes" if all(checks) else "NO"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(rows: list[Row]) -> str:
    head = ("| scenario | history | opsgov (cpu) | floor | opsgov/floor | peer (check-jsonschema) | opsgov/peer "
            "| opsgov peak RSS | peer peak RSS | target | met |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        ours = f"{ms(r.ours.seconds)} ({ms(r.ours.cpu)})" if r.ours else (r.note or "n/a")
        if r.ours and r.note:
            ours += f" ({r.note})"
        ratio_floor = f"{r.ours.seconds / r.floor:.2f}x" if r.ours and r.floor else "—"
        peer = f"{ms(r.peer[0].seconds)} ({r.peer[1]})" if r.peer else "—"
        ratio_peer = f"{r.ours.seconds / r.peer[0].seconds:.2f}x" if r.ours and r.peer else "—"
        rss = f"{r.ours.peak_mib:.0f} MiB" if r.ours else "—"
        peer_rss = f"{r.peer[0].peak_mib:.0f} MiB" if r.peer else "—"
        floor = ms(r.floor) if r.floor else "—"
        lines.append(f"| {r.scenario} | {r.history} | {ours} | {floor} | {ratio_floor} | {peer} | {ratio_peer} "
                     f"| {rss} | {peer_rss} | {r.target or '—'} | {judge(r) or '—'} |")
    return "\n".join(lines)


def generate_cores() -> int:
    return os.cpu_count() or 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark opsgov against the floor and check-jsonschema.")
    p.add_argument("--runs", type=int, default=5, help="measured runs per number (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="1,000-commit history only, 3 runs")
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    p.add_argument("--restored", action="store_true",
                   help="only the CI scenarios: cold against a restored cache in a fresh clone "
                        "(with --quick on the 1,000-commit history)")
    p.add_argument("--commits", type=int, help="with --restored: the history to generate (default: 1,000 with "
                                               "--quick, else 100,000)")
    p.add_argument("--work", type=Path, default=generate.WORK,
                   help="with --restored: where generated repositories are kept (default %(default)s)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Measure what a user runs: pip compiles an installed package's bytecode, and an editable
    # install caches it on first import. A machine (or container) with PYTHONDONTWRITEBYTECODE
    # set would make every measured run, ours and the peer's, recompile every module it imports.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        print("note: PYTHONDONTWRITEBYTECODE unset for the measured processes (bytecode cached, as after pip install)")
    runs = 3 if args.quick else args.runs
    load_before = f"{os.getloadavg()[0]:.2f}"
    if args.restored:
        shape = generate.Shape(commits=args.commits or (1_000 if args.quick else 100_000))
        where = generate.ensure(shape, args.work)
        label = f"{shape.commits // 1000}k"
        rows = restored_rows(where / "repo", generate.load_manifest(where), label, runs, where)
        print(table(rows))
        print(f"\nload average before/after: {load_before} / {os.getloadavg()[0]:.2f} on {generate_cores()} cores")
        return 0
    small = generate.ensure(generate.Shape(commits=1_000))
    rows = staged_rows(small / "repo", generate.load_manifest(small), "1k", runs, small)
    if not args.quick:
        big = generate.ensure(generate.Shape())
        info = generate.load_manifest(big)
        rows += staged_rows(big / "repo", info, "100k", runs, big)
        rows += history_rows(big / "repo", info, runs, big)
        rows += restored_rows(big / "repo", info, "100k", runs, big)
    rows.sort(key=lambda r: (r.scenario.startswith(("check --range", "check --all", "validate")), r.scenario))
    print(table(rows))
    print(f"\nload average before/after: {load_before} / {os.getloadavg()[0]:.2f} on {generate_cores()} cores")
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
