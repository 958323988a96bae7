"""The CI recipes that keep opsgov's cache between runs (action.yml, ci/opsgov.gitlab-ci.yml and
docs/ci.md, "Starting warm"): their shape, their trust rule, and their scripts run by bash as the
runner would, against a real repository.

GitHub's ``if:`` conditions are evaluated here for the events that matter (a push to the default
branch, a push elsewhere, a pull request, a cancelled run, the cache turned off) by a small
evaluator of the expression syntax these files use, so a condition that lets a pull request save
the cache fails a test, whatever its spelling.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Repo
from conftest_gate import OPS1, PROM, add_entry, declare

pytest_plugins = ["conftest_gate"]

ROOT = Path(__file__).resolve().parents[2]
CACHE_PATH = "${{ runner.temp }}/opsgov-cache"


# -- GitHub expressions ---------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)"
                    r"|(?P<name>[A-Za-z_][\w.-]*))")


def evaluate(expression: str, context: dict[str, Any], cancelled: bool = False) -> Any:
    """The value of a ``${{ ... }}`` expression (strings, ==, !=, !, &&, ||, cancelled(), always(),
    format()); a context value not given is '' (GitHub's null compares equal to it)."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    out: list[str] = []
    pos = 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        assert m is not None, f"cannot read {text[pos:]!r}"
        pos = m.end()
        if m["str"] is not None:
            out.append(repr(m["str"][1:-1].replace("''", "'")))
        elif m["op"] is not None:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], m["op"]))
        elif m["name"] in ("cancelled", "always", "format", "true", "false"):
            out.append({"format": "fmt", "true": "True", "false": "False"}.get(m["name"], m["name"]))
        else:
            out.append(f"ctx({m['name']!r})")
    names = {"ctx": lambda name: context.get(name, ""), "cancelled": lambda: cancelled, "always": lambda: True,
             "fmt": lambda template, *args: template.format(*args)}
    return eval("".join(out), {"__builtins__": {}}, names)  # noqa: S307 - our own translation of a test file


