"""Build a repository shaped like a real infrastructure repository, with ONE ``git fast-import`` stream.

What real infra repositories have and the synthetic 100k-commit one does not (issue 12):

* merges: feature branches merged with ``--no-ff`` into the topic, and the base branch
  merged *into* the topic again and again while main moves on;
* generated files: JSON dashboards (thousands of lines, regenerated whole) and YAML
  manifests under the governed paths;
* dependency lock files full of pinned commit ids: ``jsonnetfile.lock.json`` beside the
  dashboards, ``go.sum``, and a ``.pre-commit-config.yaml`` with 40-hex ``rev:`` pins;
* commits that touch governed and ungoverned files together (a manifest and the code it
  deploys), besides plain code commits and operation commits with ``Ops-Id:`` trailers.

Shape: ``--base`` commits on ``main`` (default 1,000), then a topic branch ``topic`` of
``--range`` commits (default 500, merges included) forked from ``main``'s tip at the
time; ``main`` moves on in parallel and is merged into the topic every ``MERGE_EVERY``
topic commits. The measured range is ``main..topic``. Every operation is declared,
changed (with its trailer) and recorded with valid records, as opsgov expects.

Cached under ``benchmarks/.work/`` by its parameters::

    python benchmarks/infra.py --range 500
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime
import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (records and ledger entries as opsgov expects them)

VERSION = 1
WORK = generate.WORK
IDENT = generate.IDENT
SERVICES = 12
MERGE_EVERY = 25          # topic commits between two merges of main into the topic
FEATURE_EVERY = 40        # topic commits between two feature branches merged with --no-ff
DASHBOARD_PANELS = 60     # a generated dashboard: about 40 lines per panel


@dataclasses.dataclass(frozen=True)
class InfraShape:
    base: int = 1_000
    range: int = 500

    @property
    def key(self) -> str:
        return f"infra-b{self.base}-r{self.range}-v{VERSION}"


def pinned(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def dashboard(service: str, version: int) -> bytes:
    """A Grafana dashboard as jsonnet generates it: long, and mostly rewritten on every regeneration."""
    panels = []
    for i in range(DASHBOARD_PANELS):
        panels.append({
            "id": i + 1, "type": "timeseries", "title": f"{service} panel {i} (v{version})",
            "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
            "datasource": {"type": "prometheus", "uid": pinned(f"ds-{service}")[:12]},
            "targets": [{"expr": f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{1 + version % 5}m]))',
                         "refId": "A", "legendFormat": "{{pod}}"}],
            "fieldConfig": {"defaults": {"unit": "reqps", "thresholds": {"mode": "absolute", "steps": [
                {"color": "green", "value": None}, {"color": "red", "value": 80 + version % 7}]}}},
        })
    doc = {"uid": pinned(f"dash-{service}")[:9], "title": f"{service} overview", "version": version,
           "panels": panels, "schemaVersion": 39}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def manifest(service: str, version: int) -> bytes:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service}\n  labels:\n    app: {service}\n"
            f"spec:\n  replicas: {1 + version % 4}\n  template:\n    spec:\n      containers:\n"
            f"        - name: {service}\n          image: registry.example.org/{service}@sha256:"
            f"{hashlib.sha256(f'{service}{version}'.encode()).hexdigest()}\n"
            f"          resources:\n            limits:\n              memory: {128 * (1 + version % 4)}Mi\n").encode()


def jsonnet_lock(version: int) -> bytes:
    deps = [{"source": {"git": {"remote": f"https://github.com/example/{name}.git", "subdir": "jsonnet"}},
             "version": pinned(f"{name}-{version // (i + 1)}"), "sum": hashlib.sha256(f"{name}{version}".encode())
             .digest().hex()[:43] + "="} for i, name in enumerate(("kube-prometheus", "grafonnet", "mixins",
                                                                   "prometheus-operator", "kube-state-metrics"))]
    return (json.dumps({"version": 1, "dependencies": deps, "legacyImports": True}, indent=2) + "\n").encode()


def go_sum(version: int) -> bytes:
    lines = []
    for i in range(80):
        module = f"github.com/example/mod{i}"
        v = f"v1.{(version + i) // 7}.{i % 5}"
        h = hashlib.sha256(f"{module}{v}".encode()).digest()
        lines.append(f"{module} {v} h1:{base64.b64encode(h).decode()}")
        lines.append(f"{module} {v}/go.mod h1:{base64.b64encode(h[::-1]).decode()}")
    return ("\n".join(lines) + "\n").encode()


def pre_commit_config(version: int) -> bytes:
    repos = "".join(f"  - repo: https://github.com/example/hook{i}\n    rev: {pinned(f'hook{i}-{version // (i + 1)}')}\n"
                    f"    hooks:\n      - id: hook{i}\n" for i in range(6))
    return f"repos:\n{repos}".encode()


def code(n: int, version: int) -> bytes:
    return (f'"""Service {n}."""\n\nVERSION = {version}\nTIMEOUT = {5 + version % 20}\n\n\n'
            f"def handler(event: dict) -> dict:\n    return {{'ok': True, 'version': VERSION}}\n").encode()


class Stream:
    """A fast-import stream with merges (``merge :mark``)."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(("git", "fast-import", "--quiet", "--done"), cwd=repo, stdin=subprocess.PIPE)
        assert self.proc.stdin is not None
        self.out = self.proc.stdin
        self.mark = 0
        self.when = int(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp())

    def commit(self, ref: str, message: str, files: list[tuple[str, bytes]], parents: list[int]) -> int:
        self.mark += 1
        self.when += 600
        msg = message.encode()
        parts = [f"commit {ref}\nmark :{self.mark}\nauthor {IDENT} {self.when} +0000\n"
                 f"committer {IDENT} {self.when} +0000\ndata {len(msg)}\n".encode(), msg, b"\n"]
        if parents:
            parts.append(f"from :{parents[0]}\n".encode())
        parts += [f"merge :{p}\n".encode() for p in parents[1:]]
        for path, content in files:
            parts += [f"M 100644 inline {path}\ndata {len(content)}\n".encode(), content, b"\n"]
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        return self.mark

    def finish(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            raise SystemExit("git fast-import failed")


@dataclasses.dataclass
class Tree:
    """What a branch holds of the files that change (fast-import starts a commit from its first parent's
    tree, so a merge writes what it takes from the other side)."""

    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    versions: dict[str, int] = dataclasses.field(default_factory=dict)
    ledger: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def bump(self, key: str) -> int:
        self.versions[key] = self.versions.get(key, 0) + 1
        return self.versions[key]

    def set(self, files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        self.files.update(files)
        return files

    def copy(self) -> Tree:
        return Tree(dict(self.files), dict(self.versions), {k: list(v) for k, v in self.ledger.items()})

    def take(self, other: Tree, fork: dict[str, bytes]) -> list[tuple[str, bytes]]:
        """Merge ``other`` in: what only it changed since ``fork``, and the union of both ledgers."""
        taken = []
        for path, content in other.files.items():
            if content != fork.get(path) and self.files.get(path) == fork.get(path) and \
                    not path.startswith("ops/ledger/"):
                taken.append((path, content))
        for key, value in other.versions.items():
            self.versions[key] = max(value, self.versions.get(key, 0))
        for path, entries in other.ledger.items():
            mine = self.ledger.setdefault(path, [])
            merged = entries + [e for e in mine if e not in entries]
            if merged != mine:
                self.ledger[path] = merged
                taken.append((path, "".join(merged).encode()))
        return self.set(taken)


class Builder:
    def __init__(self, stream: Stream, shape: InfraShape) -> None:
        self.s = stream
        self.shape = shape
        self.rng = random.Random(12)
        self.ops = generate.plan_operations(shape.base + shape.range, (2026, 1), 0,
                                            generate.Shape(governed=SERVICES * generate.FILES_PER_SERVICE))
        self.next_op = 0

    # -- commit kinds ------------------------------------------------------------------
    def code_commit(self, ref: str, tree: Tree, parents: list[int]) -> int:
        n = self.rng.randrange(60)
        files = [(f"src/svc{n % 12}/handler_{n}.py", code(n, tree.bump(f"src{n}")))]
        if self.rng.random() < 0.15:
            files.append(("go.sum", go_sum(tree.bump("go.sum"))))
        if self.rng.random() < 0.05:
            files.append((".pre-commit-config.yaml", pre_commit_config(tree.bump("pre-commit"))))
        return self.s.commit(ref, f"src: tweak handler {n}\n", tree.set(files), parents)

    def operation(self, ref: str, tree: Tree, parents: list[int], mixed: bool) -> int:
        """Declare, change (dashboard, manifest, lock file; with code when ``mixed``), record: three commits."""
        op = self.ops[self.next_op]
        self.next_op += 1
        op.rollback_ref = f"'command: systemctl restart {op.service}'"
        ledger = f"ops/ledger/{op.month}.yaml"
        record = f"ops/operations/{op.op_id}.md"
        head = self.s.commit(ref, f"{op.op_id}: declare\n\nOps-Id: {op.op_id}\n",
                             tree.set([(record, generate.record_text(op, ledger))]), parents)
        svc = op.service
        files = [(f"ops/services/{svc}/dashboard.json", dashboard(svc, tree.bump(f"dash-{svc}"))),
                 (f"ops/services/{svc}/deployment.yaml", manifest(svc, tree.bump(f"man-{svc}")))]
        if op.index % 3 == 0:
            files.append((f"ops/services/{svc}/jsonnetfile.lock.json", jsonnet_lock(tree.bump(f"lock-{svc}"))))
        if mixed:
            n = op.index % 60
            files.append((f"src/svc{n % 12}/handler_{n}.py", code(n, tree.bump(f"src{n}"))))
        head = self.s.commit(ref, f"{svc}: regenerate dashboards and manifests\n\nOps-Id: {op.op_id}\n",
                             tree.set(files), [head])
        tree.ledger.setdefault(ledger, []).append(generate.entry_text(op))
        return self.s.commit(ref, f"{op.op_id}: ledger entry\n\nOps-Id: {op.op_id}\n",
                             tree.set([(ledger, "".join(tree.ledger[ledger]).encode())]), [head])

    def some(self, ref: str, tree: Tree, head: int, count: int) -> tuple[int, int]:
        """About ``count`` commits of the usual mix on ``ref``: (new head, commits written)."""
        written = 0
        while written < count:
            roll = self.rng.random()
            if roll < 0.25 and count - written >= 3:
                head = self.operation(ref, tree, [head], mixed=roll < 0.05)
                written += 3
            else:
                head = self.code_commit(ref, tree, [head])
                written += 1
        return head, written


def initial_files() -> list[tuple[str, bytes]]:
    files = [("README.md", b"# infra\n"), ("go.sum", go_sum(0)), (".pre-commit-config.yaml", pre_commit_config(0))]
    for i in range(SERVICES):
        svc = f"svc-{i:03d}"
        files += [(f"ops/services/{svc}/dashboard.json", dashboard(svc, 0)),
                  (f"ops/services/{svc}/deployment.yaml", manifest(svc, 0)),
                  (f"ops/services/{svc}/jsonnetfile.lock.json", jsonnet_lock(0))]
    files += [(f"src/svc{n % 12}/handler_{n}.py", code(n, 0)) for n in range(60)]
    return files


def build(shape: InfraShape, dest: Path) -> dict[str, object]:
    subprocess.run(("git", "init", "-q", "-b", "main", str(dest)), check=True)
    stream = Stream(dest)
    b = Builder(stream, shape)
    main_tree = Tree()
    main = stream.commit("refs/heads/main", "initial import\n", main_tree.set(initial_files()), [])
    main, _ = b.some("refs/heads/main", main_tree, main, shape.base - 1)
    topic_tree, fork = main_tree.copy(), dict(main_tree.files)
    topic, written, merges = main, 0, 0
    while written < shape.range:
        if merges % 2 == 1 and shape.range - written > 6:
            # a feature branch of a few commits, merged into the topic with --no-ff
            feature_tree = topic_tree.copy()
            feature, n = b.some("refs/heads/feature", feature_tree, topic, 3)
            taken = topic_tree.take(feature_tree, dict(topic_tree.files))
            topic = stream.commit("refs/heads/topic", "Merge branch 'feature' into topic\n", taken, [topic, feature])
        else:
            topic, n = b.some("refs/heads/topic", topic_tree, topic, min(MERGE_EVERY, shape.range - written) - 1)
            # main moves on, and the topic takes it in: the base branch merged into the topic
            main, _ = b.some("refs/heads/main", main_tree, main, 2)
            taken = topic_tree.take(main_tree, fork)
            fork = dict(main_tree.files)
            topic = stream.commit("refs/heads/topic", "Merge branch 'main' into topic\n", taken, [topic, main])
        written += n + 1
        merges += 1
    stream.finish()
    subprocess.run(("git", "-C", str(dest), "checkout", "-q", "topic"), check=True)
    return {"base": "main", "head": "topic", "merges": merges}


def ensure(shape: InfraShape, work: Path = WORK) -> Path:
    dest = work / shape.key
    if (dest / "infra.json").exists():
        return dest
    tmp = work / (shape.key + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    info = build(shape, tmp)
    (tmp / "infra.json").write_text(json.dumps(info) + "\n")
    tmp.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=int, default=InfraShape.base)
    parser.add_argument("--range", type=int, default=InfraShape.range)
    args = parser.parse_args(argv)
    print(ensure(InfraShape(args.base, args.range)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
