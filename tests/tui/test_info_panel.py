"""The panel's status (with the views' legends, whose numbers change at every panel redraw)
asks for a layout pass of the screen only when its height changes, and always shows the
whole text."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Offset
from textual.selection import Selection
from textual.widgets import Static
from tui_helpers import run_async

from optsim.tui.widgets.info_panel import InfoPanel
from optsim.tui.widgets.paragraphs import Paragraphs


class PanelApp(App):
    def compose(self) -> ComposeResult:
        yield InfoPanel("A description.", title="Title")


def _lines(widget) -> list[str]:
    return [strip.text.rstrip() for strip in widget.render_lines(widget.size.region)]


@run_async
async def test_a_status_of_the_same_height_needs_no_layout_and_a_taller_one_does():
    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(InfoPanel)
        status = panel.query_one("#run-status", Paragraphs)
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


class SideBySide(App):
    """A Paragraphs and a Static of one width, to compare what they show."""

    CSS = "Paragraphs, Static { padding: 0 1; height: auto; }"

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Paragraphs(id="ours")
            with Vertical(id="right"):
                static = Static("", id="theirs")
                static.set_reactive(Static.auto_links, False)
                yield static


def _strip_rows(widget) -> list:
    """Each row as Textual gets it from the widget: its segments (text and style)."""
    return [list(strip) for strip in widget.render_lines(widget.size.region)]


@run_async
async def test_paragraphs_show_the_rows_a_static_shows_for_any_text():
    """Rendered a paragraph at a time, the rows (text and styles) and the height are those
    of a Static of the same width, wrapped lines, blank lines, wide characters and all."""
    import random

    rng = random.Random(11)
    words = ["λ", "κ", "lr", "adam", "0.0123", "σ", "lr/σ", "界界", "→", "converged:", "x" * 30]
    texts = ["", "x", "a\n", "\nb", "a\n\nb", "λ κ ★ ●\n" * 3]
    for _ in range(40):
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 16))) for _ in range(rng.randint(1, 5))]
        texts.append("\n".join(lines))
    app = SideBySide(60)
    async with app.run_test(size=(120, 40)) as pilot:
        ours, theirs = app.query_one(Paragraphs), app.query_one("#theirs", Static)
        for plain in texts:
            text = Text(plain, style="bold" if rng.random() < 0.5 else "")
            text.stylize("red", 0, min(3, len(plain)))
            text.stylize("italic", len(plain) // 2)
            ours.show(text)
            theirs.update(text.copy())
            await pilot.pause()
            assert ours.size.height == theirs.size.height, repr(plain)
            assert _strip_rows(ours) == _strip_rows(theirs), repr(plain)
        # A mouse selection across paragraphs: drawn and copied as from the Static.
        text = Text("adam  lr 0.1\nλ 12.5 κ 3.1 " + "word " * 20 + "\n→ try a smaller rate", style="bold")
        ours.show(text)
        theirs.update(text.copy())
        await pilot.pause()
        selection = Selection(Offset(3, 0), Offset(4, 2))
        app.screen.selections = {ours: selection, theirs: selection}
        await pilot.pause()
        assert ours.text_selection == selection
        assert _strip_rows(ours) == _strip_rows(theirs)
        copied = ours.get_selection(selection)
        assert copied == theirs.get_selection(selection) and copied[0].startswith("m  lr 0.1\nλ 12.5")


@run_async
async def test_a_new_number_repaints_only_its_paragraphs_rows():
    """The legends' numbers change at every panel redraw: only the rows of the paragraphs
    that changed are repainted, and all the rows after a paragraph whose height changed."""
    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        status = app.query_one("#run-status", Paragraphs)
        head, long = "adam  lr 0.1", "→ " + "a remedy that wraps over two rows " * 2
        status.show(Text(f"{head}\nλ 12.5 κ 3.1\n{long}\nevents: none"))
        await pilot.pause()
        assert status.size.height == 5
        status._repaint_regions.clear()
        status.show(Text(f"{head}\nλ 12.7 κ 3.1\n{long}\nevents: none"))
        assert not status._layout_required
        offset = status.content_offset
        assert {(r.y - offset.y, r.height) for r in status._repaint_regions} == {(1, 1)}  # row 1 only
        await pilot.pause()
        assert [line.strip() for line in _lines(status)][:2] == [head, "λ 12.7 κ 3.1"]
        # The remedy loses a row and a paragraph comes after it: the same height, the rows
        # from the remedy on are repainted, the first two are not.
        status._repaint_regions.clear()
        status.show(Text(f"{head}\nλ 12.7 κ 3.1\n→ short\nevents: none\nmore"))
        assert not status._layout_required
        rows = {row for r in status._repaint_regions for row in range(r.y - offset.y, r.bottom - offset.y)}
        assert rows == {2, 3, 4}
        await pilot.pause()
        assert [line.strip() for line in _lines(status)][2:] == ["→ short", "events: none", "more"]
        status.show(Text(head))  # shorter: the screen's layout changes
        assert status._layout_required
        await pilot.pause()
        assert status.size.height == 1
@run_async
async def test_the_status_looks_for_no_links_from_its_first_frame_and_the_caption_still_does():
    """auto_links off on the status from compose (it was switched off at its first update, after
    the first frame had looked for links in it); the caption, which a scenario writes, keeps them."""
    app = PanelApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert app.query_one("#run-status", Paragraphs).auto_links is False
        assert app.query_one("#caption-text", Static).auto_links is True
