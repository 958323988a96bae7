"""Two real processes appending to one ledger file at the same moment: no entry is lost."""
from __future__ import annotations

import subprocess
import sys
import time

from conftest import Repo
from lifecycle_helpers import declare, record_args

from opsgov_hooks.records.ledger import parse_ledger_yaml

pytest_plugins = ["conftest_lifecycle"]

PER_PROCESS = 8

WRITER = """
import os, sys, time
from opsgov_hooks.cli import main
go = sys.argv[1]
while not os.path.exists(go):  # start together
    time.sleep(0.001)
failures = 0
for op_id in sys.argv[2:]:
    args = {args!r}
    args[2] = op_id
    failures += main(args) != 0
sys.exit(failures)
"""


def _ids(first: int) -> list[str]:
    return [f"OPS-2026-01-27-{n:03d}" for n in range(first, first + PER_PROCESS)]


def test_two_concurrent_writers_lose_no_entry(repo: Repo) -> None:
    ids_a, ids_b = _ids(1), _ids(101)
    for op_id in ids_a + ids_b:
        declare(repo, op_id, commit=False)
    repo.commit("declare")
    go = repo.path.parent / "go"
    script = WRITER.format(args=record_args("OPS-2026-01-27-001"))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(go), *ids], cwd=repo.path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for ids in (ids_a, ids_b)]
    time.sleep(0.5)  # let both start and wait at the line (not a timing assertion: only for overlap)
    go.write_text("go")
    results = [(p.wait(timeout=120), p.stdout.read().decode(), p.stderr.read().decode())  # type: ignore[union-attr]
               for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    entries, findings = parse_ledger_yaml("ops/ledger/2026-01.yaml", (repo.path / "ops/ledger/2026-01.yaml").read_bytes())
    assert findings == []
    assert sorted(e.operation_id for e in entries) == sorted(ids_a + ids_b)
    # Each process wrote its own entries in its own order, interleaved with the other's.
    order = [e.operation_id for e in entries]
    assert [i for i in order if i in ids_a] == ids_a and [i for i in order if i in ids_b] == ids_b
    # Besides the new ledger file, only each operation's own record changed (its section 6).
    status = repo.git("status", "--porcelain", "--untracked-files=all").splitlines()
    assert status == [f" M ops/operations/{i}.md" for i in sorted(ids_a + ids_b)] + ["?? ops/ledger/2026-01.yaml"]
