"""Paragraphs: a text that changes a few words at a time, repainted a paragraph at a time.

The info panel's status (the selected run's status, the views' legends) gets new numbers at
every panel redraw, mostly in one or two of its lines. A Static given the new text wraps and
renders all of it again and Textual's compositor redraws every row (about 0.8 ms of a frame
with four views). Here each paragraph (a line of the text) is rendered on its own, by the
same Textual function a Static uses (Visual.to_strips, so the rows are the rows a Static of
that width shows, with the line numbers text selection goes by), and kept until its text
or its place changes; only the rows of changed or moved paragraphs are repainted, and a
layout pass is asked for only when the height changes, which is known exactly from the
rendering itself.
"""

from __future__ import annotations

from rich.text import Span, Text
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from ..render.text_shape import text_key


def split_paragraphs(text: Text) -> list[Text]:
    """The text's lines, each keeping the text's style and wrapping settings."""
    parts = text.split("\n", allow_blank=True)
    for part in parts:
        part.no_wrap = text.no_wrap
    return list(parts)


class Paragraphs(Widget):
    """A rich Text shown as a Static would show it, repainted paragraph by paragraph."""

    DEFAULT_CSS = """
    Paragraphs {
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # No link detection: a status has no links, and a kept row would keep a link's hover style.
        self.set_reactive(Widget.auto_links, False)
        self._text = Text()
        self._paragraphs: list[Text] = []
        self._keys: list[tuple] = []
        self._rendered: list[list[Strip]] | None = None  # per paragraph, for _rendered_for
        self._rendered_for: tuple | None = None  # (width, visual style) they were rendered at
        self._rows: list[Strip] = []  # the rendered paragraphs' rows, one after the other

    @property
    def text(self) -> Text:
        """The text shown."""
        return self._text

    def show(self, text: Text) -> None:
        """Show this text: the rows of paragraphs that changed (or moved) are repainted, the
        screen's layout only when the number of rows changes."""
        paragraphs = split_paragraphs(text)
        keys = [text_key(p) for p in paragraphs]
        if keys == self._keys:
            return
        old_keys, old = self._keys, self._rendered
        self._text, self._paragraphs, self._keys = text, paragraphs, keys
        key = self._render_key()
        if old is None or self._rendered_for != key:
            self._rendered = None
            self.refresh(layout=True)
            return
        width, style = key
        same = [i < len(old) and old_keys[i] == keys[i] for i in range(len(keys))]
        self._keep([old[i] if same[i] else self._render_paragraph(i, width, style) for i in range(len(keys))], key)
        old_offsets, new_offsets = _offsets(old), _offsets(self._rendered)
        if old_offsets[-1] != new_offsets[-1]:
            self.refresh(layout=True)
            return
        dirty = [Region(0, new_offsets[i], width, new_offsets[i + 1] - new_offsets[i]) for i in range(len(keys))
                 if not same[i] or old_offsets[i] != new_offsets[i]]
        if dirty:
            self.refresh(*dirty)

    # ------------------------------------------------------------------ rendering

    def _render_key(self) -> tuple:
        return (self.size.width, self.visual_style)

    def _lines(self) -> list[Strip]:
        """Every row at the widget's width and style (rendered again after a change of either)."""
        key = self._render_key()
        if self._rendered is None or self._rendered_for != key:
            width, style = key
            self._keep([self._render_paragraph(i, width, style) for i in range(len(self._paragraphs))], key)
        return self._rows

    def _keep(self, rendered: list[list[Strip]], key: tuple) -> None:
        self._rendered, self._rendered_for = rendered, key
        self._rows = [strip for rows in rendered for strip in rows]

    def _render_paragraph(self, index: int, width: int, style) -> list[Strip]:
        """Paragraph `index`'s rows, rendered after `index` empty lines that are then dropped:
        the rows carry the line number a selection and its copying go by, as a Static's do."""
        if width <= 0:
            return []
        p = self._paragraphs[index]
        lifted = Text("\n" * index + p.plain, style=p.style, justify=p.justify, overflow=p.overflow,
                      no_wrap=p.no_wrap, end=p.end,
                      spans=[Span(span.start + index, span.end + index, span.style) for span in p.spans])
        return Visual.to_strips(self, visualize(self, lifted, markup=False), width, None, style)[index:]

    # ------------------------------------------------------------------ Textual

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width == self.size.width:
            return len(self._lines())
        style = self.visual_style
        return sum(len(self._render_paragraph(i, width, style)) for i in range(len(self._paragraphs)))

    def render_line(self, y: int) -> Strip:
        lines = self._lines()
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def render(self) -> Text:
        """The whole text (what Textual copies from a selection; the rows come from render_line)."""
        return self._text

    def selection_updated(self, selection) -> None:
        self._rendered = None  # the rows show the selection: render them again
        super().selection_updated(selection)

    def on_resize(self, event: events.Resize) -> None:
        self._rendered = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rendered = None


def _offsets(rendered: list[list[Strip]]) -> list[int]:
    """The first row of each paragraph, then the total."""
    out = [0]
    for rows in rendered:
        out.append(out[-1] + len(rows))
    return out
