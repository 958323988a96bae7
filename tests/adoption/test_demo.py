"""``opsgov demo`` runs the whole lifecycle with real git and the real CLI (the README's first command)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opsgov_hooks", "demo", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def test_demo_walks_the_whole_lifecycle(tmp_path: Path) -> None:
    where = tmp_path / "demo"
    proc = _demo("--dir", str(where))
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "Traceback" not in out + proc.stderr
    # A change blocked, the operation declared, a step refused, a step recorded, the change allowed,
    # the operation tagged, a later edit refused, the rollback recorded, the report clean.
    adoption = re.search(r"The adoption is operation (OPS-\d{4}-\d{2}-\d{2}-\d{3})", out)
    assert adoption is not None
    assert f"created tag {adoption[1].lower()} at " in out
    # The config the repository had before is covered by the adoption only, which its tag closed.
    assert f" G005 ops/monitoring/prometheus.yml is covered only by closed operation {adoption[1]}" in out
    op_id = re.search(r"^    (OPS-\d{4}-\d{2}-\d{2}-\d{3})$", out, re.M)
    assert op_id is not None and op_id[1] != adoption[1]
    assert "opsgov: HALT: `systemctl restart grafana-server` acts on service 'grafana-server'" in out
    assert f"opsgov: STEP 1 PASS (recorded in ops/operations/{op_id[1]}.md)" in out
    assert f"created tag {op_id[1].lower()} at " in out
    assert (f" G005 ops/monitoring/prometheus.yml is covered only by closed operation {adoption[1]} (tag "
            f"{adoption[1].lower()}), {op_id[1]} (tag {op_id[1].lower()})") in out
    assert "| Governed commits | 2 (2 traced, 0 untraced) |" in out
    assert out.rstrip().endswith(f"The repository is kept in {where}.")
    # What the demo left behind is a real repository that the gate accepts and the ledger shows rolled back.
    log = subprocess.run(["git", "log", "--format=%s"], cwd=where, capture_output=True, text=True).stdout
    assert log.splitlines() == ["Roll back: Prometheus scrape interval", "Tune Prometheus scrape interval",
                                "Adopt Ops Governor", "Prometheus config"]
    assert "outcome: ROLLBACK\n" in (where / "ops" / "ledger" / f"{op_id[1][4:11]}.yaml").read_text()
    assert (where / "ops" / "monitoring" / "prometheus.yml").read_text() == "global:\n  scrape_interval: 15s\n"


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    proc = _demo("--dir", str(tmp_path))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"opsgov: error: {tmp_path} is not empty: give --dir a new or empty folder\n"
    assert (tmp_path / "keep.txt").read_text() == "mine\n"
