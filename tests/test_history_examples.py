"""One failing and one passing example per code that needs git history (G, H, T, P, A and a few others).

A history example is a side folder (``tests/examples/<CODE>/{fail,pass}/``) holding ``example.yaml``
and the folders of files its steps copy. The steps build a real repository in a temporary folder
(its own identity, as CI has none), then ``run`` one opsgov command on it with ``--format json``:
the failing side must exit 1 and report the code, the passing side must exit 0 without it.
The passing side is the failing side with the one fault fixed.

``example.yaml`` is a list of steps under ``steps:``; each step is a mapping with one action and
its options.

``use: NAME``              run the steps of ``tests/examples/_base/NAME/base.yaml`` (shared setups)
``files: DIR`` or ``[DIR, ...]``  copy DIRs over the work tree
``stage: DIR``             copy DIR over the work tree and ``git add`` it (for ``check --staged``)
``remove: [PATH, ...]``    delete paths from the work tree
``commit: MESSAGE``        ``git add -A`` and commit (``date:`` author and committer date, ``sign: true``)
``branch: NAME``           create a branch at HEAD (``from:`` another revision), stay where we are
``checkout: NAME``         switch to a branch
``merge: NAME``            merge a branch into the current one (``message:``), a real merge commit
``tag: NAME``              a lightweight tag, or annotated with ``message-from: FILE`` (``sign: true``);
                           ``at:`` a revision, ``date:`` the tagger's date
``keys: [WHO, ...]``       write an allowed-signers file (``to:``) with fresh ssh-keygen keys of these people
``become: WHO``            the repository now commits and signs as WHO@example.com (``email:`` overrides)
``approve: OPS-ID``        ``opsgov approve OPS-ID --yes`` as the current identity, at ``at:`` (fixed time)
``clone: {depth: N}``      the repository becomes a clone of itself (shallow with ``depth``)
``run: [ARG, ...]``        the opsgov command judged; the last step (``-C`` and ``--format json`` added)

A folder or file a step names is relative to the YAML file naming it, or under tests/examples
when it starts with ``_base/`` (files shared by several examples).

Any step may carry ``name: LABEL``: the commit HEAD points at after the step (after a ``tag`` step,
the tag's own object). ``{LABEL}`` in a later step's arguments, and ``@{LABEL}`` in the text of
files a later step copies, are replaced by its full id.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.register_assert_rewrite("approval_helpers")

from approval_helpers import approve, become, signers_text  # noqa: E402
from conftest import Repo, init_repo  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
BASES = EXAMPLES / "_base"
CASES = sorted((p.parent.parent.name, p.parent.name) for p in EXAMPLES.glob("[!_]*/*/example.yaml"))

# Every action, and the options it takes besides ``name``.
ACTIONS: dict[str, frozenset[str]] = {
    "use": frozenset(), "files": frozenset(), "stage": frozenset(), "remove": frozenset(),
    "commit": frozenset({"date", "sign"}), "branch": frozenset({"from"}), "checkout": frozenset(),
    "merge": frozenset({"message"}), "tag": frozenset({"message-from", "at", "date", "sign"}),
    "keys": frozenset({"to"}), "become": frozenset({"email"}), "approve": frozenset({"at"}),
    "clone": frozenset({"depth"}), "run": frozenset(),
}
LABEL = re.compile(r"\{([A-Za-z0-9_-]+)\}")


@dataclasses.dataclass(frozen=True)
class Step:
    action: str
    value: Any
    options: dict[str, Any]
    folder: Path           # the folder of the YAML file naming this step: its folders are relative to it
    name: str | None


def load_steps(path: Path) -> list[Step]:
    """The steps of one YAML file, checked: an unknown action or option is a broken example, not a no-op."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"steps"}, f"{path}: a mapping with 'steps' only"
    steps: list[Step] = []
    for raw in data["steps"]:
        actions = [key for key in raw if key in ACTIONS]
        assert len(actions) == 1, f"{path}: {raw}: exactly one action of {sorted(ACTIONS)}"
        action = actions[0]
        options = {k: v for k, v in raw.items() if k not in (action, "name")}
        assert set(options) <= ACTIONS[action], f"{path}: {action} takes {sorted(ACTIONS[action])}, not {options}"
        steps.append(Step(action, raw[action], options, path.parent, raw.get("name")))
    return steps


def resolve(step: Step, name: str) -> Path:
    """A folder or file a step names: relative to its YAML file, or a shared one under ``_base/``."""
    return EXAMPLES / name if name.startswith("_base/") else step.folder / name


