"""``opsgov check --range`` against ``git log -p -m`` over the same range, side by side in one run.

The yardstick of issue 12: judging a range may cost at most 5x what git itself takes to show that
range's patches, merges included (``-m``: each merge against each parent). Two ranges:

* ``infra``: 500 commits of :mod:`infra` (merges of main into the topic and of feature branches,
  generated dashboards and manifests, lock files with pinned commit ids, mixed commits);
* ``pr``: the 500-commit pull request of the existing benchmark (:mod:`generate`, 100,000 commits).

The two commands are run alternately (git, opsgov, git, opsgov, ...) so both see the same load;
each figure is the median of ``--runs`` runs after one unmeasured warm-up. opsgov runs cold (its
record cache removed before each run: a CI clone) and warm (kept). The machine is shared: the
load average is printed before and after, and only ratios measured in the same run are compared::

    python benchmarks/ratio.py            # both ranges (generates what is missing)
    python benchmarks/ratio.py --quick    # the infra range only, 3 runs
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import infra  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak MiB, exit code) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def compare(repo: Path, spec: str, runs: int) -> dict[str, float]:
    git_cmd = ["git", "log", "-p", "-m", "--no-color", spec, "--"]
    ours_cmd = [str(BIN / "opsgov"), "check", "--range", spec]
    cache = repo / ".git" / "opsgov-cache"
    samples: dict[str, list[float]] = {"git": [], "cold": [], "warm": []}
    peak = 0.0
    codes = set()
    for i in range(runs + 1):
        g = timed(git_cmd, repo)
        shutil.rmtree(cache, ignore_errors=True)
        cold = timed(ours_cmd, repo)
        warm = timed(ours_cmd, repo)
        if i:   # the first round warms the page cache and bytecode
            samples["git"].append(g[0])
            samples["cold"].append(cold[0])
            samples["warm"].append(warm[0])
            peak = max(peak, cold[1], warm[1])
        codes |= {cold[2], warm[2]}
    result = {k: statistics.median(v) for k, v in samples.items()}
    result["peak"] = peak
    result["exit"] = float(max(codes))
    return result


def row(name: str, commits: int, merges: int, r: dict[str, float]) -> str:
    return (f"| {name} | {commits} ({merges} merges) | {r['git']:.2f} s | {r['cold']:.2f} s | "
            f"{r['cold'] / r['git']:.1f}x | {r['warm']:.2f} s | {r['warm'] / r['git']:.1f}x | {r['peak']:.0f} MiB | "
            f"{int(r['exit'])} |")


def count(repo: Path, *args: str) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", *args], cwd=repo, check=True, capture_output=True,
                              text=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the infra range only, 3 runs")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else args.runs
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    ranges = []
    repo = infra.ensure(infra.InfraShape())
    ranges.append(("infra-shaped, main..topic", repo, "main..topic"))
    if not args.quick:
        big = generate.ensure(generate.Shape())
        info = generate.load_manifest(big)
        ranges.append(("existing benchmark, pull request", big / "repo", f"{info['pr_base']}..{info['pr_head']}"))
    before = os.getloadavg()
    lines = ["| range | commits | git log -p -m | check --range, cold | ratio | warm | ratio | peak | exit |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, path, spec in ranges:
        lines.append(row(name, count(path, spec), count(path, "--merges", spec), compare(path, spec, runs)))
    after = os.getloadavg()
    print("\n".join(lines))
    print(f"\nmedian of {runs} runs each, alternating; load average (1 min) before/after: {before[0]:.2f} / "
          f"{after[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
