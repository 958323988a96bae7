"""One failing and one passing example per code that needs git history (G, H, T, P, A and a few others).

A history example is a side folder (``tests/examples/<CODE>/{fail,pass}/``) holding ``example.yaml``
and the folders of files its steps copy. The steps build a real repository in a temporary folder
(its own identity, as CI has none), then judge it once, in ``--format json``: one opsgov command
(``run``) or one push through a server's pre-receive hook (``push``). The failing side must
report the code and nothing else (but for the companions a fault brings by its nature) and
exit 1 (0 for a warning); the passing side must exit 0 without it.
The passing side is the failing side with the one fault fixed.

``example.yaml`` is a list of steps under ``steps:``; each step is a mapping with one action and
its options.

``use: NAME``              run the steps of ``tests/examples/_base/NAME/base.yaml`` (shared setups)
``files: DIR`` or ``[DIR, ...]``  copy DIRs over the work tree
``stage: DIR``             the same, then ``git add`` (for ``check --staged``)
``remove: [PATH, ...]``    delete paths from the work tree
``commit: MESSAGE``        ``git add -A`` and commit (``sign: true``: signed with the current identity's key)
``branch: NAME``           create a branch at HEAD (``from:`` another revision), stay where we are
``checkout: NAME``         switch to a branch
``merge: NAME``            merge a branch into the current one: a real merge commit
``tag: NAME``              a lightweight tag, or annotated with ``message-from: FILE`` (``sign: true``);
                           ``at:`` a revision (default HEAD)
``keys: [WHO, ...]``       write an allowed-signers file (``to:``) with fresh ssh-keygen keys of these people
``become: WHO``            the repository now commits and signs as WHO@example.com (``email:`` overrides)
``approve: OPS-ID``        ``opsgov approve OPS-ID --yes`` as the current identity, at ``at:`` (fixed time)
``clone: {depth: N}``      the repository becomes a clone of itself (shallow with ``depth``)
``push: BRANCH``           push it (and its tags) to a bare repository whose pre-receive hook runs
                           ``opsgov check --pre-receive --format json``; the hook's answer is the result
                           of the last step, and any earlier push must be accepted
``run: [ARG, ...]``        the opsgov command judged; the last step (``-C`` and ``--format json`` added)

A folder or file a step names is relative to the YAML file naming it, or under tests/examples
when it starts with ``_base/`` (files shared by several examples).

Any step may carry ``name: LABEL``: the commit HEAD points at after the step (after a ``tag`` step,
the tag's own object). ``{LABEL}`` in a later step's arguments, and ``@{LABEL}`` in the text of
files a later step copies (and tag messages), are replaced by its full id.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.register_assert_rewrite("approval_helpers")

from approval_helpers import approve, become, signers_text  # noqa: E402
from conftest import Repo, init_repo  # noqa: E402
from opsgov_hooks import codes  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
BASES = EXAMPLES / "_base"
CASES = sorted((p.parent.parent.name, p.parent.name) for p in EXAMPLES.glob("[!_]*/*/example.yaml"))
HISTORY_FAMILIES = "GHTPA"
# The failing side reports its code and nothing else, but for a fault that by its nature brings another.
COMPANIONS = {
    "G002": {"G004", "G009"},   # an undeclared operation permits no path, and its Ops-Id trailer names nothing
    "T003": {"T004"},           # a copied seal carries the other operation's entry under this tag's name
    "P004": {"P008"},           # the ledger names bob as approver, the signature is carol's
    "P005": {"L102"},           # the requester recorded as her own approver is the sign-off rule's finding too
}
# Codes no repository can make opsgov report, and why (an example would have to fake it).
UNREACHABLE = {
    "A002": "an overdue emergency approval is always reported first by the ledger's own rule (L107, same operation "
            "and area), and 'opsgov report' then leaves A002 out as already said (audit/analyse.py)",
}

# Every action, and the options it takes besides ``name``.
ACTIONS: dict[str, frozenset[str]] = {
    "use": frozenset(), "files": frozenset(), "stage": frozenset(), "remove": frozenset(),
    "commit": frozenset({"sign"}), "branch": frozenset({"from"}), "checkout": frozenset(),
    "merge": frozenset(), "tag": frozenset({"message-from", "at", "sign"}),
    "keys": frozenset({"to"}), "become": frozenset({"email"}), "approve": frozenset({"at"}),
    "clone": frozenset(), "push": frozenset(), "run": frozenset(),
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
            assert result is None or result[0] == 0 and steps[-1].action == "push", \
                f"only the last step is judged: 'run' comes last, and an earlier push must be accepted: {result}"
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
            repo.stage()
            repo.git("commit", "-q", "--allow-empty", *(["-S"] if opts.get("sign") else []), "-m", value)
        elif step.action == "branch":
            repo.git("branch", "--", value, self.fill(opts.get("from", "HEAD")))
        elif step.action == "checkout":
            repo.git("switch", "-q", value)
        elif step.action == "merge":
            repo.git("merge", "-q", "--no-ff", "-m", f"Merge branch '{value}'", value)
        elif step.action == "tag":
            message = self.fill(resolve(step, opts["message-from"]).read_text(encoding="utf-8"), "@") \
                if "message-from" in opts else None
            assert message is not None or not opts.get("sign"), "a signed tag is an annotated one: message-from"
            kind = [] if message is None else ["-s" if opts.get("sign") else "-a", "-F", "-"]
            repo.git("tag", *kind, "--", value, self.fill(opts.get("at", "HEAD")),
                     input=None if message is None else message.encode("utf-8"))
        elif step.action == "keys":
            repo.write(opts["to"], signers_text(self.keys, *value))
        elif step.action == "become":
            become(repo, self.keys, value, opts.get("email"))
        elif step.action == "approve":
            when = datetime.datetime.fromisoformat(str(opts["at"]).replace("Z", "+00:00"))
            status, said = approve(repo, value, when)
            assert status == 0, said
        elif step.action == "push":
            return self.push(value)
        elif step.action == "clone":
            assert isinstance(value, dict) and set(value) <= {"depth"}, f"clone takes {{depth: N}}, not {value}"
            self.clone(value.get("depth"))
        else:
            return self.run_cli(*(self.fill(str(arg)) for arg in value), "-C", str(repo.path), "--format", "json")
        return None

    def push(self, branch: str) -> tuple[int, str, str]:
        """``git push --follow-tags`` to the server; the pre-receive hook's exit status and output."""
        server = self.root / "server.git"
        if not server.exists():
            subprocess.run(("git", "init", "-q", "--bare", "-b", "main", str(server)), check=True)
            hook = server / "hooks" / "pre-receive"
            # The hook keeps its own answer: git only shows its output, prefixed, among its own lines.
            hook.write_text(f"#!/bin/sh\n'{sys.executable}' -m opsgov_hooks check --pre-receive --format json "
                            ">judged.out 2>judged.err\nstatus=$?\necho $status >judged.status\nexit $status\n",
                            encoding="utf-8")
            hook.chmod(0o755)
        for answer in server.glob("judged.*"):
            answer.unlink()
        self.repo.git("push", "-q", "--follow-tags", str(server), branch, check=False)
        status = (server / "judged.status").read_text(encoding="utf-8")   # absent: the hook never ran
        return int(status), *((server / f"judged.{kind}").read_text(encoding="utf-8") for kind in ("out", "err"))

    def clone(self, depth: int | None) -> None:
        """The repository becomes a clone of itself (``file://``, so ``--depth`` is honoured), tags and all."""
        source, self.repo = self.repo, Repo(self.root / "clone")
        subprocess.run(("git", "clone", "-q", *(["--depth", str(depth)] if depth else []), "--no-single-branch",
                        source.path.as_uri(), str(self.repo.path)), check=True, capture_output=True)
        init_repo(self.repo.path)   # the identity and no-signing config every repository here has


