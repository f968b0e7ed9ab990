"""SGR styles as small integers, and the shortest codes from one to another.

The shadow terminal (shadow.py) keeps one style per cell; comparing and storing integers
(as characters of a string, one per cell) is what makes its comparisons cheap. A style is
the set of attributes on and the two colours, each colour kept as the codes that set it
("31", "38;5;17", "38;2;255;0;0"; "" for the terminal's default), exactly as written, so
nothing is converted or rounded: the codes sent are codes Textual sent.
"""

from __future__ import annotations

from typing import NamedTuple


class Unmodelled(Exception):
    """Something the shadow terminal does not model: the write goes out unchanged and the
    shadow forgets what the terminal shows."""


ATTRIBUTES_ON = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 21, 51, 52, 53})
ATTRIBUTES_OFF = {22: {1, 2}, 23: {3}, 24: {4, 21}, 25: {5, 6}, 27: {7}, 28: {8}, 29: {9},
                  54: {51, 52}, 55: {53}}
"""Each 'off' code and the attributes it turns off (22 ends both bold and dim)."""


class Style(NamedTuple):
    attributes: frozenset[int]
    fg: str  # the codes that set the foreground ("" = default)
    bg: str

    def codes(self) -> str:
        """All codes from the default style (attributes first, as rich writes them)."""
        return ";".join([*(str(a) for a in sorted(self.attributes)), *(c for c in (self.fg, self.bg) if c)])


DEFAULT = Style(frozenset(), "", "")
UNKNOWN_STYLE = -1
"""The style in force on the terminal is not known (after a write that went out unchanged)."""


def _colour(codes: list[int], i: int) -> tuple[str, int]:
    """The extended colour starting at codes[i] (38 or 48): its codes, and the index after."""
    if i + 2 < len(codes) and codes[i + 1] == 5 and 0 <= codes[i + 2] <= 255:
        return f"{codes[i]};5;{codes[i + 2]}", i + 3
    if i + 4 < len(codes) and codes[i + 1] == 2 and all(0 <= c <= 255 for c in codes[i + 2:i + 5]):
        return f"{codes[i]};2;{codes[i + 2]};{codes[i + 3]};{codes[i + 4]}", i + 5
    raise Unmodelled(f"colour {codes[i:]}")


def apply_codes(style: Style, params: str) -> Style:
    """The style after `ESC[params m` is written in `style`."""
    codes = [int(c) if c else 0 for c in params.split(";")]
    attributes, fg, bg = set(style.attributes), style.fg, style.bg
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in (38, 48):
            colour, i = _colour(codes, i)
            fg, bg = (colour, bg) if code == 38 else (fg, colour)
            continue
        if code == 0:
            attributes, fg, bg = set(), "", ""
        elif code in ATTRIBUTES_ON:
            attributes.add(code)
        elif code in ATTRIBUTES_OFF:
            attributes -= ATTRIBUTES_OFF[code]
        elif 30 <= code <= 37 or 90 <= code <= 97 or code == 39:
            fg = "" if code == 39 else str(code)
        elif 40 <= code <= 47 or 100 <= code <= 107 or code == 49:
            bg = "" if code == 49 else str(code)
        else:
            raise Unmodelled(f"SGR {code}")
        i += 1
    return Style(frozenset(attributes), fg, bg)


CHANGES_KEPT = 1 << 16
"""How many (from, to) changes are remembered: pairs of styles could otherwise grow without end."""


class StyleTable:
    """Styles interned as integers (0 is the default), with cached parsing and changes."""

    LIMIT = 1 << 16
    """Past this many styles the shadow starts again (a style id must fit one cell's character)."""

    def __init__(self) -> None:
        self.styles: list[Style] = [DEFAULT]
        self._ids: dict[Style, int] = {DEFAULT: 0}
        self._applied: dict[tuple[int, str], int] = {}
        self._changes: dict[tuple[int, int], str] = {}

    def __len__(self) -> int:
        return len(self.styles)

    def apply(self, base: int, params: str) -> int:
        """The id of the style after `ESC[params m` in style `base`."""
        key = (base, params)
        found = self._applied.get(key)
        if found is None:
            style = apply_codes(self.styles[base], params)
            found = self._ids.get(style)
            if found is None:
                found = self._ids[style] = len(self.styles)
                self.styles.append(style)
            self._applied[key] = found
        return found

    def change(self, old: int, new: int) -> str:
        """The shortest SGR sequence that turns style `old` (or UNKNOWN_STYLE) into `new`."""
        key = (old, new)
        found = self._changes.get(key)
        if found is None:
            if len(self._changes) > CHANGES_KEPT:
                self._changes.clear()
            found = self._changes[key] = _change(self.styles[old] if old >= 0 else None, self.styles[new])
        return found


def _change(old: Style | None, new: Style) -> str:
    """From `old` (None: unknown) to `new`: only what differs where nothing has to be turned
    off but a colour (39/49 reset a colour alone), else a reset and all of `new`'s codes."""
    if new == DEFAULT:
        return "\x1b[0m"
    full = f"\x1b[0;{new.codes()}m"
    if old is None or old.attributes - new.attributes:
        return full
    parts = [str(a) for a in sorted(new.attributes - old.attributes)]
    if new.fg != old.fg:
        parts.append(new.fg or "39")
    if new.bg != old.bg:
        parts.append(new.bg or "49")
    delta = f"\x1b[{';'.join(parts)}m"
    return delta if len(delta) < len(full) else full
