"""``opsgov check`` as a command: modes, output formats, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, OPS2, PROM, Check, codes, operation, record  # noqa: E402

pytest_plugins = ["conftest_gate"]

G001_HINT = ("declare an operation whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in an "
             "'Ops-Id: OPS-...' commit trailer")


@pytest.fixture
def blocked(gate_repo: Repo) -> Repo:
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    return gate_repo


def test_staged_is_the_default(blocked: Repo, check: Check) -> None:
    assert check(blocked) == check(blocked, "--staged")


def test_json_format(blocked: Repo, check: Check) -> None:
    code, out, err = check(blocked, "--format", "json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"ok": False, "findings": [{
        "code": "G001", "severity": "error", "path": PROM, "line": 1, "column": 1,
        "message": f"{PROM} is governed but the change belongs to no operation", "hint": G001_HINT, "commit": None}]}


def test_github_format_is_the_default_under_actions(blocked: Repo, check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = check(blocked)
    assert code == 1
    assert out == (f"::error file={PROM},line=1,col=1,title=G001::G001 {PROM} is governed but the change belongs "
                   f"to no operation (fix: {G001_HINT})\n")


def test_clean_json_output(gate_repo: Repo, check: Check) -> None:
    assert check(gate_repo, "--format", "json") == (0, '{\n  "ok": true,\n  "findings": []\n}\n', "")


def test_modes_are_exclusive(gate_repo: Repo, check: Check) -> None:
    code, out, err = check(gate_repo, "--staged", "--all")
    assert (code, out) == (2, "")
    assert "choose one of --staged, --range, --all, --pre-receive, --pre-push, --commit-msg" in err


def test_all_mode_every_governed_file_covered(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("operation")
    assert check(gate_repo, "--all") == (0, "", "")
    gate_repo.write("docs/governance/charter.md", "# charter\n")
    gate_repo.git("add", "-A")
    gate_repo.git("commit", "-q", "-m", "uncovered file (committed around the gate)")
    code, out, _ = check(gate_repo, "--all")
    assert code == 1
    assert out == ("docs/governance/charter.md:1:1: G001 docs/governance/charter.md is governed but no declared "
                   "operation's ALLOWED_PATHS cover it (fix: declare the operation that owns it ('opsgov new'), "
                   "or move it out of the governed paths)\nFound 1 error(s), 0 warning(s).\n")


def test_all_mode_reports_invalid_records(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(record(OPS1), gate_repo.read(record(OPS1)).replace("RISK_CLASS: LOW_RISK_CONFIG",
                                                                       "RISK_CLASS: YOLO"))
    gate_repo.commit("broken record")
    code, out, _ = check(gate_repo, "--all")
    assert code == 1 and "D004" in codes(out)


def test_commit_msg_without_trailers_is_quiet(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    message = tmp_path / "MSG"
    message.write_text("just a commit\n", encoding="utf-8")
    assert check(gate_repo, "--commit-msg", str(message)) == (0, "", "")


def test_commit_msg_trailer_naming_no_operation(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    message = tmp_path / "MSG"
    message.write_text(f"tune\n\nsome body\n\nOps-Id: {OPS2}\n", encoding="utf-8")
    code, out, _ = check(gate_repo, "--commit-msg", str(message))
    assert code == 1
    assert out == (f"{message}:5:1: G009 Ops-Id {OPS2} names no declared operation (fix: declare it in "
                   f"{record(OPS2)} ('opsgov new') or fix the id)\nFound 1 error(s), 0 warning(s).\n")


def test_commit_msg_trailer_of_an_operation_declared_in_this_commit(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    message = tmp_path / "MSG"
    message.write_text(f"tune\n\nOps-Id: {OPS1}\n", encoding="utf-8")
    assert check(gate_repo, "--commit-msg", str(message)) == (0, "", "")


def test_missing_message_file_is_a_usage_error(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    code, out, err = check(gate_repo, "--commit-msg", str(tmp_path / "nope"))
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: No such file or directory")


def test_broken_policy_at_the_base_is_an_environment_error(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths: ops/**\n")
    gate_repo.commit("a broken config")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, out, err = check(gate_repo)
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: the opsgov configuration is broken:\n.opsgov.yaml:1:17: C001 ")


def test_runs_from_a_subdirectory(blocked: Repo, run_cli: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    (blocked.path / "src").mkdir()
    monkeypatch.chdir(blocked.path / "src")
    code, out, _ = run_cli("check")
    assert code == 1 and out.startswith(f"{PROM}:1:1: G001 ")


# -- the manifest, the action and the docs agree ------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _yaml(name: str) -> object:
    import yaml

    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_hook_manifest_is_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert sorted(hooks) == ["opsgov-check", "opsgov-commit-msg", "opsgov-pre-push", "opsgov-validate"]
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("opsgov ")
        assert hook["minimum_pre_commit_version"] == "3.2.0"
    for gate in ("opsgov-check", "opsgov-pre-push"):
        assert (hooks[gate]["pass_filenames"], hooks[gate]["always_run"]) == (False, True)
    assert hooks["opsgov-check"]["stages"] == ["pre-commit"]
    assert hooks["opsgov-commit-msg"]["stages"] == ["commit-msg"]
    assert hooks["opsgov-pre-push"]["stages"] == ["pre-push"]
    assert hooks["opsgov-validate"]["pass_filenames"] is False


def test_every_hook_and_gate_code_is_documented() -> None:
    from opsgov_hooks.codes import CODES

    gate_doc = (ROOT / "docs" / "gate.md").read_text(encoding="utf-8")
    ci_doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    manifest = _yaml(".pre-commit-hooks.yaml")
    assert isinstance(manifest, list)
    for hook in manifest:
        assert f"`{hook['id']}`" in gate_doc and f"id: {hook['id']}" in ci_doc
    for code in (c for c in CODES if c.startswith("G")):
        assert f"| {code} |" in gate_doc


def test_action_installs_itself_and_checks_the_range() -> None:
    action = _yaml("action.yml")
    assert isinstance(action, dict) and action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert all("${{" not in script for script in scripts)  # inputs reach scripts through env only
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["env"]["OPSGOV_SOURCE"] == "${{ github.action_path }}"
    assert '"$opsgov" check --range "$base..$OPSGOV_HEAD" --format "$OPSGOV_FORMAT"' in scripts[-1]


def test_action_checks_out_with_tags_and_uploads_sarif_on_request() -> None:
    action = _yaml("action.yml")
    assert isinstance(action, dict)
    steps = action["runs"]["steps"]
    checkout = steps[0]
    assert checkout["uses"] == "actions/checkout@v4" and checkout["if"] == "${{ inputs.checkout == 'true' }}"
    assert checkout["with"] == {"fetch-depth": 0, "fetch-tags": True}
    assert action["inputs"]["upload-sarif"]["default"] == "false"
    check = next(s for s in steps if s.get("id") == "check")
    assert check["env"]["OPSGOV_UPLOAD_SARIF"] == "${{ inputs.upload-sarif }}"
    assert '--format sarif > "$sarif"' in check["run"] and 'echo "sarif=$sarif" >> "$GITHUB_OUTPUT"' in check["run"]
    upload = steps[-1]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["if"] == "${{ always() && steps.check.outputs.sarif != '' }}"   # also when findings fail the job
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif }}"


def test_action_script_runs_and_writes_sarif(gate_repo: Repo, tmp_path: Path) -> None:
    """The action's check step, run by bash as the runner would, with its environment."""
    import os
    import subprocess
    import sys

    action = _yaml("action.yml")
    assert isinstance(action, dict)
    script = next(s for s in action["runs"]["steps"] if s.get("id") == "check")["run"]
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("unassociated")
    venv_bin = tmp_path / "opsgov-venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "opsgov").write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks \"$@\"\n")
    (venv_bin / "opsgov").chmod(0o755)
    output = tmp_path / "github_output"
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output), "OPSGOV_BASE": base,
           "OPSGOV_HEAD": "HEAD", "OPSGOV_DEFAULT_BRANCH": "main", "OPSGOV_FORMAT": "github",
           "OPSGOV_UPLOAD_SARIF": "true", "OPSGOV_SERVER": "https://github.com",
           "OPSGOV_ACTION_REPOSITORY": "acme/opsgov", "OPSGOV_ACTION_REF": "v0.1.0"}
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=gate_repo.path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(f"::error file={PROM},line=1,col=1,title=G001::")
    assert output.read_text() == f"sarif={tmp_path}/opsgov.sarif\n"
    from format_schemas import validate_sarif

    run = validate_sarif((tmp_path / "opsgov.sarif").read_text())["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["G001"]
    assert run["tool"]["driver"]["rules"][0]["helpUri"] == (
        "https://github.com/acme/opsgov/blob/v0.1.0/docs/rules.md#" + run["tool"]["driver"]["rules"][0]["id"].lower())


def test_check_quiet_prints_the_error_lines_only(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write("README.md", "x\n")
    repo.commit("initial")
    repo.write("ops/monitoring/prometheus.yml", "x: 1\n")
    repo.stage()
    repo.chdir(monkeypatch)
    code, loud, _ = run_cli("check")
    assert code == 1 and loud.splitlines()[-1] == "Found 1 error(s), 0 warning(s)."
    code, quiet, _ = run_cli("check", "--quiet")
    assert code == 1 and quiet.splitlines() == loud.splitlines()[:-1]
    assert " G001 " in quiet


def test_gitlab_template_runs_and_writes_both_reports(gate_repo: Repo, tmp_path: Path) -> None:
    """ci/opsgov.gitlab-ci.yml's script, run by bash as a GitLab runner would, for a merge request."""
    import os
    import subprocess
    import sys

    from format_schemas import validate_gitlab, validate_junit

    template = _yaml("ci/opsgov.gitlab-ci.yml")
    assert isinstance(template, dict)
    job = template[".opsgov"]
    assert job["variables"]["GIT_DEPTH"] == "0" and any("fetch" in line and "--tags" in line
                                                         for line in job["before_script"])
    assert job["artifacts"] == {"when": "always", "reports": {"codequality": "gl-code-quality-report.json",
                                                             "junit": "opsgov-junit.xml"}}
    assert template["opsgov"]["extends"] == ".opsgov"
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    bad = gate_repo.commit("unassociated")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "opsgov").write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks \"$@\"\n")
    (bin_dir / "opsgov").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
           "CI_COMMIT_SHA": bad, "CI_DEFAULT_BRANCH": "main"}
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(job["script"])], cwd=gate_repo.path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(f"{PROM}:1:1: G001 ")
    [issue] = validate_gitlab((gate_repo.path / "gl-code-quality-report.json").read_text())
    assert issue["check_name"] == "G001"
    cases = [c.get("name") for c in validate_junit((gate_repo.path / "opsgov-junit.xml").read_text()).iter("testcase")]
    assert cases == [f"commit {bad[:12]}"]