def reported(out: str) -> list[dict[str, Any]]:
    """The findings of a JSON report (check, tag and report all print ``findings``; a tag made prints nothing)."""
    return list(json.loads(out)["findings"]) if out.strip() else []


def build_and_run(code: str, side: str, tmp_path: Path, run_cli: Any) -> tuple[int, list[dict[str, Any]], str]:
    result = Builder(tmp_path, run_cli).play(load_steps(EXAMPLES / code / side / "example.yaml"))
    assert result is not None, "an example ends with a 'run' step"
    status, out, err = result
    assert "Traceback" not in err, err
    return status, reported(out), out + err


@pytest.mark.parametrize(("code", "side"), CASES, ids=[f"{c}-{s}" for c, s in CASES])
def test_history_example(code: str, side: str, tmp_path: Path, run_cli: Any) -> None:
    status, findings, said = build_and_run(code, side, tmp_path, run_cli)
    mine = [f for f in findings if f["code"] == code]
    if side == "pass":
        assert (status, mine) == (0, []), said
        return
    assert {f["code"] for f in findings} == {code} | COMPANIONS.get(code, set()), said
    assert status == (1 if any(f["severity"] == "error" for f in findings) else 0), said


def test_every_code_that_needs_history_has_an_example_or_a_reason() -> None:
    covered = {code for code, _side in CASES}
    missing = [c for c in codes.CODES if c[0] in HISTORY_FAMILIES and c not in covered and c not in UNREACHABLE]
    assert missing == [], f"add tests/examples/<CODE>/{{fail,pass}}/example.yaml for {missing}"
    assert not covered & set(UNREACHABLE), "an example exists: drop the code from UNREACHABLE"


def test_every_history_example_has_both_sides() -> None:
    assert CASES
    for code in {c for c, _side in CASES}:
        assert {s for c, s in CASES if c == code} == {"fail", "pass"}, code
        readme = (EXAMPLES / code / "README.md").read_text(encoding="utf-8")
        assert readme.startswith(f"{code}: ") and readme.count("\n") == 1, readme


@pytest.mark.parametrize("step", ["comit: typo", "commit: x\n    sgin: true", "files: a\n    commit: b"])
def test_a_misspelt_step_breaks_the_example_instead_of_doing_nothing(step: str, tmp_path: Path) -> None:
    (tmp_path / "example.yaml").write_text(f"steps:\n  - {step}\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        load_steps(tmp_path / "example.yaml")
