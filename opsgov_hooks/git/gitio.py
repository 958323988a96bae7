"""The one ``Git`` type callers hold: every job's operations on one repository.

Each job lives in its own module, as a small class over the process core
(:mod:`opsgov_hooks.git.process`): object reads (:mod:`~opsgov_hooks.git.objects`),
diffs (:mod:`~opsgov_hooks.git.diffs`), history walks (:mod:`~opsgov_hooks.git.history`)
and tags (:mod:`~opsgov_hooks.git.tags`). Import data types and helpers from the module
of their job; only ``Git`` lives here.
"""
from __future__ import annotations

from opsgov_hooks.git.diffs import Diffs
from opsgov_hooks.git.history import History
from opsgov_hooks.git.tags import Tags


class Git(Diffs, History, Tags):
    """A repository: ``Git.discover(path)``, then ``git.ls_tree(...)``, ``git.commit_diffs(...)``, ...

    One instance keeps one ``cat-file --batch`` process open between reads; close it
    (or use ``with``) when done.
    """
