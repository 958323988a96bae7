"""Adoption passes by construction: after ``opsgov init`` and one commit, every gate mode passes.

The staged hook and the commit-msg hook (through the real pre-commit framework), the pre-push hook
to an empty remote and to one without a policy, both remotes' pre-receive hooks, ``check --range``,
``check --all`` and ``opsgov report``: on a new repository, on one without any commit, and on one with
1,000 earlier commits (built with ``git fast-import``).
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from conftest import IDENTITY, Repo, init_repo

BIN = Path(sys.executable).parent


def hooked_bare(path: Path, hook_now: bool = True) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return install_gate(path) if hook_now else path


def install_gate(path: Path) -> Path:
    """The server's gate (docs/ci.md): a pre-receive hook running opsgov."""
    hook = path / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check --pre-receive\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    return path


def run(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def fast_history(repo: Repo, count: int) -> None:
    """``count`` commits touching ordinary files, written in one ``git fast-import`` stream."""
    chunks = []
    for i in range(1, count + 1):
        data = f"change {i}\n".encode()
        message = f"commit {i}\n".encode()
        stamp = 1600000000 + i * 3600
        chunks.append(b"commit refs/heads/main\n"
                      + f"committer {IDENTITY['GIT_COMMITTER_NAME']} <{IDENTITY['GIT_COMMITTER_EMAIL']}> "
                        f"{stamp} +0000\n".encode()
                      + f"data {len(message)}\n".encode() + message
                      + f"M 100644 inline src/module{i % 37}.txt\n".encode()
                      + f"data {len(data)}\n".encode() + data + b"\n")
    repo.git("fast-import", "--quiet", input=b"".join(chunks))
    repo.git("reset", "-q", "--hard", "main")


def adopt_and_check_every_mode(repo: Repo, tmp_path: Path) -> str:
    """init, the real hooks, one commit, then every gate mode; returns the adoption's id."""
    before = repo.git("rev-parse", "--verify", "-q", "HEAD", check=False).strip()
    empty = hooked_bare(tmp_path / "empty.git")
    no_policy = hooked_bare(tmp_path / "no-policy.git", hook_now=False)
    if before:
        repo.git("push", "-q", str(no_policy), "main")   # the remote as it was before the adoption
    install_gate(no_policy)                               # its gate, installed for the adoption

    out = ok(run(repo, "opsgov", "init"))
    op_id = re.search(r"The adoption is operation (OPS-\d{4}-\d\d-\d\d-\d{3})", out)
    assert op_id is not None, out
    ok(run(repo, "pre-commit", "install", "--hook-type", "pre-commit", "--hook-type", "commit-msg",
           "--hook-type", "pre-push"))
    ok(run(repo, "git", "add", "--", ".opsgov.yaml", ".pre-commit-config.yaml", "docs", "ops"))
    committed = ok(run(repo, "git", "commit", "-m", "Adopt Ops Governor", "-m", f"Ops-Id: {op_id[1]}"))
    assert re.search(r"opsgov gate \(staged change\)\.+Passed", committed), committed
    assert re.search(r"opsgov gate \(Ops-Id trailers\)\.+Passed", committed), committed

    for remote in (empty, no_policy):
        pushed = ok(run(repo, "git", "push", str(remote), "main"))
        assert re.search(r"opsgov gate \(commits being pushed\)\.+Passed", pushed), pushed
        assert subprocess.run(["git", "-C", str(remote), "rev-parse", "main"], capture_output=True,
                              text=True).stdout.strip() == repo.head()
    if before:
        ok(run(repo, "opsgov", "check", "--range", f"{before}..HEAD"))
    ok(run(repo, "opsgov", "check", "--all"))
    report = json.loads(ok(run(repo, "opsgov", "report", "--format", "json")))
    assert [f["code"] for f in report["findings"]] == ["A003"]   # closed by its tag, the next step
    return op_id[1]


def test_a_new_repository_adopts_without_a_workaround(repo: Repo, tmp_path: Path) -> None:
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    op_id = adopt_and_check_every_mode(repo, tmp_path)
    ok(run(repo, "opsgov", "tag", op_id))
    report = json.loads(ok(run(repo, "opsgov", "report", "--format", "json")))
    assert report["findings"] == []
    ok(run(repo, "opsgov", "check", "--all"))


def test_a_repository_without_a_commit_adopts_too(repo: Repo, tmp_path: Path) -> None:
    op_id = adopt_and_check_every_mode(repo, tmp_path)
    entry = repo.read("ops/ledger/" + op_id[4:11] + ".yaml")
    assert ("rollback_ref: 'command: git rm -r -q -- .opsgov.yaml .opsgov/schemas/config.schema.json "
            ".opsgov/schemas/declaration.schema.json .opsgov/schemas/ledger-entry.schema.json "
            ".pre-commit-config.yaml") in entry


def test_a_repository_with_1000_earlier_commits_adopts(repo: Repo, tmp_path: Path) -> None:
    fast_history(repo, 1000)
    assert repo.git("rev-list", "--count", "HEAD").strip() == "1000"
    adopt_and_check_every_mode(repo, tmp_path)


def test_the_adoption_record_is_a_whole_operation(repo: Repo, run_cli: object) -> None:
    repo.write("README.md", "# service\n")
    base = repo.commit("initial")
    proc = run(repo, "opsgov", "init", "-q")
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout
    records = sorted((repo.path / "ops/operations").glob("OPS-*.md"))
    assert len(records) == 1
    text = records[0].read_text(encoding="utf-8")
    op_id = records[0].stem
    assert f"OPERATION_NAME: Adopt Ops Governor\n" in text
    assert "RISK_CLASS: LOW_RISK_CONFIG\n" in text and "ALLOWED_SERVICES: []\n" in text
    for path in (".opsgov.yaml", ".pre-commit-config.yaml", "docs/governance/OPS_GOVERNOR.md",
                 "ops/ops_prompt_template_v1.txt"):
        assert f"\n  - {path}\n" in text
    assert "    $ opsgov validate .opsgov.yaml\n    exit 0\n" in text
    assert "<!--" not in text.split("## 5) Report", 1)[1].split("## 6)", 1)[0]
    entry = (repo.path / "ops/ledger" / f"{op_id[4:11]}.yaml").read_text(encoding="utf-8")
    assert f"rollback_ref: {base[:12]}\n" in entry and "approved_by: SELF\n" in entry
    section6 = text.split("## 6) Signoff & Ledger Entry", 1)[1]
    assert entry.removeprefix("---\n") in section6
    assert run(repo, "opsgov", "validate").returncode == 0


def test_the_adoption_covers_governed_files_the_repository_already_has(repo: Repo, tmp_path: Path) -> None:
    repo.write("ops/deploy/run.sh", "#!/bin/sh\necho deploy\n")
    repo.write("docs/governance/[draft] policy.md", "ours\n")
    repo.commit("before opsgov")
    ok(run(repo, "opsgov", "init", "-q"))
    ok(run(repo, "git", "add", "-A"))
    ok(run(repo, "git", "commit", "-q", "-m", "Adopt Ops Governor"))
    text = next((repo.path / "ops/operations").glob("OPS-*.md")).read_text(encoding="utf-8")
    assert "\n  - ops/deploy/run.sh\n" in text
    assert '\n  - "docs/governance/?draft? policy.md"\n' in text
    ok(run(repo, "opsgov", "check", "--all"))


def test_running_init_again_declares_nothing_more(repo: Repo) -> None:
    ok(run(repo, "opsgov", "init", "-q"))
    again = ok(run(repo, "opsgov", "init"))
    assert "adoption" not in again
    assert len(list((repo.path / "ops/operations").glob("OPS-*.md"))) == 1


def test_a_later_governed_change_still_needs_its_own_operation(repo: Repo, tmp_path: Path) -> None:
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    op_id = adopt_and_check_every_mode(repo, tmp_path)
    ok(run(repo, "opsgov", "tag", op_id))
    repo.write(".opsgov.yaml", repo.read(".opsgov.yaml") + "solo_mode: true\n")
    repo.stage()
    blocked = run(repo, "opsgov", "check")
    assert blocked.returncode == 1 and "G005" in blocked.stdout, blocked.stdout
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    repo.git("checkout", "-q", "--", ".opsgov.yaml")
    repo.stage()
    blocked = run(repo, "opsgov", "check")
    assert blocked.returncode == 1 and "G001" in blocked.stdout, blocked.stdout


def test_without_a_git_identity_init_writes_nothing(repo: Repo, monkeypatch: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER", "EMAIL"))}
    repo.git("config", "--unset", "user.email")
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", "init"], cwd=repo.path, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 2 and "git config user.email you@example.com" in proc.stderr, proc.stderr
    assert sorted(p.name for p in repo.path.iterdir()) == [".git"]


def test_the_config_init_writes_is_no_secret_finding() -> None:
    """Its 'secrets: true' and its comment prose are what detect-secrets' YAML reading never calls a secret."""
    from opsgov_hooks.adoption.config_template import render_config
    from opsgov_hooks.git.patches import AddedLine
    from opsgov_hooks.rules.secrets import find_secrets

    lines = [AddedLine(".opsgov.yaml", n, text) for n, text in enumerate(render_config().splitlines(), 1)]
    assert any(line.text.strip() == "secrets: true" for line in lines)
    assert find_secrets(lines, lambda names: set()) == []
    real = [AddedLine("ops/app.yaml", 1, "    password: hunter2isMyPass"), AddedLine("ops/app.yaml", 2, "secrets: yes")]
    assert [(a.line, kind) for a, kind in find_secrets(real, lambda names: set())] == [(1, "Secret Keyword")]


def test_tag_without_an_id_closes_what_head_carries_out(repo: Repo) -> None:
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    nothing = run(repo, "opsgov", "tag")
    assert nothing.returncode == 2 and "HEAD writes no operation record and names none" in nothing.stdout
    ok(run(repo, "opsgov", "init", "-q"))
    ok(run(repo, "git", "add", "-A"))
    ok(run(repo, "git", "commit", "-q", "-m", "Adopt Ops Governor"))
    op_id = next((repo.path / "ops/operations").glob("OPS-*.md")).stem
    assert ok(run(repo, "opsgov", "tag")).startswith(f"created tag {op_id.lower()} at ")
    again = run(repo, "opsgov", "tag")
    assert again.returncode == 2 and f"every operation HEAD belongs to is closed already ({op_id})" in again.stdout


def test_the_report_shows_history_before_the_adoption_as_such(repo: Repo, tmp_path: Path) -> None:
    repo.write("ops/deploy/run.sh", "#!/bin/sh\necho deploy\n")
    old = repo.commit("before opsgov")
    ok(run(repo, "opsgov", "init", "-q"))
    ok(run(repo, "git", "add", "-A"))
    ok(run(repo, "git", "commit", "-q", "-m", "Adopt Ops Governor"))
    adoption = repo.head()
    report = json.loads(ok(run(repo, "opsgov", "report", "--format", "json")))
    rows = {c["sha"]: c for c in report["commits"]}
    assert rows[old]["method"] == "before-adoption" and rows[old]["traced"] is True
    assert rows[old]["note"] == (f"before the adoption (commit {adoption[:12]}): the gate judges changes from it on")
    assert rows[adoption]["method"] == "record"
    assert report["summary"]["untraced_commits"] == 0
    assert "A001" not in [f["code"] for f in report["findings"]]
    markdown = ok(run(repo, "opsgov", "report", "--format", "md"))
    assert "| before adoption | before-adoption |" in markdown


def test_the_report_names_each_operations_evidence_and_its_exit_status(repo: Repo) -> None:
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    ok(run(repo, "opsgov", "init", "-q"))
    ok(run(repo, "git", "add", "-A"))
    ok(run(repo, "git", "commit", "-q", "-m", "Adopt Ops Governor"))
    op_id = next((repo.path / "ops/operations").glob("OPS-*.md")).stem
    report = json.loads(ok(run(repo, "opsgov", "report", "--format", "json")))
    [operation] = report["operations"]
    assert operation["evidence"] == [{"step": 1, "command": "opsgov validate .opsgov.yaml", "status": "exit 0",
                                      "step_status": "PASS"}]
    markdown = ok(run(repo, "opsgov", "report", "--format", "md"))
    assert f"| {op_id} | 1 | opsgov validate .opsgov.yaml | exit 0 | PASS |" in markdown
    html = ok(run(repo, "opsgov", "report", "--format", "html"))
    assert "<code>opsgov validate .opsgov.yaml</code>" in html


def test_history_before_the_adoption_is_not_judged_where_no_policy_was(repo: Repo, tmp_path: Path) -> None:
    """Governed files changed before any policy existed: pushes to an empty remote (pre-push and
    pre-receive) and a range from before the adoption judge changes from the adoption on."""
    repo.write("ops/deploy/run.sh", "#!/bin/sh\necho v1\n")
    first = repo.commit("deploy script")
    repo.write("ops/deploy/run.sh", "#!/bin/sh\necho v2\n")
    repo.commit("deploy script, v2")
    adopt_and_check_every_mode(repo, tmp_path)
    ok(run(repo, "opsgov", "check", "--range", f"{first}..HEAD"))
    ok(run(repo, "opsgov", "tag"))
    # After the adoption the gate is on: an undeclared change in the same range is still judged.
    repo.write("ops/deploy/run.sh", "#!/bin/sh\necho v3\n")
    repo.git("commit", "-q", "--no-verify", "-am", "undeclared")
    refused = run(repo, "opsgov", "check", "--range", f"{first}..HEAD")
    assert refused.returncode == 1 and "G005 ops/deploy/run.sh" in refused.stdout, refused.stdout
    assert refused.stdout.count(" G00") == 1, refused.stdout   # the two commits before the adoption: none
