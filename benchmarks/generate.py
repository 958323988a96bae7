"""Build a large synthetic opsgov repository with ONE ``git fast-import`` stream.

Shape (defaults, see ``--help``): 100,000 commits on ``main``; 2,000 governed files
under ``ops/services/`` (plus one rollback runbook); one operation record per
ledger entry (a ledger entry needs a declaration, rule L008); 10,000 ledger
entries in ``ops/ledger/YYYY-MM.yaml`` month files of 250 entries each; annotated
``ops-...`` tags closing 1,000 of the operations; 1,000 non-governed source files
that filler commits touch; and a ``pr`` branch of 500 commits on top of ``main``
(a pull request that declares, changes and records 50 more operations).

Every operation goes through three events, each in its own commit when the
history is long enough (else events share commits): declare (add its record),
change (1-3 files inside its ALLOWED_PATHS, with an ``Ops-Id:`` trailer), record
(append its ledger entry). A ``rollback_ref`` names the commit just before the
change: its sha is asked of fast-import mid-stream with ``get-mark``, so the
whole repository is still one stream. A closed operation's tag points at the
commit that recorded its entry, and carries the entry as ``opsgov tag`` writes it.

Repositories are cached under ``benchmarks/.work/`` by their parameters::

    python benchmarks/generate.py --commits 1000
"""
from __future__ import annotations

import argparse
import calendar
import collections
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

GENERATOR_VERSION = 4
WORK = Path(__file__).resolve().parent / ".work"
PER_MONTH = 250
# main's operations end two months before this one and the pull request's fill the month after
# them: every timestamp lies in the past whenever the benchmark runs (L105 refuses future ones).
_TODAY = datetime.datetime.now(datetime.timezone.utc).date()
LAST_MONTH = (_TODAY.year, _TODAY.month - 2) if _TODAY.month > 2 else (_TODAY.year - 1, _TODAY.month + 10)
FILES_PER_SERVICE = 10
SRC_DIRS = 32                    # non-governed files in SRC_DIRS folders: small trees keep fast-import fast
RISKS = ("LOW_RISK_CONFIG", "SERVICE_RESTART", "FILESYSTEM_WRITE", "LOW_RISK_CONFIG")
PEOPLE = ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")
RUNBOOK = "ops/runbooks/rollback.md"
IDENT = "Bench Operator <bench@example.com>"


