#!/usr/bin/env python3
"""Fill the canonical ops prompt for one operation: ``python ops/ops_prompt_fill.py OPS-ID``.

The standard (Ops Governor v1.0) names this path; it is a thin wrapper over
``opsgov prompt OPS-ID``, which reads ``ops/ops_prompt_template_v1.txt`` and the
operation's declaration. It never evaluates anything from the repository.
"""
from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    try:
        from opsgov_hooks.cli import main as opsgov
    except ImportError:
        print("ops_prompt_fill.py needs opsgov: install it (pip install opsgov), then run again",
              file=sys.stderr)
        return 2
    return opsgov(["prompt", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
