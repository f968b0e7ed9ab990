"""The app's saves are new files: a symlink planted under the name is never written through."""
from __future__ import annotations

import os

from tui_helpers import SADDLE, make_app, run_async


def test_app_save_never_writes_through_a_planted_symlink(tmp_path) -> None:
    """A dangling symlink named like the file `w` saves: the app picks the next free name instead."""
    victim = tmp_path / "victim.toml"
    os.symlink(victim, tmp_path / "saddle-edited.toml")

    @run_async
    async def save() -> None:
        app = make_app(SADDLE, save_dir=tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("w")
            await pilot.pause()

    save()
    assert not victim.exists()
    assert "title = " in (tmp_path / "saddle-edited-2.toml").read_text()
