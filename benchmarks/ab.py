"""Two installs of opsgov side by side: the staged scenarios, alternating run by run, in one run.

Why: this machine's absolute times drift by a fifth from one minute to the next, so a change is
measured against the code before it in the same rounds, not against an old table. Each install
gets its own copy of the generated repository: the caches in ``.git/opsgov-cache`` are per code
version, and two versions in one clone would empty each other's. Each round runs, in turn: the
"before" check, the "after" check, for the ledger file check-jsonschema in both of its fair forms
(see ``run.py``), and the floor (``python -I -S -c pass`` plus ``git diff-index``). One warm-up
round is not counted. The whole-repository scenarios (``all-cold``, ``all-warm``, ``validate-cold``,
``range-cold`` over the generated pull request ``main..pr``) run the same way, the cache dropped
before each cold run, beside ``run.py``'s floor for each. For example, the code of a commit against the working tree::

    git worktree add /tmp/before <commit> && python3 -m venv /tmp/before/.venv
    /tmp/before/.venv/bin/pip install -q -e /tmp/before
    python benchmarks/ab.py --before /tmp/before/.venv/bin/opsgov --after .venv/bin/opsgov --runs 21
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import run as bench  # noqa: E402

SCENARIOS = {"noop": bench.stage_noop, "three": bench.stage_three, "ledger": bench.stage_ledger}
# Whole-repository scenarios: (the command's arguments, whether the cache is dropped before each run).
WHOLE = {"all-cold": (["check", "--all"], True), "all-warm": (["check", "--all"], False),
         "validate-cold": (["validate"], True), "range-cold": (["check", "--range", "main..pr"], True)}
Sample = tuple[float, float, float]   # wall ms, cpu ms, peak MiB


def once(cmd: Sequence[str], cwd: Path) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024


def copies(source: Path, work: Path) -> dict[str, Path]:
    """One copy of the generated repository (and its manifest) per side, made once."""
    found = {}
    for side in ("before", "after"):
        dest = work / f"ab-{side}-{source.name}"
        if not (dest / "manifest.json").is_file():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(source, dest, symlinks=True)
        found[side] = dest
    return found


def _floor(scenario: str, repo: Path) -> list[tuple[list[str], bytes | None]]:
    """The work a scenario cannot avoid, as ``run.py``'s ``floor_of`` measures it: a bare interpreter and git's reads."""
    if scenario == "validate-cold":
        return [([sys.executable, "-I", "-S", "-c", bench.READ_ALL], None)]
    interpreter: tuple[list[str], bytes | None] = (list(bench.PYTHON_FLOOR), None)
    if scenario == "range-cold":
        return [interpreter, (["git", "log", "-z", "--raw", "-M", "--format=%H", "main..pr"], None)]
    return [interpreter, (["git", "ls-tree", "-r", "-z", "HEAD"], None),
            (["git", "cat-file", "--batch"], bench.record_blobs(repo)), (["git", "for-each-ref", "refs/tags/ops-*"], None)]


def measure_whole(scenario: str, sides: dict[str, tuple[Path, str]], runs: int) -> dict[str, list[Sample]]:
    """A whole-repository scenario, the two sides alternating run by run, each in its own copy."""
    args, cold = WHOLE[scenario]
    rows: dict[str, list[Sample]] = {side: [] for side in sides}
    rows["floor"] = []
    for folder, opsgov in sides.values():
        bench.reset(folder / "repo")
        subprocess.run([opsgov, *args], cwd=folder / "repo", stdout=subprocess.DEVNULL, check=False)   # warm caches
    floor = _floor(scenario, sides["after"][0] / "repo")
    for round_ in range(runs + 1):
        samples: dict[str, Sample] = {}
        for side, (folder, opsgov) in sides.items():
            if cold:
                bench.drop_cache(folder / "repo")()
            samples[side] = once([opsgov, *args], folder / "repo")
        parts = [bench.run_once(cmd, sides["after"][0] / "repo", stdin) for cmd, stdin in floor]
        samples["floor"] = (sum(p.seconds for p in parts) * 1000, sum(p.cpu for p in parts) * 1000,
                            max(p.peak_mib for p in parts))
        if round_:
            for name, sample in samples.items():
                rows[name].append(sample)
    return rows


def measure(scenario: str, sides: dict[str, tuple[Path, str]], runs: int, peer_work: Path) -> dict[str, list[Sample]]:
    if scenario in WHOLE:
        return measure_whole(scenario, sides, runs)
    rows: dict[str, list[Sample]] = {}
    for side, (folder, opsgov) in sides.items():
        repo = folder / "repo"
        bench.reset(repo)
        SCENARIOS[scenario](repo, generate.load_manifest(folder))
        subprocess.run([opsgov, "check", "--staged"], cwd=repo, stdout=subprocess.DEVNULL, check=False)
        rows[side] = []
    after = sides["after"][0]
    peers: list[tuple[str, list[str]]] = []
    peer = bench.peer_cmd()
    if scenario == "ledger" and peer is not None:
        info = generate.load_manifest(after)
        split, listed, wrapper = bench.peer_inputs(after / "repo", [str(info["ledger_file"])], peer_work)
        peers = [("peer-split", [*peer, "--schemafile", str(bench.SCHEMA), *split]),
                 ("peer-list", [*peer, "--schemafile", wrapper, *listed])]
        rows.update({name: [] for name, _cmd in peers})
    rows["floor"] = []
    floor = [[sys.executable, "-I", "-S", "-c", "pass"], ["git", "diff-index", "--cached", "-z", "-M", "--raw", "HEAD"]]
    for round_ in range(runs + 1):
        samples: dict[str, Sample] = {}
        for side, (folder, opsgov) in sides.items():
            samples[side] = once([opsgov, "check", "--staged"], folder / "repo")
        for name, cmd in peers:
            samples[name] = once(cmd, after / "repo")
        parts = [once(cmd, after / "repo") for cmd in floor]
        samples["floor"] = (sum(p[0] for p in parts), sum(p[1] for p in parts), max(p[2] for p in parts))
        if round_:
            for name, sample in samples.items():
                rows[name].append(sample)
    for folder, _opsgov in sides.values():
        bench.reset(folder / "repo")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--before", required=True, help="the opsgov script of the code before")
    p.add_argument("--after", required=True, help="the opsgov script of the code after")
    p.add_argument("--runs", type=int, default=21, help="counted rounds (default %(default)s)")
    p.add_argument("--commits", type=int, default=1_000, help="history of the generated repository")
    p.add_argument("--work", type=Path, default=generate.WORK)
    p.add_argument("--scenario", choices=sorted([*SCENARIOS, *WHOLE]), action="append",
                   help="default: the three staged ones")
    args = p.parse_args(argv)
    source = generate.ensure(generate.Shape(commits=args.commits), args.work)
    folders = copies(source, args.work)
    sides = {"before": (folders["before"], args.before), "after": (folders["after"], args.after)}
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.runs} rounds, alternating")
    print("| scenario | who | wall | cpu | peak |\n|---|---|---|---|---|")
    for scenario in args.scenario or ["noop", "three", "ledger"]:
        rows = measure(scenario, sides, args.runs, args.work / f"ab-peer-{source.name}")
        for name, samples in rows.items():
            wall, cpu = (statistics.median(s[i] for s in samples) for i in (0, 1))
            print(f"| {scenario} | {name} | {wall:.1f} ms | {cpu:.1f} ms | {max(s[2] for s in samples):.0f} MiB |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