class Builder:
    """Plays the steps on a fresh repository; keeps the named revisions and the people's keys."""

    def __init__(self, root: Path, run_cli: Any) -> None:
        self.run_cli = run_cli             # conftest's in-process opsgov: (exit code, stdout, stderr)
        self.root = root
        self.repo = init_repo(root / "repo")
        self.keys = root / "keys"          # outside the work tree: private keys are never committed
        self.keys.mkdir()
        self.names: dict[str, str] = {}

    def fill(self, text: str, mark: str = "") -> str:
        """``{LABEL}`` (``@{LABEL}`` in files) replaced by the named object's full id."""
        return re.sub(re.escape(mark) + LABEL.pattern, lambda m: self.names[m.group(1)], text)

    def copy(self, step: Step) -> None:
        for name in step.value if isinstance(step.value, list) else [step.value]:
            folder = resolve(step, name)
            assert folder.is_dir(), f"no folder {folder}"
            for source in sorted(p for p in folder.rglob("*") if p.is_file()):
                text = source.read_bytes()
                if b"@{" in text:
                    text = self.fill(text.decode("utf-8"), "@").encode("utf-8")
                self.repo.write(source.relative_to(folder).as_posix(), text)

    def play(self, steps: list[Step]) -> tuple[int, str, str] | None:
        result = None
        for step in steps:
            assert result is None, "'run' must be the last step"
            result = self.do(step)
            if step.name:
                target = f"refs/tags/{step.value}" if step.action == "tag" else "HEAD"
                self.names[step.name] = self.repo.git("rev-parse", "--verify", target).strip()
        return result

    def do(self, step: Step) -> tuple[int, str, str] | None:
        repo, value, opts = self.repo, step.value, step.options
        if step.action == "use":
            assert self.play(load_steps(BASES / value / "base.yaml")) is None, "a base runs nothing"
        elif step.action in ("files", "stage"):
            self.copy(step)
            if step.action == "stage":
                repo.stage()
        elif step.action == "remove":
            for rel in value:
                (repo.path / rel).unlink()
        elif step.action == "commit":
            self.git(opts, "commit", "-q", "--allow-empty", *(["-S"] if opts.get("sign") else []), "-m", value,
                     stage=True)
        elif step.action == "branch":
            repo.git("branch", "--", value, self.fill(opts.get("from", "HEAD")))
        elif step.action == "checkout":
            repo.git("switch", "-q", value)
        elif step.action == "merge":
            repo.git("merge", "-q", "--no-ff", "-m", opts.get("message", f"Merge {value}"), value)
        elif step.action == "tag":
            message = ["-F", str(resolve(step, opts["message-from"]))] if "message-from" in opts else []
            kind = ["-s"] if opts.get("sign") else ["-a"] if message else []
            self.git(opts, "tag", *kind, *message, "--", value, self.fill(opts.get("at", "HEAD")))
        elif step.action == "keys":
            repo.write(opts["to"], signers_text(self.keys, *value))
        elif step.action == "become":
            become(repo, self.keys, value, opts.get("email"))
        elif step.action == "approve":
            when = datetime.datetime.fromisoformat(str(opts["at"]).replace("Z", "+00:00"))
            status, said = approve(repo, value, when)
            assert status == 0, said
        elif step.action == "clone":
            self.clone(opts.get("depth"))
        else:
            return self.run_cli(*(self.fill(str(arg)) for arg in value), "-C", str(repo.path), "--format", "json")
        return None

    def git(self, opts: dict[str, Any], *args: str, stage: bool = False) -> None:
        """A git command that may take a fixed date (commits and tags)."""
        date = opts.get("date")
        env = {**os.environ, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
        if stage:
            self.repo.stage()
        subprocess.run(("git", *args), cwd=self.repo.path, check=True, env=env, capture_output=True)

    def clone(self, depth: int | None) -> None:
        """The repository becomes a clone of itself (``file://``, so ``--depth`` is honoured), tags and all."""
        source, self.repo = self.repo, Repo(self.root / "clone")
        subprocess.run(("git", "clone", "-q", *(["--depth", str(depth)] if depth else []), "--no-single-branch",
                        source.path.as_uri(), str(self.repo.path)), check=True, capture_output=True)
        fresh = init_repo(self.repo.path)   # the identity and no-signing config of every repository here
        assert fresh.path == self.repo.path


def reported(out: str) -> set[str]:
    """The codes of the findings in a JSON report (check, tag and report all print ``findings``)."""
    return {finding["code"] for finding in json.loads(out)["findings"]} if out.strip() else set()


def build_and_run(code: str, side: str, tmp_path: Path, run_cli: Any) -> tuple[int, set[str], str]:
    result = Builder(tmp_path, run_cli).play(load_steps(EXAMPLES / code / side / "example.yaml"))
    assert result is not None, "an example ends with a 'run' step"
    status, out, err = result
    assert "Traceback" not in err, err
    return status, reported(out), out + err


@pytest.mark.parametrize(("code", "side"), CASES, ids=[f"{c}-{s}" for c, s in CASES])
def test_history_example(code: str, side: str, tmp_path: Path, run_cli: Any) -> None:
    status, found, said = build_and_run(code, side, tmp_path, run_cli)
    if side == "fail":
        assert (status, code in found) == (1, True), said
    else:
        assert (status, code in found) == (0, False), said


def test_every_history_example_has_both_sides() -> None:
    assert CASES
    for code in {c for c, _side in CASES}:
        assert {s for c, s in CASES if c == code} == {"fail", "pass"}, code
        assert (EXAMPLES / code / "README.md").read_text(encoding="utf-8").startswith(f"{code}: ")
