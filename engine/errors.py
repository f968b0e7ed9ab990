"""The one error type for bad input: it names the file and the key."""
from __future__ import annotations

import difflib
import re
from typing import Iterable


class ScenarioError(ValueError):
    """Bad scenario input. ``str()`` is the single line the command line prints."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(printable(where + message))


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (\\x1b), so printing it cannot steer a terminal."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def nearest(name: str, valid: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' when nothing is close."""
    match = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