def interpolate(value: object, context: dict[str, Any]) -> str:
    """A YAML value with ``${{ ... }}`` parts, as the runner hands it to a step."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m[1], context)), str(value))


def test_the_evaluator_reads_what_the_files_use() -> None:
    ctx = {"github.event_name": "push", "github.ref": "refs/heads/main", "inputs.cache": "true",
           "github.event.repository.default_branch": "main"}
    assert evaluate("${{ !cancelled() && github.ref == format('refs/heads/{0}', "
                    "github.event.repository.default_branch) }}", ctx) is True
    assert evaluate("${{ !cancelled() && inputs.cache == 'true' }}", ctx, cancelled=True) is False
    assert evaluate("${{ inputs.base || github.event.before }}", {"github.event.before": "abc"}) == "abc"
    assert evaluate("${{ github.event_name == 'pull_request' }}", ctx) is False
    assert interpolate("${{ runner.temp }}/x-${{ inputs.cache }}", {"runner.temp": "/t", "inputs.cache": "true"}) == "/t/x-true"


def contexts(default_branch: str = "main") -> dict[str, dict[str, str]]:
    """The events a cache rule must tell apart."""
    common = {"github.event.repository.default_branch": default_branch, "inputs.cache": "true",
              "steps.cache-key.outputs.prefix": "opsgov-cache-Linux-0123456789abcdef-",
              "steps.opsgov-cache.outputs.prefix": "opsgov-cache-Linux-0123456789abcdef-"}
    return {
        "push to the default branch": {**common, "github.event_name": "push", "github.ref": f"refs/heads/{default_branch}"},
        "push to another branch": {**common, "github.event_name": "push", "github.ref": "refs/heads/feature"},
        "push of a tag": {**common, "github.event_name": "push", "github.ref": f"refs/tags/{default_branch}"},
        "pull request": {**common, "github.event_name": "pull_request", "github.ref": "refs/pull/7/merge"},
        "pull request target": {**common, "github.event_name": "pull_request_target",
                                "github.ref": f"refs/heads/{default_branch}"},
        "scheduled run": {**common, "github.event_name": "schedule", "github.ref": f"refs/heads/{default_branch}"},
    }


def saves(condition: str) -> set[str]:
    return {name for name, ctx in contexts().items() if evaluate(condition, ctx)}


# -- action.yml -----------------------------------------------------------------------------

def _load(path: Path | str) -> Any:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def _steps() -> list[dict[str, Any]]:
    action = _load("action.yml")
    return action["runs"]["steps"]  # type: ignore[no-any-return]


def _uses(steps: list[dict[str, Any]], prefix: str) -> list[int]:
    return [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith(prefix)]


def test_action_restores_the_cache_before_the_check_and_saves_it_after() -> None:
    action = _load("action.yml")
    assert action["inputs"]["cache"]["default"] == "true"
    steps = _steps()
    [restore] = _uses(steps, "actions/cache/restore@")
    [save] = _uses(steps, "actions/cache/save@")
    assert not _uses(steps, "actions/cache@")            # the combined action would save from every run
    check = next(i for i, s in enumerate(steps) if s.get("id") == "check")
    assert restore < check < save
    assert steps[check]["env"]["OPSGOV_CACHE_DIR"] == CACHE_PATH
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == CACHE_PATH
    prefix = steps[restore]["with"]["restore-keys"]
    assert steps[restore]["with"]["key"] == steps[save]["with"]["key"] == prefix + "${{ github.sha }}"
    assert prefix == "${{ steps.cache-key.outputs.prefix }}"


def test_action_saves_the_cache_only_from_pushes_to_the_default_branch() -> None:
    steps = _steps()
    [save] = [steps[i] for i in _uses(steps, "actions/cache/save@")]
    assert saves(save["if"]) == {"push to the default branch"}
    assert saves(save["if"].replace("main", "trunk")) == {"push to the default branch"}
    for name, ctx in contexts("trunk").items():   # the default branch is the repository's, not a name
        assert evaluate(save["if"], ctx) == (name == "push to the default branch"), name
    push = contexts()["push to the default branch"]
    assert not evaluate(save["if"], push, cancelled=True)
    assert not evaluate(save["if"], {**push, "inputs.cache": "false"})
    assert not evaluate(save["if"], {**push, "steps.cache-key.outputs.prefix": ""})   # no key: opsgov not installed


def test_action_cache_false_turns_it_off() -> None:
    steps = _steps()
    cached = [s for s in steps if "cache" in str(s.get("uses", "")) or s.get("id") == "cache-key"]
    assert len(cached) == 3
    for name, ctx in contexts().items():
        for step in cached:
            assert evaluate(step["if"], {**ctx, "inputs.cache": "false"}) is False, (name, step.get("name"))
        assert all(evaluate(s["if"], ctx) for s in cached[:2]), name   # on by default: key and restore run


def governed_change(repo: Repo) -> tuple[str, str]:
    """(base, head): an operation on record, then a change that belongs to none (G001 in the range)."""
    declare(repo, OPS1, allowed=["ops/dns/**"])
    add_entry(repo, OPS1)
    base = repo.commit("an operation on record")
    repo.write(PROM, "x: 1\n")
    return base, repo.commit("unassociated")


def _wrapper(path: Path, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nexec '{sys.executable}' {command}\"$@\"\n")
    path.chmod(0o755)


def test_action_cache_key_names_this_opsgov_and_python(tmp_path: Path) -> None:
    from opsgov_hooks.speed.store import code_fingerprint

    step = next(s for s in _steps() if s.get("id") == "cache-key")
    _wrapper(tmp_path / "opsgov-venv" / "bin" / "python", "")
    output = tmp_path / "github_output"
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "RUNNER_OS": "Linux", "GITHUB_OUTPUT": str(output)}
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert output.read_text() == f"prefix=opsgov-cache-Linux-{code_fingerprint()[:16]}-\n"


def test_action_check_keeps_its_cache_where_it_is_restored_from(gate_repo: Repo, tmp_path: Path) -> None:
    """The check step, run as the runner would with the step's env: the cache lands in RUNNER_TEMP (what
    the restore and save steps carry), not in .git (which a self-hosted runner keeps between jobs)."""
    step = next(s for s in _steps() if s.get("id") == "check")
    base, _head = governed_change(gate_repo)
    _wrapper(tmp_path / "opsgov-venv" / "bin" / "opsgov", "-m opsgov_hooks ")
    ctx = {"runner.temp": str(tmp_path), "inputs.base": base, "github.sha": "HEAD", "inputs.format": "text",
           "inputs.upload-sarif": "false", "github.event.repository.default_branch": "main"}
    step_env = {k: interpolate(v, ctx) for k, v in step["env"].items()}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSGOV_")}, **step_env,
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=gate_repo.path, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 1 and " G001 " in proc.stdout, proc.stderr
    assert any((tmp_path / "opsgov-cache").iterdir())
    assert not (gate_repo.path / ".git" / "opsgov-cache").exists()


# -- ci/opsgov.gitlab-ci.yml ----------------------------------------------------------------

def _gitlab_expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: variables.get(m[1] or m[2], ""), value)


def check_gitlab_job(job: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    """The trust rule in a GitLab job: a cache in the project directory (cleaned before each job), read by
    every pipeline, written only by the default branch's, never shared with unprotected refs."""
    variables = job["variables"]
    assert variables["OPSGOV_CACHE_DIR"] == "$CI_PROJECT_DIR/.opsgov-cache"
    [cache] = job["cache"]
    assert cache["paths"] == [".opsgov-cache/"] and cache["when"] == "always"
    assert cache["policy"] == "$OPSGOV_CACHE_POLICY" and "unprotect" not in cache
    assert "$CI_DEFAULT_BRANCH" in cache["key"]
    assert variables["OPSGOV_CACHE_POLICY"] == "pull"
    pushing = [r for r in rules if r.get("variables", {}).get("OPSGOV_CACHE_POLICY", "pull") != "pull"]
    assert pushing == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
                        "variables": {"OPSGOV_CACHE_POLICY": "pull-push"}}]


