"""Helpers for the execution tests: complete operation records, steps, real opsgov processes.

Plain functions (no fixtures), imported by the test modules; the record builders
also serve any test that needs a closed operation that passes every X and R rule.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from conftest import Repo, declaration_text, entry_text

OP = "OPS-2026-01-27-001"
RECORD = f"ops/operations/{OP}.md"
HEALTH = "curl -fsS http://localhost:9090/-/healthy"

REPORT = {
    "EXEC SUMMARY": "Raised the scrape interval to 30s; Prometheus reloaded cleanly and serves queries.",
    "CHANGES MADE": "- ops/monitoring/prometheus.yml: scrape_interval 15s -> 30s",
    "VERIFICATION EVIDENCE": "- curl -fsS http://localhost:9090/-/healthy: Prometheus Server is Healthy.",
    "RISK ASSESSMENT": "Low: metrics are 15s less fresh.",
    "NEXT SAFE ACTIONS": "- Watch the scrape duration panel for a day.",
}


def step(n: int, command: str = "echo ok", *, ts: str | None = None, status: str = "PASS",
         verify: str | None = HEALTH, rollback: bool = False, result: str = "exit 0 in 0.01s") -> str:
    """One step exactly as ``opsgov run`` writes it."""
    mark = " | ROLLBACK" if rollback else ""
    when = ts or f"2026-01-27T10:{n:02d}:00Z"
    checks = [f"    $ {verify}", "    exit 0 in 0.01s", "    ok"] if verify else ["    (none)"]
    return "\n".join(["```text", f"[STEP {n} | {when}{mark}]", "Command:", f"    {command}", "Result:",
                      f"    {result}", f"Status: {status}", "Verification:", *checks, "```", ""])


def front_matter(op_id: str = OP, **overrides: object) -> str:
    return declaration_text(op_id, **overrides).split("\n---\n")[0] + "\n---\n"


def signoff_yaml(op_id: str = OP, **overrides: object) -> str:
    """Section 6's block: the ledger entry's own lines (entry_text with the same overrides)."""
    return entry_text(op_id, **overrides).removeprefix("---\n")


def runbook(op_id: str = OP, *, steps: str | None = None, report: dict[str, str] | None = None,
            signoff: str | None = None, decl: Mapping[str, object] | None = None,
            entry: Mapping[str, object] | None = None) -> str:
    """A complete operation record: every X and R rule passes for it with ``entry_text(op_id, **entry)``."""
    steps = step(1, "systemctl reload prometheus") if steps is None else steps
    sections = REPORT if report is None else report
    block = signoff_yaml(op_id, **(entry or {})) if signoff is None else signoff
    parts = [front_matter(op_id, **(decl or {})), "", f"# {op_id}", "", "## 3) Execution log", "", steps,
             "## 5) Report", ""]
    for name, text in sections.items():
        parts += [f"### {name}", "", text, ""]
    parts += ["## 6) Signoff & Ledger Entry", "", "```yaml", block.rstrip("\n"), "```", ""]
    return "\n".join(parts)


def closed(repo: Repo, record: str, op_id: str = OP, **entry: object) -> None:
    """Write a record and its ledger entry (which makes the operation closed)."""
    repo.write(f"ops/operations/{op_id}.md", record)
    repo.write(f"ops/ledger/{op_id[4:11]}.yaml", entry_text(op_id, **entry))


# -- real opsgov processes --------------------------------------------------------------

def opsgov_process(repo: Repo, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "opsgov_hooks", *args], cwd=repo.path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def opsgov(repo: Repo, *args: str) -> tuple[int, str, str]:
    proc = opsgov_process(repo, *args)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode(), err.decode()


def wait_for(path: Path, text: str, deadline: float = 60.0) -> None:
    """Block until ``path`` contains ``text`` (synchronisation with a real process, not a timing assertion)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never contained {text!r}")


def normalise(text: str) -> str:
    """Timestamps, durations and pids vary between runs: replace them by placeholders."""
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<TS>", text)
    text = re.sub(r"in \d+\.\d{2}s", "in <T>s", text)
    text = re.sub(r"after \d+\.\ds", "after <T>s", text)
    return re.sub(r"pid \d+ on host \S+?\)", "pid <PID> on host <HOST>)", text)


def process_running(marker: str) -> bool:
    """Is any process running whose command line contains ``marker``?"""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read().replace(b"\0", b" "):
                        return True
            except OSError:
                continue
    return False


def wait_for_command(argv: str, deadline: float = 60.0) -> None:
    """Block until a process whose whole command line is ``argv`` runs (not the recorder naming it)."""
    end = time.monotonic() + deadline
    wanted = argv.encode()
    while time.monotonic() < end:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if f.read().rstrip(b"\0").replace(b"\0", b" ") == wanted:
                            return
                except OSError:
                    continue
        time.sleep(0.05)
    raise AssertionError(f"no process {argv!r} ever started")
