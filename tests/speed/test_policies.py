"""The policy kept by the bytes of the configuration: the same policy, without reading it again; a broken
configuration is never kept, and a kept row that is not a policy is a miss."""
from __future__ import annotations

import json
import marshal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, operation  # noqa: E402

from opsgov_hooks.git.gitio import Git  # noqa: E402
from opsgov_hooks.policy.config import (Policy, default_policy, policy_from_plain, policy_to_plain,  # noqa: E402
                                        resolve_policy)
from opsgov_hooks.speed import policies  # noqa: E402
from opsgov_hooks.speed.kv import open_kv  # noqa: E402

pytest_plugins = ["conftest_gate"]

CONFIG = b"""\
version: 1
governed_paths: ['ops/**', 'deploy/**', '!deploy/docs/**']
custom_risk_classes: [DATABASE_MIGRATION]
approvers: [alice, bob]
signoff: {LOW_RISK_CONFIG: required}
forbidden:
  - id: no-prod-db
    message: no production database dumps
    paths: ['**/*.dump']
    patterns: ['pg_dump\\s+prod']
    applies_to: all
  - id: keys
    message: no keys
    paths: ['**/*.pem']
    secrets: true
evidence_patterns:
  functional: ['\\bcurl\\b']
opaque_commands: allow
"""
PYPROJECT = b'[project]\nname = "x"\n\n[tool.opsgov]\ngoverned_paths = ["infra/**"]\nsolo_mode = true\n'


@pytest.mark.parametrize("sources", [(CONFIG, None), (None, PYPROJECT), (b"# only a comment\n", None), (None, None)])
def test_a_policy_survives_the_cache_s_round_trip_unchanged(sources: tuple[bytes | None, bytes | None]) -> None:
    policy = resolve_policy(*sources)
    kept = policy_from_plain(marshal.loads(marshal.dumps(policy_to_plain(policy))))
    assert kept == policy and isinstance(kept.forbidden[0], type(default_policy().forbidden[0]))
    assert kept.risk_classes == policy.risk_classes


@pytest.mark.parametrize("plain", [None, {}, {"forbidden": []}, {"forbidden": (), "nonsense": 1},
                                  {**policy_to_plain(default_policy()), "governed_paths": ["ops/**"]},
                                  {**policy_to_plain(default_policy()), "forbidden": ({"id": "x"},)}])
def test_what_policy_to_plain_never_gives_is_refused(plain: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        policy_from_plain(plain)


def _git(repo: Repo) -> Git:
    return Git.discover(str(repo.path))


def test_the_kept_policy_is_used_and_a_row_that_is_not_one_is_a_miss(gate_repo: Repo) -> None:
    git = _git(gate_repo)
    first = policies.kept_policy(git, CONFIG, None)
    assert first == resolve_policy(CONFIG, None) and first.approvers == ("alice", "bob")
    kv = open_kv(git, policies.KIND, None)
    assert kv is not None
    key = policies._key(CONFIG, None)
    assert policy_from_plain(kv.get(key)) == first
    # A row of the right digest but the wrong shape (what a damaged or older writer might leave).
    kv.put(key, {**policy_to_plain(first), "approvers": ["mallory"]})
    kv.save()
    assert policies.kept_policy(git, CONFIG, None) == first
    assert policy_from_plain(kv.get(key)) == first   # written back as it should be
    # Another configuration has its own row.
    other = CONFIG.replace(b"alice, bob", b"carol")
    assert policies.kept_policy(git, other, None).approvers == ("carol",)
    assert policies.kept_policy(git, CONFIG, None).approvers == ("alice", "bob")


def _probe(repo: Repo) -> tuple[int, list[str], str]:
    """``opsgov check`` in a fresh interpreter: (exit code, modules it loaded, output)."""
    code = textwrap.dedent(f"""
        import io, json, sys, contextlib
        from opsgov_hooks.cli import main
        sys.argv = ["opsgov", "check", "-C", {str(repo.path)!r}]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                rc = main()
            except SystemExit as exc:
                rc = exc.code
        print(json.dumps([rc, sorted(sys.modules), out.getvalue()]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, modules, out = json.loads(proc.stdout.splitlines()[-1])
    return rc, modules, out


def test_a_governed_commit_under_a_configuration_read_before_parses_nothing_of_it(gate_repo: Repo) -> None:
    gate_repo.write(".opsgov.yaml", CONFIG.decode())
    gate_repo.commit("configure")
    operation(gate_repo, OPS1, ["deploy/**"])
    gate_repo.commit("declare")
    gate_repo.write("deploy/app.yaml", "replicas: 3\n")
    gate_repo.stage()
    first = _probe(gate_repo)
    second = _probe(gate_repo)
    assert first[0] == second[0] and first[2] == second[2]
    assert "fastjsonschema" in first[1] and "yaml.reader" in first[1]
    assert not {"fastjsonschema", "yaml.reader", "jsonschema"} & set(second[1])


def test_a_broken_configuration_is_never_kept(gate_repo: Repo) -> None:
    gate_repo.write(".opsgov.yaml", "version: 1\ngoverned_paths: ops/**\n")   # a string where a list belongs
    gate_repo.commit("configure")
    gate_repo.write("ops/app.yaml", "replicas: 3\n")
    gate_repo.stage()
    runs = [_probe(gate_repo) for _ in range(2)]
    assert [rc for rc, _m, _o in runs] == [2, 2]
    kv = open_kv(_git(gate_repo), policies.KIND, None)
    assert kv is not None and kv.get(policies._key(b"version: 1\ngoverned_paths: ops/**\n", None)) is None
    assert isinstance(Policy(), Policy)
