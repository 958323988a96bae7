"""``opsgov prompt``: the canonical ops prompt, filled for one validly declared operation."""
from __future__ import annotations

from typing import TextIO

from opsgov_hooks.execution.operation import load_operation
from opsgov_hooks.git.process import find_root
from opsgov_hooks.git.sources import WorktreeSource
from opsgov_hooks.lifecycle.templating import PROMPT_TEMPLATE, load_template, render, template_values
from opsgov_hooks.policy.config import load_policy


def run_prompt(start: str, operation_id: str, out: TextIO) -> int:
    """Print the repository's prompt template (else the packaged one) filled for ``operation_id``."""
    root = find_root(start)
    policy = load_policy(WorktreeSource(root))
    declaration, _raw = load_operation(root, policy, operation_id)
    template = load_template(root, policy.prompt_template, PROMPT_TEMPLATE)
    text = render(template, template_values(declaration, policy))
    out.write(text if text.endswith("\n") else text + "\n")
    return 0
