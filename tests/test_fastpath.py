"""The no-op fast path of ``opsgov check --staged``: exit 0 only when nothing governed is staged, else defer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pathspec
import pytest

from conftest import Repo
from opsgov_hooks import console, fastpath
from opsgov_hooks.policy.config import Policy, default_policy
from opsgov_hooks.policy.globs import literal_prefix

STAGED = ["check", "--staged"]


@pytest.fixture
def committed(repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Repo:
    """A repository with one commit, as the current directory, with its own cache folder."""
    repo.write("src/app.py", "print('hi')\n")
    repo.write("ops/services/a.yaml", "a: 1\n")
    repo.commit("start")
    repo.chdir(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("OPSGOV_NO_FASTPATH", raising=False)
    return repo


def full(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The console script as installed: the fast answer, else the whole command. (exit code, stdout)"""
    monkeypatch.setattr("sys.argv", ["opsgov", *(argv or STAGED)])
    code = console.main()
    return code, capsys.readouterr().out


def commit_only(repo: Repo, path: str) -> None:
    """Commit one file, leaving the rest of the staged change staged."""
    repo.stage(path)
    repo.git("commit", "-q", "-m", f"change {path}", "--", path)


def cache_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "opsgov").glob("governed-*"))


# -- what it answers, and what it leaves to the full command ------------------------------------------

def configured_infra(repo: Repo) -> None:
    """A committed configuration governing infra/**, and an ungoverned file staged."""
    repo.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    repo.commit("config")
    repo.write("src/app.py", "print('changed')\n")
    repo.stage()


