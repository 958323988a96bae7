"""An opsgov filter for detect-secrets, registered the way its authors provide for custom filters.

Pinned dependency ids are hashes, not secrets: the commit a ``jsonnetfile.lock.json`` or a
``go.sum`` pins, a ``rev:`` in ``.pre-commit-config.yaml``, an image digest. detect-secrets'
own ``is_lock_file`` knows a dozen lock files by name (and skips them whole); this filter
covers the others, and hashes written under a name that says what they are, but only for the
*entropy* detectors: a lock file or a ``rev:`` line holding an AWS key or a private key is
still reported by the detectors that recognise those by their shape.

Only names and the line's text are read (no file, no structure parsed), with linear regexes.
"""
from __future__ import annotations

import posixpath
import re

# Lock files of ecosystems detect-secrets' own list does not name (its list still applies).
_LOCK_NAMES = frozenset({"go.sum", "flake.lock", "Chart.lock", ".terraform.lock.hcl", "jsonnetfile.lock.json",
                         "pnpm-lock.yaml", "bun.lock", "uv.lock", "mix.lock", "pubspec.lock", "gradle.lockfile",
                         "conan.lock", "Package.resolved", "deno.lock", "MODULE.bazel.lock", "requirements.lock",
                         "pdm.lock", "renv.lock", "shard.lock", "Manifest.toml", "vendor.conf", "glide.lock",
                         "Gopkg.lock", "npm-shrinkwrap.json", "packages.lock.json", "Brewfile.lock.json"})
_LOCK_SUFFIXES = (".lock", ".lock.json", "-lock.json", "-lock.yaml", ".lockfile", ".sum")

# A name before the value that says it is an object id or a digest: rev: <sha>, "version": "<sha>",
# commit = <sha>, sha256: <hex>, integrity: sha512-..., checksum, digest. Bounded, linear.
_ID_KEY = re.compile(r"(?i)(?:\b|_)(?:rev|revision|commit|commit_?id|sha|sha1|sha256|sha512|hash|hashed_secret|"
                     r"digest|checksum|integrity|version|ref|tree|oid|object_?id|parent)[\"']?\s{0,8}[:=]")
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha1|sha256|sha384|sha512|md5|h1)[:-]\Z")
_OBJECT_ID = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
_ENTROPY_TYPES = frozenset({"Hex High Entropy String", "Base64 High Entropy String"})


def is_lock_file_name(filename: str) -> bool:
    name = posixpath.basename(filename.replace("\\", "/"))
    return name in _LOCK_NAMES or name.endswith(_LOCK_SUFFIXES)


def is_pinned_digest(filename: str, secret: str, line: str, plugin: object = None) -> bool:
    """detect-secrets filter: True for a high-entropy string that is a pinned id or a digest."""
    if getattr(plugin, "secret_type", None) not in _ENTROPY_TYPES:
        return False
    if is_lock_file_name(filename):
        return True
    at = line.find(secret)
    if at < 0:
        return False
    before = line[max(0, at - 80):at]
    if _DIGEST_PREFIX.search(before):
        return True  # sha256:<hex>, sha512-<base64>, h1:<base64>
    # A git object id (40 or 64 hex digits) under a name that says it is one: rev:, commit:, "version":.
    return bool(_OBJECT_ID.match(secret.lower())) and bool(_ID_KEY.search(before))


_YAML_NON_STRINGS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "~"})


def is_yaml_non_secret(filename: str, secret: str, line: str, plugin: object = None) -> bool:
    """detect-secrets filter: what its YAML transformer never presents as a string in a YAML file.

    A comment line (``#   secrets: Scan added lines...``, the prose init's config carries) and a
    boolean or null value (``secrets: true``): read line by line, the keyword detector would take
    either for a password. Any other value under a secret-like key is still reported.
    """
    if getattr(plugin, "secret_type", None) != "Secret Keyword":
        return False
    if not filename.lower().endswith((".yaml", ".yml")):
        return False
    return line.lstrip().startswith("#") or secret.strip().strip("'\"").lower() in _YAML_NON_STRINGS
