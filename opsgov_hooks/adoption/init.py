"""``opsgov init``: set up opsgov in an existing git repository.

It only ever creates files: an existing file is kept as it is, byte for byte,
and reported as kept, so running it twice changes nothing. Every file appears
whole or not at all (written beside its target, then hard-linked into place,
which cannot replace anything).
"""
from __future__ import annotations

import dataclasses
import os
from importlib import resources
from typing import TextIO

from opsgov_hooks import __version__
from opsgov_hooks.adoption.adoption_op import Adoption, adopt, governed, requester
from opsgov_hooks.adoption.config_template import SCHEMA_FOLDER, render_config
from opsgov_hooks.adoption.precommit_config import insert_item
from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.check.pipeline import trusted_policy
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.sources import WorktreeSource
from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE, Policy, load_policy
from opsgov_hooks.resources import schema_dir
from opsgov_hooks.term import Printer

GOVERNOR_DOC = "docs/governance/OPS_GOVERNOR.md"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
CHANGELOG_HEADER = ("# Ops changelog\n\nThe P5 sign-off ledger (Ops Governor v1.0, storage option A): one "
                    "`---`-delimited YAML block per operation, written by `opsgov ledger record`.\n")

LOCAL_ITEM = """\
  - repo: local
    hooks:
      - id: opsgov-check
        name: opsgov gate (staged change)
        entry: opsgov check
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-commit]
      - id: opsgov-commit-msg
        name: opsgov gate (Ops-Id trailers)
        entry: opsgov check --commit-msg
        language: system
        always_run: true
        stages: [commit-msg]
      - id: opsgov-pre-push
        name: opsgov gate (commits being pushed)
        entry: opsgov check --pre-push
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-push]
"""

LOCAL_HOOKS = """\
# Added by 'opsgov init': the Ops Governor gate, run by the opsgov you installed (pip install opsgov).
# 'pre-commit install' installs all three hook types below.
minimum_pre_commit_version: "3.2.0"
default_install_hook_types: [pre-commit, commit-msg, pre-push]
repos:
""" + LOCAL_ITEM

REMOTE_ITEM = """\
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: opsgov-check
      - id: opsgov-commit-msg
      - id: opsgov-pre-push
"""

REMOTE_HOOKS = """\
# Added by 'opsgov init': the Ops Governor gate, pinned to one opsgov release.
# 'pre-commit install' installs all three hook types below.
minimum_pre_commit_version: "3.2.0"
default_install_hook_types: [pre-commit, commit-msg, pre-push]
repos:
""" + REMOTE_ITEM


@dataclasses.dataclass(frozen=True)
class Outcome:
    path: str
    status: str          # created, updated, kept or skipped
    why: str = ""

    @property
    def created(self) -> bool:
        return self.status == "created"


def package_data(name: str) -> bytes | None:
    """A file shipped in ``opsgov_hooks/data/``, or None when this build does not ship it."""
    try:
        return resources.files("opsgov_hooks").joinpath("data", name).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def hooks_snippet(hooks_repo: str | None, hooks_rev: str | None) -> tuple[str, str]:
    """(the whole file for a repository without one, the ``- repo:`` item to add to an existing one)."""
    if hooks_repo is None:
        return LOCAL_HOOKS, LOCAL_ITEM
    # The project tags every release v<version> (docs/ci.md, "Versions"): the rev resolves once released.
    values = {"repo": hooks_repo, "rev": hooks_rev or f"v{__version__}"}
    return REMOTE_HOOKS.format(**values), REMOTE_ITEM.format(**values)


class Initialiser:
    """Creates what is missing under ``root`` and remembers what it did."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.outcomes: list[Outcome] = []

    def create(self, rel: str, data: bytes) -> Outcome:
        target = os.path.join(self.root, rel)
        folder = os.path.realpath(os.path.dirname(target))
        if os.path.commonpath([folder, self.real_root]) != self.real_root:
            return self._record(Outcome(rel, "skipped", "its folder leads outside the repository"))
        try:
            write_atomic(target, data, exclusive=True)
        except FileExistsError:
            return self._record(Outcome(rel, "kept", "already exists"))
        return self._record(Outcome(rel, "created"))

    def keep(self, rel: str, why: str, status: str = "kept") -> Outcome:
        return self._record(Outcome(rel, status, why))

    def _record(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        return outcome

    def exists(self, rel: str) -> bool:
        return os.path.lexists(os.path.join(self.root, rel))

    def read(self, rel: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, rel), "rb") as f:
                return f.read()
        except OSError:
            return None


def write_config(init: Initialiser) -> None:
    """``.opsgov.yaml`` with the standard's defaults, unless opsgov is configured already."""
    pyproject = init.read(PYPROJECT_FILE) or b""
    if not init.exists(CONFIG_FILE) and b"[tool.opsgov]" in pyproject:
        init.keep(CONFIG_FILE, f"{PYPROJECT_FILE} [tool.opsgov] configures opsgov", "skipped")
        return
    init.create(CONFIG_FILE, render_config().encode("utf-8"))


# Editors validate against these copies: the config's '# yaml-language-server: $schema=' line points at
# one by a relative path, so it resolves in any clone, offline, whatever opsgov's schemas' $id says.
SCHEMA_COPIES = ("config.schema.json", "declaration.schema.json", "ledger-entry.schema.json")


