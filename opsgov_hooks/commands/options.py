"""Options shared by several commands."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def format_option(f: F) -> F:
    from opsgov_hooks.output import FORMATS

    return click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
                        help="Output format (default: github under GitHub Actions, text elsewhere).")(f)


def repo_option(f: F) -> F:
    return click.option("-C", "--repo", "repo", default=".", show_default=True, type=click.Path(file_okay=False),
                        help="Run as if started in this directory.")(f)


def quiet_option(f: F) -> F:
    return click.option("-q", "--quiet", is_flag=True,
                        help="Print errors only: no warnings, no summary line.")(f)
