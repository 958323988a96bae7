"""Fixtures for the lifecycle tests (a pytest plugin: ``pytest_plugins = ["conftest_lifecycle"]``)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Repo, init_repo
from lifecycle_helpers import declare


@pytest.fixture
def declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """A repository with one committed declaration, as the current directory."""
    repo = init_repo(tmp_path / "repo")
    declare(repo)
    repo.chdir(monkeypatch)
    yield repo
