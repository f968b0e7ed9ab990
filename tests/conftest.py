"""Shared fixtures: scenario files written into a temporary folder."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write TOML text (dedented) to tmp_path/name and return the path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
