"""Shared fixtures: scenario files written into a temporary folder."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_formula_cache(tmp_path_factory: pytest.TempPathFactory):
    """Every test (and every subprocess it starts) uses a fresh formula cache, never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPTSIM_CACHE_DIR", str(tmp_path_factory.mktemp("formula-cache")))
        mp.delenv("OPTSIM_NO_CACHE", raising=False)
        yield


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write TOML text (dedented) to tmp_path/name and return the path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