def test_nothing_staged_and_ungoverned_changes_pass(committed: Repo) -> None:
    assert fastpath.quick_check(STAGED) == 0
    assert fastpath.quick_check(["check"]) == 0
    committed.write("src/app.py", "print('changed')\n")
    committed.write("src/new file\nwith newline.py", "x = 1\n")
    committed.write("src/ops/services/a.yaml", "not under ops/\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) == 0
    committed.git("rm", "-q", "-f", "src/app.py")  # deleting an ungoverned file is still nothing governed
    assert fastpath.quick_check(STAGED) == 0


@pytest.mark.parametrize("path", ["ops/services/a.yaml", "ops/new.yaml", "docs/governance/policy.md",
                                  "ops/operations/OPS-2026-01-27-001.md", ".opsgov.yaml", "pyproject.toml"])
def test_a_governed_record_or_config_path_defers_to_the_full_check(committed: Repo, path: str) -> None:
    committed.write("src/app.py", "print('changed')\n")
    committed.write(path, "changed: 1\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None
    assert fastpath.nothing_to_judge() is False


def test_a_governed_change_fails_through_the_console_script(committed: Repo, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    code, out = full(monkeypatch, capsys)
    assert code == 1 and "ops/services/a.yaml" in out


def test_deleting_or_renaming_a_governed_file_defers(committed: Repo) -> None:
    committed.git("mv", "ops/services/a.yaml", "src/a.yaml")
    assert fastpath.quick_check(STAGED) is None
    committed.git("reset", "-q", "--hard")
    committed.git("rm", "-q", "ops/services/a.yaml")
    assert fastpath.quick_check(STAGED) is None


def test_an_unresolved_conflict_defers_and_the_full_check_refuses(committed: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    committed.git("checkout", "-q", "-b", "other")
    committed.write("src/app.py", "print('other')\n")
    committed.commit("other")
    committed.git("checkout", "-q", "-")
    committed.write("src/app.py", "print('mine')\n")
    committed.commit("mine")
    committed.git("merge", "-q", "other", check=False)
    assert "UU src/app.py" in committed.git("status", "--short")
    assert fastpath.quick_check(STAGED) is None
    assert full(monkeypatch, capsys)[0] == 2


def test_other_arguments_and_environments_defer(committed: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["check", "--all"], ["check", "--staged", "--format", "json"], ["check", "-C", "."],
                 ["validate"], ["--staged", "check"], []):
        assert fastpath.quick_check(argv) is None
    for key, value in (("PRE_COMMIT_FROM_REF", "HEAD"), ("PRE_COMMIT_TO_REF", "HEAD"), ("GITHUB_ACTIONS", "true"),
                       ("OPSGOV_NO_FASTPATH", "1")):
        with monkeypatch.context() as env:
            env.setenv(key, value)
            assert fastpath.quick_check(STAGED) is None
    assert fastpath.quick_check(STAGED) == 0


def test_no_repository_and_no_head_defer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    assert fastpath.quick_check(STAGED) is None  # not a repository
    unborn = Repo(fresh)
    unborn.git("init", "-q")
    assert fastpath.quick_check(STAGED) is None  # no HEAD yet, nothing staged
    (fresh / "x.py").write_text("x = 1\n")
    unborn.stage()
    assert fastpath.quick_check(STAGED) is None  # no HEAD yet


def test_no_git_defers(committed: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(committed.path / "no-such-dir"))
    assert fastpath.quick_check(STAGED) is None


def test_a_repository_elsewhere_even_one_named_like_an_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = Repo(tmp_path / "--output=x")
    odd.path.mkdir()
    odd.git("init", "-q")
    odd.write("ops/a.yaml", "a: 1\n")
    odd.commit("start")
    monkeypatch.chdir(tmp_path)
    assert fastpath.nothing_to_judge("--output=x") is True
    odd.write("ops/a.yaml", "a: 2\n")
    odd.stage()
    assert fastpath.nothing_to_judge("--output=x") is False
    assert not (tmp_path / "x").exists()


def probe(repo: Repo, tmp_path: Path, *argv: str, whole: bool = False) -> tuple[int, list[str], list[str]]:
    """The console script's ``main`` in a fresh interpreter: (exit code, modules it imported, git commands run:
    their names, or with ``whole`` their whole argument lists)."""
    code = ("import sys, json\nbefore = set(sys.modules)\nsys.argv = ['opsgov', *sys.argv[1:]]\n"
            "from opsgov_hooks.console import main\ncode = main()\n"
            "print(json.dumps([code, sorted(set(sys.modules) - before)]))\n")
    trace = tmp_path / "trace"
    proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, "GIT_TRACE": str(trace)}, check=True)
    exit_code, modules = json.loads(proc.stdout.splitlines()[-1])
    runs = [line.split("trace: built-in: git ", 1)[1] for line in trace.read_text().splitlines()
            if "trace: built-in: git " in line]
    commands = sorted(run if whole else run.split()[0] for run in runs)
    trace.unlink()
    return exit_code, modules, commands


def test_the_full_command_asks_the_same_question(committed: Repo, tmp_path: Path) -> None:
    committed.write("src/app.py", "print('changed')\n")
    committed.stage()
    code, modules, _ = probe(committed, tmp_path, "check", "--format", "json")
    assert code == 0 and "click" in modules and "yaml" not in modules   # answered without the policy
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    code, modules, _ = probe(committed, tmp_path, "check", "--format", "json")
    assert code == 1 and "yaml" in modules


def test_the_full_command_does_not_ask_again_what_the_console_script_asked(committed: Repo, tmp_path: Path) -> None:
    """``opsgov check`` on a governed change: one ``diff-index`` for the fast question, not two."""
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    fast = "diff-index --cached -z --name-status --no-renames HEAD --"
    code, _modules, commands = probe(committed, tmp_path, "check", whole=True)
    assert code == 1 and sum(fast in c for c in commands) == 1
    # Any other arguments: main() does not ask, the full command does (once).
    code, _modules, commands = probe(committed, tmp_path, "check", "--format", "json", whole=True)
    assert code == 1 and sum(fast in c for c in commands) == 1


def test_a_governed_commit_answered_from_the_caches_loads_neither_libyaml_nor_detect_secrets(
        committed: Repo, tmp_path: Path) -> None:
    """The second run of the same governed change reads records from the cache and screens its lines
    with the kept screen: the YAML parser and the secret scanner are never imported."""
    committed.write("ops/services/a.yaml", "replicas: 3\n")
    committed.stage()
    first = probe(committed, tmp_path, "check")
    second = probe(committed, tmp_path, "check")
    assert first[0] == second[0] == 1 and "detect_secrets" in first[1]
    assert not {"yaml.reader", "yaml._yaml", "detect_secrets"} & set(second[1])


# -- a configured policy, through the cache the full command writes -------------------------------------

GLOBS = "governed_paths:\n  - 'infra/*/prod/**'\n  - '**/*.tf'\n  - 'deploy/**'\n  - '!deploy/docs/**'\n"


def test_a_configured_policy_is_answered_through_the_cache(committed: Repo, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    committed.write(".opsgov.yaml", GLOBS)
    committed.commit("config")
    committed.write("src/app.py", "print('changed')\n")
    committed.write("ops/services/a.yaml", "a: 2\n")   # not governed by this policy
    committed.write("infra/eu/staging/main.yaml", "x\n")
    committed.write("deploy/docs/readme.md", "x\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None        # first time: no rules for this configuration yet
    assert full(monkeypatch, capsys) == (0, "")         # the full command reads it, and remembers its rules
    assert len(cache_entries(tmp_path)) == 1
    assert fastpath.quick_check(STAGED) == 0
    for path in ("infra/eu/prod/main.yaml", "src/main.tf", "deploy/app.yaml", "ops/operations/OPS-2026-01-27-001.md",
                 "ops/ledger/2026-01.yaml"):
        committed.write(path, "x: 1\n")
        committed.stage()
        assert fastpath.quick_check(STAGED) is None, path
        assert full(monkeypatch, capsys)[0] == 1, path
        committed.git("rm", "-q", "--cached", "--", path)
        (committed.path / path).unlink()
    assert fastpath.quick_check(STAGED) == 0


def test_the_answer_imports_nothing_and_runs_two_git_commands(committed: Repo, tmp_path: Path) -> None:
    configured_infra(committed)
    code, modules, _ = probe(committed, tmp_path, "check")
    assert code == 0 and "yaml" in modules and "opsgov_hooks.check.pipeline" in modules   # no rules yet: the full check ran
    code, modules, commands = probe(committed, tmp_path, "check")
    assert code == 0 and commands == ["cat-file", "diff-index"]
    assert set(modules) <= {"__future__", "opsgov_hooks", "opsgov_hooks.console", "opsgov_hooks.fastpath", "_blake2"}, modules


def test_a_stale_entry_for_other_configuration_bytes_is_not_used(committed: Repo, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    configured_infra(committed)
    assert full(monkeypatch, capsys) == (0, "")
    assert fastpath.quick_check(STAGED) == 0
    committed.write(".opsgov.yaml", "governed_paths:\n  - src/**\n")   # now src/ is governed
    commit_only(committed, ".opsgov.yaml")
    assert fastpath.quick_check(STAGED) is None
    assert full(monkeypatch, capsys)[0] == 1
    committed.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")  # back: the first entry is right again
    commit_only(committed, ".opsgov.yaml")
    assert fastpath.quick_check(STAGED) == 0
    assert len(cache_entries(tmp_path)) == 2


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe", b"opsgov-governed-1\0rops/operations\0gsrc/**",
                                     b"opsgov-governed-1\0xwhat\0end", b"prefixes\ninfra/\n"])
def test_a_corrupt_cache_entry_is_ignored_and_rewritten(committed: Repo, tmp_path: Path, garbage: bytes,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    configured_infra(committed)
    assert full(monkeypatch, capsys) == (0, "")
    [entry] = cache_entries(tmp_path)
    entry.write_bytes(garbage)
    assert fastpath.quick_check(STAGED) is None
    assert full(monkeypatch, capsys) == (0, "")
    assert fastpath.quick_check(STAGED) == 0


def test_an_unreadable_cache_folder_is_no_cache(committed: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cache").write_text("a file where the folder should be\n")
    configured_infra(committed)
    assert full(monkeypatch, capsys) == (0, "")
    assert fastpath.quick_check(STAGED) is None


def test_the_cache_folder_follows_xdg(committed: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")   # ignored, as the XDG rules say
    path = fastpath.cache_file(b"x", None)
    assert path is not None and path.startswith(os.path.join(os.environ["HOME"], ".cache", "opsgov") + os.sep)
    assert fastpath.cache_file(b"x", None) != fastpath.cache_file(None, b"x") != fastpath.cache_file(b"x", b"")


@pytest.mark.parametrize("config", ["governed_paths:\n  - infra/**\n", "governed_paths: [\n"])
def test_a_staged_or_broken_configuration_takes_the_full_path(committed: Repo, tmp_path: Path, config: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    committed.write(".opsgov.yaml", config)
    committed.stage()
    assert fastpath.quick_check(STAGED) is None   # staged: the full command judges the edit
    committed.commit("config")
    committed.write("src/app.py", "print('changed')\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None
    code, _ = full(monkeypatch, capsys)
    assert code == (0 if "infra" in config else 2)
    assert len(cache_entries(tmp_path)) == (1 if "infra" in config else 0)


def test_pyproject_configuration_counts(committed: Repo, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    committed.write("pyproject.toml", "[project]\nname = 'x'\n\n[tool.opsgov]\ngoverned_paths = ['deploy/**']\n")
    committed.commit("config")
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    assert full(monkeypatch, capsys) == (0, "")
    assert fastpath.quick_check(STAGED) == 0
    committed.write("deploy/x.yaml", "x\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None


def test_a_pyproject_without_opsgov_is_the_default_policy_once_read(committed: Repo, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    committed.write("pyproject.toml", "[project]\nname = 'x'\n")
    committed.commit("config")
    committed.write("src/app.py", "print('changed')\n")
    committed.stage()
    assert fastpath.quick_check(STAGED) is None   # it could be broken, or configure opsgov: only the full command knows
    assert full(monkeypatch, capsys) == (0, "")
    assert fastpath.quick_check(STAGED) == 0
    assert cache_entries(tmp_path)[0].read_bytes().split(b"\0") == [
        b"opsgov-governed-1", b"rops/operations", b"rops/ledger", b"aops/", b"adocs/governance/", b"gops/**",
        b"gdocs/governance/**", b"end"]


# -- the rules ------------------------------------------------------------------------------------------

def test_default_rules_are_the_default_policy() -> None:
    assert fastpath.DEFAULT_RULES == fastpath.rules_of(default_policy())


PATTERN_LISTS = [["ops/**", "docs/governance/**"], ["*.pem"], ["ops/"], ["src/**", "!src/ops/**"],
                 ["infra/*/prod/**", "deploy/**", "!deploy/docs/**"], ["/etc/x.conf"], ["a/b*/c"], []]


@pytest.mark.parametrize("path", ["ops", "ops/a", "docs/governance/x.md", "src/ops/a", "x.pem", "docs/other",
                                  "src/a", "infra/eu/prod/x", "infra/eu/staging/x", "deploy/docs/a", "deploy/a",
                                  "etc/x.conf", "a/bb/c", "a/c", "deploy"])
def test_the_rules_agree_with_pathspec(path: str) -> None:
    for patterns in PATTERN_LISTS:
        rules = fastpath.rules_of(Policy(governed_paths=tuple(patterns), operations_dir="records",
                                         ledger_backend="tags", ledger_path=""))
        expected = pathspec.GitIgnoreSpec.from_lines(patterns).match_file(path)
        assert fastpath.may_be_governed(rules, [path]) is expected, (patterns, path)


@pytest.mark.parametrize("patterns", PATTERN_LISTS)
def test_remembered_rules_read_back_the_same(patterns: list[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    policy = Policy(governed_paths=tuple(patterns))
    fastpath.remember(b"governed_paths: ...", None, policy)
    assert fastpath.rules_for(b"1234 blob 19\ngoverned_paths: ...\nHEAD:pyproject.toml missing\n") \
        == fastpath.rules_of(policy)
    assert fastpath.rules_for(b"1234 blob 19\ngoverned_paths: !!!\nHEAD:pyproject.toml missing\n") is None


@pytest.mark.parametrize(("pattern", "prefix"), [
    ("ops/**", "ops/"), ("/ops/x.yml", "ops/"), ("docs/governance/**", "docs/governance/"), ("a/b*/c", "a/"),
    ("*.pem", None), ("ops/", None), ("ops", None), ("o*/x", None), ("!ops/x", ""),
])
def test_literal_prefix(pattern: str, prefix: str | None) -> None:
    assert literal_prefix(pattern) == prefix


@pytest.mark.parametrize(("out", "expected"), [
    (b"", []), (b"M\0a\0D\0b\0T\0c\0A\0d\ne\0", ["a", "b", "c", "d\ne"]), (b"M\0\xff\0", ["\udcff"]),
    (b"U\0a\0", None), (b"X\0a\0", None), (b"R100\0a\0", None), (b"M\0a", None), (b"M\0", None),
])
def test_staged_paths(out: bytes, expected: list[str] | None) -> None:
    assert fastpath.staged_paths(out) == expected


@pytest.mark.parametrize(("out", "expected"), [
    (b"HEAD:.opsgov.yaml missing\nHEAD:pyproject.toml missing\n", (None, None)),
    (b"1234 blob 3\na\nb\nHEAD:pyproject.toml missing\n", (b"a\nb", None)),
    (b"HEAD:.opsgov.yaml missing\n1234 blob 0\n\n", (None, b"")),
    (b"1234 tree 3\nabc\nHEAD:pyproject.toml missing\n", None),
    (b"1234 blob 9\nabc\n", None), (b"HEAD:.opsgov.yaml missing\n", None), (b"", None),
    (b"HEAD:.opsgov.yaml missing\nHEAD:pyproject.toml missing\nextra", None),
])
def test_batch_contents(out: bytes, expected: tuple[bytes | None, bytes | None] | None) -> None:
    assert fastpath.batch_contents(out) == expected


def test_main_falls_back_to_the_full_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["opsgov", "--version"])
    assert console.main() == 0
    assert capsys.readouterr().out == "opsgov, version 0.1.0\n"


# -- the staged check without the command-line parser ----------------------------------------------------

def _both(repo: Path, argv: list[str], env: dict[str, str]) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of the console script's main and of ``python -m opsgov_hooks`` (Click)."""
    runs = []
    for code in ("import sys; from opsgov_hooks.console import main; sys.argv = ['opsgov', *sys.argv[1:]]; "
                 "sys.exit(main())",
                 "import sys; from opsgov_hooks.cli import main; sys.exit(main(sys.argv[1:]))"):
        proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=repo, capture_output=True, text=True,
                              env={**os.environ, **env}, check=False)
        runs.append((proc.returncode, proc.stdout, proc.stderr))
    return runs


@pytest.mark.parametrize("env", [{}, {"GITHUB_ACTIONS": "true"}, {"OPSGOV_NO_FASTPATH": "1"}])
@pytest.mark.parametrize("argv", [["check"], ["check", "--staged"]])
def test_the_console_script_s_staged_check_answers_as_the_command_does(committed: Repo, tmp_path: Path,
                                                                       argv: list[str], env: dict[str, str]) -> None:
    committed.write("ops/services/a.yaml", "a: 2\n")   # governed, covered by no operation: findings
    committed.stage()
    fast, click = _both(committed.path, argv, env)
    assert fast == click and fast[0] == 1 and fast[1]
    committed.git("reset", "-q", "--hard")
    fast, click = _both(committed.path, argv, env)   # nothing staged
    assert fast == click and fast[0] == 0


def test_an_environment_problem_is_the_same_exit_2_without_the_parser(tmp_path: Path) -> None:
    bare = tmp_path / "not-a-repository"
    bare.mkdir()
    fast, click = _both(bare, ["check"], {"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert fast == click and fast[0] == 2 and fast[2].startswith("opsgov: error: ")


def test_pre_commit_s_range_reaches_the_same_mode_without_the_parser(committed: Repo) -> None:
    first = committed.git("rev-parse", "HEAD").strip()
    committed.write("ops/services/a.yaml", "a: 3\n")
    committed.commit("ungoverned change")
    env = {"PRE_COMMIT_FROM_REF": first, "PRE_COMMIT_TO_REF": "HEAD"}
    fast, click = _both(committed.path, ["check"], env)
    assert fast == click and fast[0] == 1 and "(commit " in fast[1]


# -- the installed script exits without tearing the interpreter down --------------------------------------

def _script(repo: Path, entry: str, *argv: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from opsgov_hooks.console import {entry}; sys.argv = ['opsgov', *sys.argv[1:]]; "
    code += "sys.exit(main())" if entry == "main" else "run()"
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=repo, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, check=False)


@pytest.mark.parametrize("argv", [["check"], ["check", "--format", "json"], ["explain", "G001"], ["nonsense"]])
def test_the_script_s_fast_exit_says_and_returns_what_main_does(committed: Repo, argv: list[str]) -> None:
    committed.write("ops/services/a.yaml", "a: 2\n")
    committed.stage()
    fast, normal = _script(committed.path, "run", *argv), _script(committed.path, "main", *argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (normal.returncode, normal.stdout, normal.stderr)
    assert fast.stdout or fast.stderr


def test_a_reader_that_leaves_early_gets_exit_1_and_no_traceback(committed: Repo) -> None:
    """``opsgov explain ... | head -c 1``: the output that could not be written is not a crash."""
    code = ("import sys; from opsgov_hooks.console import run; sys.argv = ['opsgov', 'explain', 'G001']; "
            "sys.stdout = open(sys.stdout.fileno(), 'w', buffering=1 << 20, closefd=False); run()")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=committed.path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()   # the reader is gone before the script writes
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1 and b"Traceback" not in err