@dataclasses.dataclass(frozen=True)
class Shape:
    commits: int = 100_000
    governed: int = 2_000
    operations: int = 10_000
    tags: int = 1_000
    pr_commits: int = 500
    src_files: int = 1_000

    @property
    def key(self) -> str:
        return (f"repo-c{self.commits}-g{self.governed}-o{self.operations}-t{self.tags}"
                f"-p{self.pr_commits}-s{self.src_files}-v{GENERATOR_VERSION}")

    @property
    def services(self) -> int:
        return max(1, self.governed // FILES_PER_SERVICE)


@dataclasses.dataclass
class Operation:
    index: int
    op_id: str
    day: datetime.date
    service: str
    risk: str
    tagged: bool = False
    rollback_ref: str = ""
    change_prev_mark: int = 0
    ledger_mark: int = 0

    @property
    def name(self) -> str:
        return f"Tune {self.service} settings (change {self.index})"

    @property
    def month(self) -> str:
        return self.op_id[4:11]

    @property
    def allowed_paths(self) -> list[str]:
        paths = [f"ops/services/{self.service}/**"]
        return paths + ["ops/runbooks/**"] if self.index % 100 == 0 else paths

    def timestamp(self, hour: int) -> str:
        return f"{self.day.isoformat()}T{hour:02d}:{self.index % 60:02d}:00Z"


# -- the plan: which operations, on which days --------------------------------------

def month_days(year: int, month: int, count: int) -> list[tuple[datetime.date, int]]:
    """(day, sequence number of that day) for ``count`` operations spread over a month."""
    ndays = calendar.monthrange(year, month)[1]
    result: list[tuple[datetime.date, int]] = []
    seq: collections.Counter[int] = collections.Counter()
    for j in range(count):
        day = 1 + j * ndays // max(count, 1)
        seq[day] += 1
        result.append((datetime.date(year, month, day), seq[day]))
    return result


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + delta
    return total // 12, total % 12 + 1


def plan_operations(count: int, first_month: tuple[int, int], start_index: int, shape: Shape) -> list[Operation]:
    ops: list[Operation] = []
    months = -(-count // PER_MONTH)
    for m in range(months):
        year, month = add_months(*first_month, m)
        n = min(PER_MONTH, count - m * PER_MONTH)
        for day, seq in month_days(year, month, n):
            index = start_index + len(ops)
            ops.append(Operation(index, f"OPS-{day.isoformat()}-{seq:03d}", day,
                                 f"svc-{index % shape.services:03d}", RISKS[index % len(RISKS)]))
    return ops


def main_operations(shape: Shape) -> list[Operation]:
    months = -(-shape.operations // PER_MONTH)
    ops = plan_operations(shape.operations, add_months(*LAST_MONTH, -(months - 1)), 0, shape)
    if shape.tags:
        step = max(1, len(ops) // shape.tags)
        for op in ops[::step][:shape.tags]:
            op.tagged = True
    return ops


# -- file contents -------------------------------------------------------------------

def service_file(service: str, k: int, version: int) -> bytes:
    return (f"# {service} configuration, part {k}\nservice: {service}\nscrape_interval: {15 + version % 45}s\n"
            f"replicas: {1 + version % 5}\nrevision: {version}\n").encode()


def src_file(n: int, version: int) -> bytes:
    return f'"""Module {n}."""\n\nREVISION = {version}\n\n\ndef value() -> int:\n    return REVISION\n'.encode()


def record_text(op: Operation, ledger_file: str) -> bytes:
    svc = op.service
    port = 9000 + op.index % 1000
    paths = "".join(f"  - {p}\n" for p in op.allowed_paths)
    # Section 6 repeats the entry, less what is not known yet when the record is written (rollback_ref)
    # and what may grow later (notes: the benchmark's staged ledger change grows one).
    signoff = "".join(line + "\n" for line in entry_lines(op)
                      if not line.startswith(("---", "rollback_ref:", "notes:")))
    return f"""---
OPERATION_ID: {op.op_id}
OPERATION_NAME: {op.name}
OBJECTIVE: Adjust {svc} configuration to reduce scrape load
RISK_CLASS: {op.risk}
BLAST_RADIUS: {svc} availability for up to one minute
ROLLBACK_STRATEGY: git revert the change commit and restart {svc}
ALLOWED_PATHS:
{paths}ALLOWED_SERVICES:
  - {svc}
---

# {op.op_id}: {op.name}

## 1) Declaration and Scope Contract

ALLOWED: modify only files under {op.allowed_paths[0]}; restart only {svc}; read-only inspection.
NOT ALLOWED: trading logic, trading Redis streams, secrets, Grafana DB, firewall/network/users.

## 2) Pre-flight checks

- `systemctl is-active {svc}`: active

## 3) Execution log

[STEP 1 | {op.timestamp(10)}]
Command:
systemctl restart {svc}
Result:
(no output)
Status: PASS
Verification:
systemctl is-active {svc}
active
journalctl -u {svc} --since "5 min ago" | grep -iE "error|fail|panic|fatal"
(no matches)
curl -fsS http://localhost:{port}/health
ok

## 4) Verification

All gates passed.

## 5) Report

### EXEC SUMMARY

{svc} configuration tuned and restarted; healthy afterwards.

### CHANGES MADE

Files under ops/services/{svc}/; service {svc} restarted.

### VERIFICATION EVIDENCE

is-active: active; no errors in the journal; health endpoint: ok.

### RISK ASSESSMENT

Low residual risk.

### NEXT SAFE ACTIONS

Watch the {svc} dashboards for a day.

## 6) Signoff & Ledger Entry

Recorded in {ledger_file}.

```yaml
{signoff}```
""".encode()


def rollback_ref_for(op: Operation, sha: str) -> str:
    """Mostly full shas; some short or ``commit:``; a few command/procedure forms."""
    i = op.index
    if i % 50 == 7:
        return f"'command: systemctl restart {op.service}'"
    if i % 100 == 13:
        return f"'procedure: {RUNBOOK}'"
    if i % 100 == 31:
        return "'procedure: restore the previous configuration from the nightly backup'"
    if i % 10 == 3:
        return f"'commit: {sha[:12]}'"
    if i % 10 == 5:
        return f"'{sha[:12]}'"
    return f"'{sha}'"


def entry_text(op: Operation) -> str:
    return "\n".join(entry_lines(op)) + "\n"


def entry_lines(op: Operation) -> list[str]:
    requester = PEOPLE[op.index % len(PEOPLE)]
    approver = PEOPLE[(op.index + 1) % len(PEOPLE)]
    lines = [
        "---",
        f"operation_id: {op.op_id}",
        f"operation_name: {op.name}",
        f"requested_by: {requester}",
        f"approved_by: {approver}",
        f"approval_timestamp: '{op.timestamp(9)}'",
        f"execution_timestamp: '{op.timestamp(10)}'",
        f"risk_class: {op.risk}",
        f"blast_radius: {op.service} availability for up to one minute",
        f"changes_summary: scrape_interval and replicas of {op.service} adjusted",
        f"rollback_ref: {op.rollback_ref}",
        "outcome: SUCCESS",
        f"notes: change {op.index} went as planned",
    ]
    return lines


# -- the stream ----------------------------------------------------------------------

class FastImport:
    """One ``git fast-import`` process; ``get-mark`` answers are read by a thread so neither side blocks."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(("git", "fast-import", "--quiet", "--done"), cwd=repo,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None
        self.out = self.proc.stdin
        self.answers: list[str] = []
        self.asked: dict[int, int] = {}
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.mark = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.answers.append(line.decode().strip())
                self.cond.notify_all()

    def write(self, data: bytes) -> None:
        self.out.write(data)

    def commit(self, ref: str, when: int, message: str, files: list[tuple[str, bytes]],
               parent: int | None = None) -> int:
        self.mark += 1
        msg = message.encode()
        head = (f"commit {ref}\nmark :{self.mark}\nauthor {IDENT} {when} +0000\n"
                f"committer {IDENT} {when} +0000\ndata {len(msg)}\n").encode()
        parts = [head, msg, b"\n"]
        if parent is not None:
            parts.append(f"from :{parent}\n".encode())
        for path, content in files:
            parts.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode())
            parts.append(content)
            parts.append(b"\n")
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        return self.mark

    def ask(self, mark: int) -> None:
        """Ask for a mark's sha now; :meth:`sha` collects it later."""
        if mark not in self.asked:
            self.asked[mark] = len(self.asked)
            self.out.write(f"get-mark :{mark}\n".encode())

    def sha(self, mark: int) -> str:
        self.ask(mark)
        index = self.asked[mark]
        with self.cond:
            if len(self.answers) <= index:
                self.out.flush()
                while len(self.answers) <= index:
                    self.cond.wait()
            return self.answers[index]

    def tag(self, name: str, mark: int, when: int, message: str) -> None:
        msg = message.encode()
        self.out.write(f"tag {name}\nfrom :{mark}\ntagger {IDENT} {when} +0000\ndata {len(msg)}\n".encode()
                       + msg + b"\n")

    def finish(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        self.reader.join()
        if self.proc.wait() != 0:
            raise SystemExit("git fast-import failed")


# -- the history ---------------------------------------------------------------------

@dataclasses.dataclass
class History:
    """Running state of the tree while the stream is written."""

    shape: Shape
    ledger: dict[str, str] = dataclasses.field(default_factory=dict)
    versions: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    filler: int = 0

    def filler_files(self) -> list[tuple[str, bytes]]:
        self.filler += 1
        n = self.filler % self.shape.src_files
        path = src_path(n)
        self.versions[path] += 1
        return [(path, src_file(n, self.versions[path]))]

    def change_files(self, op: Operation) -> list[tuple[str, bytes]]:
        files = []
        for j in range(1 + op.index % 3):
            k = (op.index // self.shape.services + j) % FILES_PER_SERVICE
            path = f"ops/services/{op.service}/config-{k}.yaml"
            self.versions[path] += 1
            files.append((path, service_file(op.service, k, self.versions[path])))
        return files


def src_path(n: int) -> str:
    return f"src/pkg{n % SRC_DIRS:02d}/module_{n:04d}.py"


def initial_files(shape: Shape) -> list[tuple[str, bytes]]:
    files = [("README.md", b"# Synthetic opsgov benchmark repository\n"),
             (RUNBOOK, b"# Generic rollback procedure\n\n1. git revert the change commit\n2. restart the service\n")]
    for s in range(shape.services):
        for k in range(FILES_PER_SERVICE):
            files.append((f"ops/services/svc-{s:03d}/config-{k}.yaml", service_file(f"svc-{s:03d}", k, 0)))
    files += [(src_path(n), src_file(n, 0)) for n in range(shape.src_files)]
    return files


def events(ops: list[Operation]) -> Iterator[tuple[str, Operation]]:
    for op in ops:
        yield "declare", op
        yield "change", op
        yield "record", op


def group_events(ops: list[Operation], commits: int) -> list[list[tuple[str, Operation]]]:
    """Spread the operations' events (and empty filler slots) over ``commits`` commits."""
    evs = list(events(ops))
    if commits >= len(evs):
        groups: list[list[tuple[str, Operation]]] = []
        filler = commits - len(evs)
        per_op = filler / max(len(ops), 1)
        owed = 0.0
        for ev in evs:
            groups.append([ev])
            if ev[0] == "record":
                owed += per_op
                while owed >= 1:
                    groups.append([])
                    owed -= 1
        groups += [[] for _ in range(commits - len(groups))]
        return groups
    return [evs[i * len(evs) // commits:(i + 1) * len(evs) // commits] for i in range(commits)]


def write_history(fi: FastImport, hist: History, ops: list[Operation], groups: list[list[tuple[str, Operation]]],
                  ref: str, clock: Iterator[int], prev: int, parent: int | None) -> int:
    """Commit ``groups`` on ``ref`` after the commit marked ``prev`` (``parent``: start ``ref`` there)."""
    last = prev
    for group in groups:
        files: dict[str, bytes] = {}
        ids: list[str] = []
        for kind, op in group:
            ids.append(op.op_id)
            if kind == "declare":
                ledger_file = f"ops/ledger/{op.month}.yaml"
                files[f"ops/operations/{op.op_id}.md"] = record_text(op, ledger_file)
            elif kind == "change":
                op.change_prev_mark = last
                fi.ask(last)
                files.update(hist.change_files(op))
            else:
                op.rollback_ref = rollback_ref_for(op, fi.sha(op.change_prev_mark))
                path = f"ops/ledger/{op.month}.yaml"
                hist.ledger[path] = hist.ledger.get(path, "") + entry_text(op)
                files[path] = hist.ledger[path].encode()
        if not files:
            files.update(hist.filler_files())
        message = commit_message(group)
        last = fi.commit(ref, next(clock), message, list(files.items()), parent=parent)
        parent = None
        for kind, op in group:
            if kind == "record":
                op.ledger_mark = last
    return last


def commit_message(group: list[tuple[str, Operation]]) -> str:
    if not group:
        return "Refactor application code\n"
    kinds = sorted({k for k, _ in group})
    ids = list(dict.fromkeys(op.op_id for _, op in group))
    subject = f"{'/'.join(kinds)}: {ids[0]}" + (f" and {len(ids) - 1} more" if len(ids) > 1 else "")
    return subject + "\n\n" + "".join(f"Ops-Id: {i}\n" for i in ids)


def tag_all(fi: FastImport, ops: list[Operation], when: int) -> None:
    for op in ops:
        if op.tagged:
            title = f"{op.op_id}: {op.name}"
            fi.tag(op.op_id.lower(), op.ledger_mark, when, f"{title}\n\n{entry_text(op)}")


def build(shape: Shape, dest: Path) -> dict[str, object]:
    """Write the repository into ``dest`` (created) and return its manifest."""
    started = time.monotonic()
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Bench Operator"), ("user.email", "bench@example.com"),
                       ("commit.gpgsign", "false"), ("tag.gpgsign", "false"), ("gc.auto", "0")):
        git(dest, "config", key, value)
    ops = main_operations(shape)
    pr_ops = plan_operations(max(1, shape.pr_commits // 10), add_months(*LAST_MONTH, 1), len(ops), shape)
    main_commits = shape.commits - 1
    first = ops[0].day
    start = int(datetime.datetime(first.year, first.month, 1, tzinfo=datetime.timezone.utc).timestamp())
    clock = iter(range(start, 2**62, 600))
    fi = FastImport(dest)
    hist = History(shape)
    root = fi.commit("refs/heads/main", next(clock), "Initial import\n", initial_files(shape))
    main_tip = write_history(fi, hist, ops, group_events(ops, main_commits), "refs/heads/main", clock, root, None)
    tag_all(fi, ops, next(clock))
    write_history(fi, hist, pr_ops, group_events(pr_ops, shape.pr_commits), "refs/heads/pr", clock, main_tip,
                  main_tip)
    fi.finish()
    git(dest, "pack-refs", "--all")
    git(dest, "checkout", "-q", "-f", "main")
    return manifest(shape, ops, pr_ops, time.monotonic() - started)


def manifest(shape: Shape, ops: list[Operation], pr_ops: list[Operation], seconds: float) -> dict[str, object]:
    """What the benchmark needs to stage its scenarios."""
    full = [m for m, n in collections.Counter(op.month for op in ops).items() if n == PER_MONTH] or [ops[-1].month]
    month = full[-1]
    editable = [op for op in ops if op.month == month and not op.tagged]
    last = ops[-1]
    return {
        "shape": dataclasses.asdict(shape),
        "generator_version": GENERATOR_VERSION,
        "seconds": round(seconds, 2),
        "ledger_file": f"ops/ledger/{month}.yaml",
        "ledger_entries": sum(1 for op in ops if op.month == month),
        "ledger_edit_op": editable[-1].op_id if editable else None,
        "ledger_edit_index": editable[-1].index if editable else None,
        "change_service": last.service,
        "change_files": [f"ops/services/{last.service}/config-{k}.yaml" for k in range(3)],
        "noop_file": src_path(0),
        "pr_base": "main",
        "pr_head": "pr",
        "operations": len(ops),
        "pr_operations": len(pr_ops),
        "tags": sum(op.tagged for op in ops),
    }


def git(repo: Path, *args: str) -> str:
    return subprocess.run(("git", *args), cwd=repo, check=True, capture_output=True, text=True).stdout


def ensure(shape: Shape, work: Path = WORK, *, quiet: bool = False) -> Path:
    """The cached repository for ``shape``, built first if needed."""
    final = work / shape.key
    if (final / "manifest.json").is_file():
        return final
    tmp = work / (shape.key + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"generating {shape.key} ...", file=sys.stderr, flush=True)
    info = build(shape, tmp / "repo")
    (tmp / "manifest.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    if not quiet:
        print(f"generated {final} in {info['seconds']} s", file=sys.stderr)
    return final


def load_manifest(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((path / "manifest.json").read_text())
    return data


def parse_args(argv: list[str] | None) -> tuple[Shape, Path]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    d = Shape()
    p.add_argument("--commits", type=int, default=d.commits, help="commits on main (default %(default)s)")
    p.add_argument("--governed", type=int, default=d.governed, help="governed files (default %(default)s)")
    p.add_argument("--operations", type=int, default=d.operations,
                   help="operations, each with a record and a ledger entry (default %(default)s)")
    p.add_argument("--tags", type=int, default=d.tags, help="closed operations with a tag (default %(default)s)")
    p.add_argument("--pr-commits", type=int, default=d.pr_commits, help="commits on the pr branch")
    p.add_argument("--src-files", type=int, default=d.src_files, help="non-governed files")
    p.add_argument("--work", type=Path, default=WORK, help="cache folder (default benchmarks/.work)")
    a = p.parse_args(argv)
    return Shape(a.commits, a.governed, a.operations, a.tags, a.pr_commits, a.src_files), a.work


def main(argv: list[str] | None = None) -> int:
    shape, work = parse_args(argv)
    print(ensure(shape, work) / "repo")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