def write_schemas(init: Initialiser) -> None:
    """Copies of the record schemas in ``.opsgov/schemas/``, for editors (docs/records.md, "Editors")."""
    for name in SCHEMA_COPIES:
        init.create(f"{SCHEMA_FOLDER}/{name}", (schema_dir() / name).read_bytes())


def write_record_folders(init: Initialiser, policy: Policy) -> None:
    """The operations folder and the ledger's place, kept in git by a ``.gitkeep`` while empty."""
    folders = [policy.operations_dir]
    if policy.ledger_backend == "yaml":
        folders.append(policy.ledger_path)
    for folder in folders:
        full = os.path.join(init.root, folder)
        if os.path.isdir(full) and os.listdir(full) and not init.exists(f"{folder}/.gitkeep"):
            init.keep(folder + "/", "already holds files")
        else:
            init.create(f"{folder}/.gitkeep", b"")
    if policy.ledger_backend == "markdown":
        init.create(policy.ledger_path, CHANGELOG_HEADER.encode("utf-8"))


def write_templates(init: Initialiser, policy: Policy) -> None:
    """The runbook and prompt templates, and the standard itself, from the package's data."""
    for name, target in (("OPS_RUNBOOK_TEMPLATE.md", policy.runbook_template),
                         ("ops_prompt_template_v1.txt", policy.prompt_template),
                         ("OPS_GOVERNOR.md", GOVERNOR_DOC)):
        data = package_data(name)
        if data is None:
            init.keep(target, f"this opsgov build does not ship {name}", "skipped")
        else:
            init.create(target, data)


def write_hooks(init: Initialiser, whole: str, item: str) -> str | None:
    """The pre-commit configuration; the item to add by hand when it cannot be added safely."""
    current = init.read(PRE_COMMIT_CONFIG)
    if current is not None and b"id: opsgov-" in current:
        init.keep(PRE_COMMIT_CONFIG, "already runs opsgov")
        return None
    if current is None or not current.strip():
        if current is not None:
            # An empty file holds nothing to lose; it is still replaced atomically.
            write_atomic(os.path.join(init.root, PRE_COMMIT_CONFIG), whole.encode("utf-8"))
            init.outcomes.append(Outcome(PRE_COMMIT_CONFIG, "created", "it was empty"))
            return None
        init.create(PRE_COMMIT_CONFIG, whole.encode("utf-8"))
        return None
    try:
        text = current.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    updated = insert_item(text, item) if text is not None else None
    if updated is None:
        init.keep(PRE_COMMIT_CONFIG, "its repos: list cannot be extended safely: add the item below to it")
        return item
    write_atomic(os.path.join(init.root, PRE_COMMIT_CONFIG), updated.encode("utf-8"))
    init.outcomes.append(Outcome(PRE_COMMIT_CONFIG, "updated", "opsgov's hooks added to its repos: list"))
    return None


def run_init(start: str, *, hooks_repo: str | None, hooks_rev: str | None, quiet: bool, out: TextIO) -> int:
    git = Git.discover(start)
    requester(git)   # the adoption is recorded in someone's name: refuse before writing anything
    root = git.root
    init = Initialiser(root)
    write_config(init)
    write_schemas(init)
    policy = load_policy(WorktreeSource(root))  # an existing broken config stops here (exit 2)
    write_record_folders(init, policy)
    write_templates(init, policy)
    snippet = write_hooks(init, *hooks_snippet(hooks_repo, hooks_rev))
    adoption = adopt_if_needed(git, init, policy)
    report(init.outcomes, snippet, adoption, Printer(out, quiet=quiet))
    return 0


def adopt_if_needed(git: Git, init: Initialiser, policy: Policy) -> Adoption | None:
    """The adoption operation, when ``init`` created a governed file (a governed change needs an operation)."""
    created = [o.path for o in init.outcomes if o.status in ("created", "updated")]
    judges = [policy, trusted_policy(git, git.head())]   # the gate of the adoption commit reads HEAD's policy
    if not any(governed(path, judges) for path in created):
        return None
    adoption = adopt(git, policy, created)
    init.outcomes.append(Outcome(adoption.record, "created", "the adoption operation"))
    init.outcomes.append(Outcome(adoption.ledger, "created" if adoption.ledger not in created else "updated",
                                 "its ledger entry"))
    return adoption


def report(outcomes: list[Outcome], snippet: str | None, adoption: Adoption | None, printer: Printer) -> None:
    colours = {"created": "green", "updated": "green", "kept": "dim", "skipped": "yellow"}
    for o in outcomes:
        label = printer.paint(f"{o.status:<7}", colours[o.status])
        printer.info(f"{label} {o.path}" + (f" ({o.why})" if o.why else ""))
    if snippet is not None:
        printer.always(f"\nAdd this item to the repos: list of {PRE_COMMIT_CONFIG}:\n\n{snippet}")
    created = [o.path for o in outcomes if o.status in ("created", "updated")]
    if adoption is None or not created:
        return
    op = adoption.operation_id
    printer.info(f"\nThe adoption is operation {op}: its record and ledger entry cover the files above.\n"
                 "Next steps: commit them, close the operation with its tag, turn the hooks on:\n"
                 "  git add -- " + " ".join(sorted({p.split('/')[0] for p in created})) + "\n"
                 f"  git commit -m 'Adopt Ops Governor' -m 'Ops-Id: {op}'\n"
                 f"  opsgov tag {op}\n"
                 "  pre-commit install")