def run_gitlab_script(script: list[str], variables: dict[str, str], repo: Repo, tmp_path: Path,
                      ci: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    _wrapper(bin_dir / "opsgov", "-m opsgov_hooks ")
    predefined = {"CI_PROJECT_DIR": str(repo.path), "CI_DEFAULT_BRANCH": "main", **ci}
    job_vars = {k: _gitlab_expand(str(v), predefined) for k, v in variables.items()}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSGOV_")}, **predefined, **job_vars,
           "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=repo.path, env=env, capture_output=True,
                          text=True)


def test_gitlab_template_keeps_the_cache_in_the_project_directory(gate_repo: Repo, tmp_path: Path) -> None:
    template = _load("ci/opsgov.gitlab-ci.yml")
    job = template[".opsgov"]
    check_gitlab_job(job, template["opsgov"]["rules"])
    base, head = governed_change(gate_repo)
    proc = run_gitlab_script(job["script"], job["variables"], gate_repo, tmp_path,
                             {"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_COMMIT_SHA": head})
    assert proc.returncode == 1 and " G001 " in proc.stdout, proc.stderr
    kept = gate_repo.path / job["cache"][0]["paths"][0]
    assert any(kept.iterdir())
    assert not (gate_repo.path / ".git" / "opsgov-cache").exists()


# -- docs/ci.md -----------------------------------------------------------------------------

YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


def _ci_doc_blocks() -> list[str]:
    return YAML_BLOCK.findall((ROOT / "docs" / "ci.md").read_text(encoding="utf-8"))


def test_every_yaml_block_of_the_ci_doc_parses() -> None:
    blocks = _ci_doc_blocks()
    assert len(blocks) >= 7
    for block in blocks:
        assert yaml.safe_load(block) is not None, block


def _doc_workflow() -> dict[str, Any]:
    [block] = [b for b in _ci_doc_blocks() if "actions/cache/save@" in b]
    workflow = yaml.safe_load(block)
    assert isinstance(workflow, dict)
    return workflow


def test_doc_turns_the_action_cache_off() -> None:
    [block] = [b for b in _ci_doc_blocks() if "cache: false" in b]
    [step] = yaml.safe_load(block)
    assert step["with"] == {"cache": False}       # reaches the action as the string 'false'
    restore = next(s for s in _steps() if str(s.get("uses", "")).startswith("actions/cache/restore@"))
    assert evaluate(restore["if"], {"inputs.cache": str(step["with"]["cache"]).lower()}) is False


