"""A key for "has this text changed": the info panel and its Paragraphs redraw a text only
when what a Static would draw of it differs (a Text's markup string takes longer to build
than the comparison it serves)."""

from __future__ import annotations

from rich.text import Text


def text_key(text: Text | str) -> tuple:
    """What a Static draws of this text, to tell a changed one."""
    if not isinstance(text, Text):
        return (str(text),)
    return (text.plain, tuple(text.spans), text.style, text.justify, text.overflow, text.no_wrap, text.end)
