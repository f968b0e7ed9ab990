"""Static check of the production code: no undefined names, no unused imports.

`from __future__ import annotations` keeps annotations unevaluated, so a name left
behind by a rename (a type in a signature) never fails at run time; pyflakes sees it.
"""
from __future__ import annotations

from pathlib import Path

from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parent.parent


class _Collect(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def unexpectedError(self, filename, msg) -> None:  # noqa: N802 (pyflakes' API)
        self.lines.append(f"{filename}: {msg}")

    def syntaxError(self, filename, msg, lineno, offset, text) -> None:  # noqa: N802
        self.lines.append(f"{filename}:{lineno}: {msg}")

    def flake(self, message) -> None:
        self.lines.append(str(message))


def test_production_code_has_no_pyflakes_findings() -> None:
    report = _Collect()
    for folder in ("engine", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            checkPath(str(path), report)
    assert report.lines == []
