"""Time the record parsers in-process over every record of a generated repository.

Where ``run.py`` times whole processes, this isolates the per-file CPU cost of
parsing, the part a cold ``opsgov check --all`` spends most in::

    python benchmarks/parsers.py                    # the 100,000-commit repository (generated if missing)
    python benchmarks/parsers.py --commits 1000     # a small one
    python benchmarks/parsers.py --repo PATH --runs 5

Each line is the best of ``--runs`` passes (memoised outlines, titles and glob
verdicts are cleared before each), with the garbage collector paused as
``opsgov`` pauses it while loading.
"""
from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opsgov_hooks.policy.config import default_policy  # noqa: E402
from opsgov_hooks.execution.execlog import parse_log  # noqa: E402
from opsgov_hooks.records import declaration, ledger, markdown  # noqa: E402
from opsgov_hooks.records.declaration import Declaration, parse_operation_record  # noqa: E402
from opsgov_hooks.rules import report  # noqa: E402
from opsgov_hooks.records.yamlstrict import load_documents  # noqa: E402


def git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, check=True).stdout


def blobs(repo: Path, prefix: str) -> dict[str, bytes]:
    """Every file under ``prefix`` at HEAD, through one ``cat-file --batch``."""
    names = git(repo, "ls-tree", "-r", "--name-only", "HEAD", prefix).decode().split()
    out = git(repo, "cat-file", "--batch", data="".join(f"HEAD:{n}\n" for n in names).encode())
    found, pos = {}, 0
    for name in names:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        found[name] = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return found


def tag_messages(repo: Path) -> dict[str, str]:
    raw = git(repo, "for-each-ref", "--format=%(refname)%00%(contents)%00%00", "refs/tags/ops-*").decode()
    return dict(chunk.split("\0", 1) for chunk in raw.split("\0\0\n") if chunk)  # type: ignore[misc]


def best(runs: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        # Every pass starts as a fresh process would: no memoised outline, title or glob verdict.
        for memo in (markdown.outline_of, markdown.normalise, getattr(declaration, "_glob_problem", None)):
            getattr(memo, "cache_clear", lambda: None)()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def report_lookups(declarations: list[Declaration]) -> list[Any]:
    """What the report rules ask of each runbook's outline: the five sections and section 6's block."""
    found = []
    for d in declarations:
        outline = markdown.outline_of(d.body, d.body_line)
        section = report.find_signoff(outline)
        rep = outline.find(lambda t: t == "report" or t.startswith("report "))
        found.append([outline.find(lambda t, want=name.casefold(): t == want, within=rep)
                      for name in report.REPORT_SECTIONS] if rep else [])
        found.append(report._yaml_block(outline, section) if section is not None else None)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, help="a generated repository (default: generate or find one)")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    repo = args.repo
    if repo is None:
        out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--commits",
                              str(args.commits)], capture_output=True, text=True, check=True).stdout
        repo = Path(out.strip().splitlines()[-1])
    policy = default_policy()
    records = sorted(blobs(repo, "ops/operations").items())
    months = sorted(blobs(repo, "ops/ledger").items())
    tags = sorted(tag_messages(repo).items())
    declarations = [d for d, _ in (parse_operation_record(p, raw, policy) for p, raw in records) if d is not None]
    blocks = [(d.path, block) for d in declarations
              if (section := report.find_signoff(markdown.outline_of(d.body, d.body_line))) is not None
              and (block := report._yaml_block(markdown.outline_of(d.body, d.body_line), section)) is not None]
    sealed = [(f"ops/ledger/{ref[14:21]}.yaml", "OPS-" + ref[14:].upper()) for ref, _ in tags]   # refs/tags/ops-...
    by_path = dict(months)
    cases: list[tuple[str, Callable[[], Any]]] = [
        (f"ledger month files ({len(months)})", lambda: [ledger.parse_ledger_yaml(p, raw) for p, raw in months]),
        (f"operation records ({len(records)})",
         lambda: [parse_operation_record(p, raw, policy) for p, raw in records]),
        (f"outlines ({len(declarations)})", lambda: [markdown.Outline(d.body, d.body_line) for d in declarations]),
        (f"execution logs, outline included ({len(declarations)})",
         lambda: [parse_log(d.body, d.body_line) for d in declarations]),
        (f"report section look-ups, outline included ({len(declarations)})",
         lambda: report_lookups(declarations)),
        (f"section-6 YAML blocks ({len(blocks)})",
         lambda: [load_documents(p, text, line_offset=line - 1) for p, (text, line) in blocks]),
        (f"sealed entries, find_yaml_entry ({len(sealed)})",
         lambda: [ledger.find_yaml_entry(p, by_path[p], op_id) for p, op_id in sealed if p in by_path]),
        (f"tag messages ({len(tags)})", lambda: [ledger.parse_tag_entry(ref, msg) for ref, msg in tags]),
    ]
    print(f"{repo}")
    gc.disable()
    for name, work in cases:
        print(f"{name:55s} {best(args.runs, work) * 1000:9.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