def test_doc_workflow_saves_only_from_pushes_to_main() -> None:
    workflow = _doc_workflow()
    triggers = workflow.get("on", workflow.get(True))   # YAML 1.1 reads a bare 'on' key as true
    assert triggers["push"] == {"branches": ["main"]}
    steps = workflow["jobs"]["gate"]["steps"]
    [restore] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache/restore@")]
    [save] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache/save@")]
    assert not [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert steps.index(restore) < steps.index(save)
    assert restore["with"]["path"] == save["with"]["path"] == CACHE_PATH
    assert restore["with"]["key"] == save["with"]["key"] == restore["with"]["restore-keys"] + "${{ github.sha }}"
    assert saves(save["if"]) == {"push to the default branch"}
    assert not evaluate(save["if"], contexts()["push to the default branch"], cancelled=True)


@pytest.mark.parametrize("event", ["pull_request", "push"])
def test_doc_workflow_runs_verbatim(gate_repo: Repo, tmp_path: Path, event: str) -> None:
    """Its run steps, in order, as the runner runs them: GITHUB_ENV carries OPSGOV_CACHE_DIR to the check,
    whose cache then sits where the restore and save steps look."""
    from opsgov_hooks.speed.store import code_fingerprint

    steps = _doc_workflow()["jobs"]["gate"]["steps"]
    base, head = governed_change(gate_repo)
    bin_dir = tmp_path / "bin"
    _wrapper(bin_dir / "opsgov", "-m opsgov_hooks ")
    _wrapper(bin_dir / "python", "")
    (bin_dir / "pip").write_text("#!/bin/sh\n# stand-in: opsgov is installed in this test's environment\n")
    (bin_dir / "pip").chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    output, github_env = tmp_path / "github_output", tmp_path / "github_env"
    ctx = {"runner.temp": str(runner_temp), "github.sha": head}
    if event == "pull_request":
        ctx.update({"github.event.pull_request.base.sha": base, "github.event.pull_request.head.sha": head})
    else:
        ctx["github.event.before"] = base
    exported: dict[str, str] = {}
    codes = []
    for step in steps:
        if "run" not in step:
            continue
        step_env = {k: interpolate(v, ctx) for k, v in step.get("env", {}).items()}
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSGOV_")}, **exported, **step_env,
               "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux", "GITHUB_OUTPUT": str(output),
               "GITHUB_ENV": str(github_env), "GITHUB_SHA": head, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=gate_repo.path, env=env, capture_output=True,
                              text=True)
        codes.append(proc.returncode)
        if github_env.exists():
            exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
    assert codes == [0, 0, 1]      # pip, the key, the check (a finding: exit 1)
    assert output.read_text() == f"prefix=opsgov-cache-Linux-{code_fingerprint()[:16]}-\n"
    assert exported == {"OPSGOV_CACHE_DIR": str(runner_temp / "opsgov-cache")}
    assert interpolate(CACHE_PATH, ctx) == exported["OPSGOV_CACHE_DIR"]
    assert any((runner_temp / "opsgov-cache").iterdir())
    assert not (gate_repo.path / ".git" / "opsgov-cache").exists()


def _doc_gitlab_job() -> dict[str, Any]:
    [block] = [b for b in _ci_doc_blocks() if "OPSGOV_CACHE_POLICY" in b]
    job = yaml.safe_load(block)["opsgov"]
    assert isinstance(job, dict)
    return job


@pytest.mark.parametrize("pipeline", ["merge request", "default branch"])
def test_doc_gitlab_job_runs_verbatim(gate_repo: Repo, tmp_path: Path, pipeline: str) -> None:
    job = _doc_gitlab_job()
    check_gitlab_job(job, job["rules"])
    base, head = governed_change(gate_repo)
    ci = {"CI_COMMIT_SHA": head}
    ci.update({"CI_MERGE_REQUEST_DIFF_BASE_SHA": base} if pipeline == "merge request" else
              {"CI_COMMIT_BEFORE_SHA": base, "CI_COMMIT_BRANCH": "main"})
    proc = run_gitlab_script(job["script"], job["variables"], gate_repo, tmp_path, ci)
    assert proc.returncode == 1 and " G001 " in proc.stdout, proc.stderr
    assert any((gate_repo.path / ".opsgov-cache").iterdir())
    assert not (gate_repo.path / ".git" / "opsgov-cache").exists()
