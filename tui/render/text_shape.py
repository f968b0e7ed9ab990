"""What a text takes in a Static: a key for "has it changed", and its height without asking
Textual to wrap it when that can be known (no line wraps) or was measured for a text of the
same shape (the words' lengths). The info panel redraws the selected run's status every
frame; a layout pass for a height that did not change rearranges the whole screen.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text


def text_key(text: Text | str) -> tuple:
    """What a Static draws of this text, to tell a changed one (a Text's markup string takes
    longer to build than the comparison it serves)."""
    if not isinstance(text, Text):
        return (str(text),)
    return (text.plain, tuple(text.spans), text.style, text.justify, text.overflow, text.no_wrap, text.end)


def unwrapped_height(text: Text | str, width: int) -> int | None:
    """The height of a Text in a Static `width` cells wide when no line of it is longer than
    that (no line wraps: one row a line); None when one may wrap (tabs, a longer line, a
    markup string) and Textual's wrapping must say."""
    if not isinstance(text, Text):
        return None
    plain = text.plain
    if "\t" in plain:
        return None
    lines = plain.split("\n")
    return len(lines) if all(cell_len(line) <= width for line in lines) else None


_WORD = re.compile(r"\s*\S+\s*")


def wrap_shape(text: Text | str, width: int) -> tuple | None:
    """What word wrapping at `width` sees of a text: per line, one row if it fits, else the
    cell lengths of its words (with and without their spaces). Two texts of one shape wrap to
    the same rows (the status's numbers change, their lengths seldom do), so the panel asks
    Textual once per shape. None where wrapping may look further: a word longer than the
    width (cut inside), tabs, a line not made of words alone, a markup string."""
    if not isinstance(text, Text):
        return None
    plain = text.plain
    if "\t" in plain:
        return None
    shape: list = [width, text.no_wrap, text.overflow]
    for line in plain.split("\n"):
        if cell_len(line) <= width:
            shape.append(1)
            continue
        words = _WORD.findall(line)
        if "".join(words) != line:
            return None
        sizes = []
        for word in words:
            n = cell_len(word)
            if n > width:
                return None
            sizes.append((n, cell_len(word.lstrip()), cell_len(word.rstrip())))
        shape.append(tuple(sizes))
    return tuple(shape)
