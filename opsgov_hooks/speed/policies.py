"""The policy of a configuration the gate has read before, without reading it again.

Why: reading ``.opsgov.yaml`` costs more than most governed commits' own work: libyaml,
the schema validator compiled from the schema (fastjsonschema generates and compiles
Python for it), and every configured pattern compiled by RE2 to prove it runs, about
80 ms. The configuration changes rarely and its bytes say everything: the policy of the
exact bytes of both files is kept in the clone's cache, as plain data, and rebuilt from it.

A broken configuration is never kept (it is exit 2 every time, with its findings), and a
kept row that does not rebuild the policy it was made from is a miss.
"""
from __future__ import annotations

import hashlib

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.policy.config import Policy, policy_from_plain, policy_to_plain, resolve_policy
from opsgov_hooks.speed.kv import open_kv

KIND = "policy"


def _key(config_raw: bytes | None, pyproject_raw: bytes | None) -> str:
    digest = hashlib.blake2b(b"opsgov-policy-1\0", digest_size=20)
    for raw in (config_raw, pyproject_raw):
        digest.update(b"-" if raw is None else b"+%d\0" % len(raw) + raw)
    return f"policy\0{digest.hexdigest()}"


def kept_policy(git: Git, config_raw: bytes | None, pyproject_raw: bytes | None) -> Policy:
    """:func:`~opsgov_hooks.policy.config.resolve_policy` of these bytes, kept by them."""
    if config_raw is None and pyproject_raw is None:
        return resolve_policy(None, None)   # the defaults: nothing to read
    kv = open_kv(git, KIND, None)
    key = _key(config_raw, pyproject_raw)
    if kv is not None:
        try:
            return policy_from_plain(kv.get(key))
        except (TypeError, ValueError):
            pass   # not kept, or not a policy: read the configuration
    policy = resolve_policy(config_raw, pyproject_raw)   # UsageError when broken: never kept
    if kv is not None:
        kv.put(key, policy_to_plain(policy))
        kv.save()
    return policy
