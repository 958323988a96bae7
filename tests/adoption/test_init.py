from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any


from conftest import Repo

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = (("OPS_RUNBOOK_TEMPLATE.md", "docs/OPS_RUNBOOK_TEMPLATE.md"),
             ("ops_prompt_template_v1.txt", "ops/ops_prompt_template_v1.txt"),
             ("OPS_GOVERNOR.md", "docs/governance/OPS_GOVERNOR.md"))


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file outside .git: mode and bytes."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = Path(dirpath, name)
            found[str(path.relative_to(root))] = (path.lstat().st_mode, path.read_bytes())
    return found


def expected_lines(status: str = "created") -> list[str]:
    """What init prints for a fresh repository (templates the package does not ship are skipped)."""
    from opsgov_hooks.adoption.init import package_data

    lines = [f"{status:<7} .opsgov.yaml"]
    lines += [f"{status:<7} .opsgov/schemas/{name}" for name in ("config.schema.json", "declaration.schema.json",
                                                               "ledger-entry.schema.json")]
    lines += [f"{status:<7} ops/operations/.gitkeep", f"{status:<7} ops/ledger/.gitkeep"]
    for name, target in TEMPLATES:
        if package_data(name) is None:
            lines.append(f"skipped {target} (this opsgov build does not ship {name})")
        else:
            lines.append(f"{status:<7} {target}")
    hooks = ".pre-commit-config.yaml" + (" (already runs opsgov)" if status == "kept" else "")
    return [line + (" (already exists)" if status == "kept" and not line.startswith("skipped") else "")
            for line in lines] + [f"{status:<7} {hooks}"]


def test_init_creates_the_standard_setup(repo: Repo, run_cli: Any) -> None:
    code, out, err = run_cli("init", "-C", str(repo.path))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:10] == expected_lines()
    op_id = lines[10].split("/")[-1].split(".")[0]
    assert re.fullmatch(r"OPS-\d{4}-\d\d-\d\d-001", op_id)
    assert lines[10:] == [
        f"created ops/operations/{op_id}.md (the adoption operation)",
        f"created ops/ledger/{op_id[4:11]}.yaml (its ledger entry)",
        "", f"The adoption is operation {op_id}: its record and ledger entry cover the files above.",
        "Next steps: commit them, close the operation with its tag, turn the hooks on:",
        "  git add -- .opsgov .opsgov.yaml .pre-commit-config.yaml docs ops",
        f"  git commit -m 'Adopt Ops Governor' -m 'Ops-Id: {op_id}'", f"  opsgov tag {op_id}",
        "  pre-commit install"]
    assert (repo.path / "ops/operations/.gitkeep").read_bytes() == b""
    assert (repo.path / "ops/ledger/.gitkeep").read_bytes() == b""
    from opsgov_hooks.adoption.init import LOCAL_HOOKS

    assert repo.read(".pre-commit-config.yaml") == LOCAL_HOOKS


def test_the_templates_and_the_standard_are_copied_from_the_package(repo: Repo, run_cli: Any) -> None:
    from opsgov_hooks.adoption.init import package_data

    assert run_cli("init", "-C", str(repo.path))[0] == 0
    for name, target in TEMPLATES:
        shipped = package_data(name)
        assert shipped is not None, f"the package must ship opsgov_hooks/data/{name}"
        assert (repo.path / target).read_bytes() == shipped


def test_the_standard_in_this_repository_is_the_one_the_package_ships() -> None:
    assert (ROOT / "docs/governance/OPS_GOVERNOR.md").read_bytes() == \
        (ROOT / "opsgov_hooks/data/OPS_GOVERNOR.md").read_bytes()


def test_the_config_init_writes_is_the_default_policy(repo: Repo, run_cli: Any) -> None:
    from opsgov_hooks.policy.config import Policy, default_policy, load_policy
    from opsgov_hooks.policy.schemas import load_schema
    from opsgov_hooks.git.sources import WorktreeSource

    run_cli("init", "-C", str(repo.path))
    loaded = load_policy(WorktreeSource(str(repo.path)))
    assert loaded.source == ".opsgov.yaml"
    defaults = default_policy()
    for field in dataclasses.fields(Policy):
        if field.name != "source":
            assert getattr(loaded, field.name) == getattr(defaults, field.name), field.name
    text = repo.read(".opsgov.yaml")
    for key in load_schema("config.schema.json")["properties"]:
        assert f"\n{key}:" in text or f"\n# {key}:" in text, f"{key} is not in the file"


def test_running_init_twice_changes_nothing(repo: Repo, run_cli: Any) -> None:
    assert run_cli("init", "-C", str(repo.path))[0] == 0
    before = snapshot(repo.path)
    code, out, err = run_cli("init", "-C", str(repo.path))
    assert (code, err) == (0, "")
    assert out.splitlines() == expected_lines("kept")
    assert snapshot(repo.path) == before


def test_init_never_overwrites(repo: Repo, run_cli: Any) -> None:
    repo.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    repo.write("docs/governance/OPS_GOVERNOR.md", "our own words\n")
    repo.write("ops/operations/OPS-2026-01-27-001.md", "anything\n")
    before = snapshot(repo.path)
    code, out, _ = run_cli("init", "-C", str(repo.path))
    assert code == 0
    assert "kept    .opsgov.yaml (already exists)" in out.splitlines()
    assert "kept    docs/governance/OPS_GOVERNOR.md (already exists)" in out.splitlines()
    assert "kept    ops/operations/ (already holds files)" in out.splitlines()
    assert "(the adoption operation)" in out   # it wrote governed files: they belong to the adoption
    after = snapshot(repo.path)
    assert {k: v for k, v in after.items() if k in before} == before


