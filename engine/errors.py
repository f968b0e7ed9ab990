"""The one error type for bad input: it names the file and the key."""
from __future__ import annotations

import difflib
from typing import Iterable


class ScenarioError(ValueError):
    """Bad scenario input. ``str()`` is the single line the command line prints."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + message)


def nearest(name: str, valid: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' when nothing is close."""
    match = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
