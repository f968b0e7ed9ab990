"""The panel's status (with the views' legends, whose numbers change at every panel redraw)
asks for a layout pass of the screen only when its height changes, and always shows the
whole text."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static
from tui_helpers import run_async

from optsim.tui.widgets.info_panel import InfoPanel


class PanelApp(App):
    def compose(self) -> ComposeResult:
        yield InfoPanel("A description.", title="Title")


def _lines(widget: Static) -> list[str]:
    return [strip.text.rstrip() for strip in widget.render_lines(widget.size.region)]


@run_async
async def test_a_status_of_the_same_height_needs_no_layout_and_a_taller_one_does():
    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(InfoPanel)
        status = panel.query_one("#run-status", Static)
        panel.set_status(Text("adam  lr 0.1\nλ 12.5 κ 3.1"))
        await pilot.pause()
        assert status.size.height == 2
        panel.set_status(Text("adam  lr 0.1\nλ 12.7 κ 3.2"))  # numbers change, two lines still
        assert not status._layout_required
        await pilot.pause()
        assert [line.strip() for line in _lines(status)] == ["adam  lr 0.1", "λ 12.7 κ 3.2"]
        long = "lr·λmax/limit " + " ".join(f"run{k} 0.{k}/2" for k in range(12))  # wraps at 60 columns
        panel.set_status(Text(f"adam  lr 0.1\n{long}"))
        assert status._layout_required
        await pilot.pause()
        assert status.size.height > 2
        shown = " ".join(line.strip() for line in _lines(status))
        assert "run11 0.11/2" in shown
        panel.set_status(Text("adam  lr 0.1\nλ 1 κ 1"))  # shorter again
        assert status._layout_required
        await pilot.pause()
        assert status.size.height == 2


@run_async
async def test_the_height_of_a_status_that_does_not_wrap_is_textuals():
    """unwrapped_height (one row a line, when no line is longer than the width) says what
    Textual's own wrapping says, or leaves it to Textual."""
    from optsim.tui.render.text_shape import unwrapped_height

    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        status = app.query_one("#run-status", Static)
        await pilot.pause()
        width = status.content_region.width
        texts = ["", "x", "a\n", "\nb", "a\n\nb", "x" * width, "x" * (width + 1), "λ κ ★ ●\n" * 3,
                 "界" * (width // 2), "界" * (width // 2 + 1), "a\tb", "word " * (width // 5) + "end",
                 ("lr 0.1 " * 8 + "\n") * 2]
        checked = 0
        for plain in texts:
            text = Text(plain, style="bold")
            text.stylize("red", 0, min(3, len(plain)))
            status.update(text)
            textual = status.get_content_height(status.content_region.size, status.content_region.size, width)
            ours = unwrapped_height(text, width)
            if ours is not None:
                checked += 1
                assert ours == textual, repr(plain)
            else:
                assert any(len(line) > width // 2 for line in plain.split("\n")) or "\t" in plain, repr(plain)
        assert checked >= 8


@run_async
async def test_texts_of_one_wrap_shape_wrap_to_the_same_height():
    """The panel measures a wrapped status once per wrap_shape: every pair of texts of one
    shape (same words' lengths, other letters and digits) has one height in Textual."""
    import random

    from optsim.tui.render.text_shape import wrap_shape

    rng = random.Random(5)
    app = PanelApp()
    async with app.run_test(size=(40, 20)) as pilot:
        status = app.query_one("#run-status", Static)
        await pilot.pause()
        width = status.content_region.width
        heights: dict[tuple, int] = {}
        shapes = measured = 0
        for trial in range(300):
            words = [rng.choice(["λ", "κ", "lr", "adam", "0.0123", "σ", "lr/σ", "x" * rng.randint(1, width)])
                     for _ in range(rng.randint(1, 14))]
            if rng.random() < 0.3:  # the same shape again, with other digits
                words = [w.replace("1", "7").replace("x", "y") for w in words]
            gaps = [" " * rng.choice([1, 1, 2]) for _ in words]
            plain = "".join(w + g for w, g in zip(words, gaps)).strip()
            if rng.random() < 0.3:
                plain = plain + "\n" + plain[: rng.randint(0, len(plain))]
            text = Text(plain)
            status.update(text)
            height = status.get_content_height(status.content_region.size, status.content_region.size, width)
            shape = wrap_shape(text, width)
            if shape is None:
                continue
            measured += 1
            if shape in heights:
                shapes += 1
                assert heights[shape] == height, repr(plain)
            heights[shape] = height
        assert measured > 100 and shapes > 30


@run_async
async def test_the_status_looks_for_no_links_from_its_first_frame_and_the_caption_still_does():
    """auto_links off on the status from compose (it was switched off at its first update, after
    the first frame had looked for links in it); the caption, which a scenario writes, keeps them."""
    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert app.query_one("#run-status", Static).auto_links is False
        assert app.query_one("#caption-text", Static).auto_links is True