def test_init_follows_the_existing_configuration(repo: Repo, run_cli: Any) -> None:
    repo.write(".opsgov.yaml", "operations_dir: governance/ops\nledger:\n  backend: markdown\n")
    code, out, _ = run_cli("init", "-C", str(repo.path))
    assert code == 0
    assert out.splitlines()[4:6] == ["created governance/ops/.gitkeep", "created docs/OPS_CHANGELOG.md"]
    assert "updated docs/OPS_CHANGELOG.md (its ledger entry)" in out.splitlines()
    from opsgov_hooks.records.ledger import parse_changelog

    entries, findings = parse_changelog("docs/OPS_CHANGELOG.md", (repo.path / "docs/OPS_CHANGELOG.md").read_bytes())
    assert findings == [] and [e.fields["operation_name"] for e in entries] == ["Adopt Ops Governor"]


def test_pyproject_configuration_is_respected(repo: Repo, run_cli: Any) -> None:
    repo.write("pyproject.toml", "[tool.opsgov]\nsolo_mode = true\n")
    code, out, _ = run_cli("init", "-C", str(repo.path))
    assert code == 0
    assert out.splitlines()[0] == "skipped .opsgov.yaml (pyproject.toml [tool.opsgov] configures opsgov)"
    assert not (repo.path / ".opsgov.yaml").exists()
    record = next((repo.path / "ops/operations").glob("OPS-*.md")).read_text(encoding="utf-8")
    assert "    $ opsgov validate pyproject.toml\n    exit 0\n" in record


def test_a_broken_configuration_stops_init(repo: Repo, run_cli: Any) -> None:
    repo.write(".opsgov.yaml", "governed_paths: []\n")
    code, out, err = run_cli("init", "-C", str(repo.path))
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: the opsgov configuration is broken:\n.opsgov.yaml:1:17: C001 ")


def test_empty_pre_commit_config_is_filled(repo: Repo, run_cli: Any) -> None:
    from opsgov_hooks.adoption.init import LOCAL_HOOKS

    repo.write(".pre-commit-config.yaml", "\n")
    code, out, _ = run_cli("init", "-C", str(repo.path))
    assert code == 0
    assert "created .pre-commit-config.yaml (it was empty)" in out.splitlines()
    assert repo.read(".pre-commit-config.yaml") == LOCAL_HOOKS


def test_hooks_can_be_pinned_to_a_repository(repo: Repo, run_cli: Any) -> None:
    code, _, _ = run_cli("init", "-C", str(repo.path), "--hooks-repo", "https://git.example.com/opsgov",
                         "--hooks-rev", "v0.1.0", "-q")
    assert code == 0
    assert repo.read(".pre-commit-config.yaml").splitlines()[5:8] == [
        "  - repo: https://git.example.com/opsgov", "    rev: v0.1.0", "    hooks:"]


def test_quiet_prints_nothing_when_nothing_needs_action(repo: Repo, run_cli: Any) -> None:
    assert run_cli("init", "-C", str(repo.path), "-q") == (0, "", "")


def test_outside_a_repository_is_a_usage_error(tmp_path: Path, run_cli: Any) -> None:
    code, out, err = run_cli("init", "-C", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (f"opsgov: error: {tmp_path} is not inside a git repository; run opsgov from a clone of the "
                   "repository (or 'git init' first)\n")
    assert list(tmp_path.iterdir()) == []


def test_init_does_not_write_through_a_link_out_of_the_repository(repo: Repo, run_cli: Any, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo.path / "docs")
    code, out, _ = run_cli("init", "-C", str(repo.path))
    assert code == 0
    assert "skipped docs/governance/OPS_GOVERNOR.md (its folder leads outside the repository)" in out.splitlines()
    assert list(outside.iterdir()) == []


def test_no_colour_in_a_pipe_and_none_with_no_color(repo: Repo) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run((sys.executable, "-m", "opsgov_hooks", "init"), cwd=repo.path, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0 and "\033[" not in proc.stdout


def test_init_then_pre_commit_blocks_an_undeclared_change(repo: Repo) -> None:
    """The adoption path end to end: init, commit it, install the real pre-commit hook, try a change."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=repo.path, capture_output=True, text=True, env=env)

    assert run(sys.executable, "-m", "opsgov_hooks", "init", "-q").returncode == 0
    repo.commit("Adopt opsgov")
    installed = run(sys.executable, "-m", "pre_commit", "install")
    assert installed.returncode == 0, installed.stderr
    repo.write("README.md", "not governed\n")
    repo.stage()
    allowed = run("git", "commit", "-q", "-m", "readme")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    repo.stage()
    blocked = run("git", "commit", "-q", "-m", "undeclared change")
    assert blocked.returncode == 1
    assert "ops/monitoring/prometheus.yml" in blocked.stderr  # git gives hooks' output to stderr
    assert repo.git("log", "--format=%s").splitlines() == ["readme", "Adopt opsgov"]


def test_init_from_a_subfolder_sets_up_the_repository_root(repo: Repo, run_cli: Any) -> None:
    (repo.path / "deep" / "er").mkdir(parents=True)
    code, _, _ = run_cli("init", "-C", str(repo.path / "deep" / "er"), "-q")
    assert code == 0
    assert (repo.path / ".opsgov.yaml").is_file() and not (repo.path / "deep" / "er" / ".opsgov.yaml").exists()
