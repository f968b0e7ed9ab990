"""Colours of optsim: run colours, the loss band ramp, iso-lines and markers.

All colours are "#rrggbb" strings, which both Textual and Rich parse. Textual downgrades
truecolour by itself when the terminal (or TEXTUAL_COLOR_SYSTEM) offers 256 or 16 colours,
but a smooth dark ramp degrades badly there: the nine truecolour bands merge into seven
unevenly stepped cube colours (purple before navy), and in 16 colours into black, grey
and brown, with grey covering six bands. So every function takes a colour system and,
for "256" and "16", returns colours that are exact members of that system (xterm cube /
Rich's standard palette), chosen by hand to stay ordered dark-to-light and distinct from
the run colours. ContourPlot picks the system from TEXTUAL_COLOR_SYSTEM or the terminal.
"""

from __future__ import annotations

from typing import Literal

ColorSystemName = Literal["truecolor", "256", "16"]

# Viridis (matplotlib) anchors; bands use a dimmed copy so bright trajectories stay readable.
_VIRIDIS = (
    (0.0, "#440154"), (0.125, "#482878"), (0.25, "#3b528b"), (0.375, "#2c728e"),
    (0.5, "#21918c"), (0.625, "#27ad81"), (0.75, "#5ec962"), (0.875, "#aadc32"),
    (1.0, "#fde725"),
)
BAND_DIM = 0.7

# 256 colours: xterm cube members, lightness increasing, navy -> blue -> green -> olive.
_BANDS_256 = ("#00005f", "#005f87", "#00875f", "#5f8700", "#878700")
# 16 colours: the dark half of Rich's standard palette (black, blue, green, yellow: these
# exact triplets map onto ANSI 0, 4, 2, 3), so that the seven bright run colours stand out.
# Terminals draw ANSI yellow lighter than green, so the ramp still reads dark to light.
_BANDS_16 = ("#000000", "#0000aa", "#00aa00", "#aa5500")

RUN_COLORS: tuple[str, ...] = (
    "#ff6b6b",  # coral
    "#5fd7ff",  # sky
    "#00ff87",  # spring green (not white: the iso-lines and the minimum markers are light)
    "#ff79e6",  # orchid
    "#b4ff5f",  # lime
    "#ffaf5f",  # orange
    "#c8a8ff",  # lavender
    "#7dffc8",  # mint
    "#d75fff",  # violet
    "#ff9ec4",  # pink
)
"""Run colours for truecolour and 256 colours (each survives the 256 downgrade distinctly)."""

RUN_COLORS_16: tuple[str, ...] = (
    "#ff5555", "#55ffff", "#ffff55", "#ff55ff", "#55ff55", "#5555ff", "#ffffff",
)
"""The seven bright standard colours; with 16 colours runs beyond seven repeat."""

MINIMUM_COLOR = "#ffffff"
GRADIENT_ARROW_COLOR = "#ff5f87"
ESCAPE_ARROW_COLOR = "#5fffaf"
MOMENTUM_ARROW_COLOR = "#ffd75f"
RAW_STEP_ARROW_COLOR = "#ff5f87"  # -lr g: the gradient's own step, coloured like the gradient
STEP_ARROW_COLOR = "#87d7ff"  # the step the optimizer actually takes
EIGEN_ARROW_COLOR = "#d7afff"  # the Hessian's eigenvectors (labelled with their eigenvalues)
TRAIN_POINT_COLOR = "#ffffff"  # the data view's training points
TEST_POINT_COLOR = "#ffaf00"  # and its test points
LIMIT_COLOR = "#8a8a8a"  # a reference line on a curve plot (the stability limit 2)
COORDINATE_COLORS: tuple[str, ...] = ("#ffffff", "#a8a8a8", "#d7d787", "#87afaf")
"""Colours of a run's coordinates on the sigma and eigen-error plots (x, y, ...): white, grey
and muted tones far from every run colour (a test checks the distance), since every
curve there belongs to the selected run and must not read as another run's."""


def normalize_color_system(name: str | None) -> ColorSystemName:
    """Map Rich/Textual colour-system names ("standard", "256", "truecolor", "windows",
    "eight_bit", None) onto the three palettes here; unknown or None means truecolour."""
    key = (name or "truecolor").lower()
    if key in ("standard", "windows", "16"):
        return "16"
    if key in ("256", "eight_bit", "8bit"):
        return "256"
    return "truecolor"


def _rgb(color: str) -> tuple[int, int, int]:
    h = color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#%02x%02x%02x" % tuple(max(0, min(255, int(round(c)))) for c in rgb)


def mix(a: str, b: str, t: float) -> str:
    """Linear blend of two colours: t=0 gives a, t=1 gives b."""
    ra, rb = _rgb(a), _rgb(b)
    return _hex(tuple(x + (y - x) * t for x, y in zip(ra, rb)))


def scale(color: str, factor: float) -> str:
    """Multiply every channel (factor < 1 darkens)."""
    return _hex(tuple(c * factor for c in _rgb(color)))


def viridis(t: float) -> str:
    """Viridis at t in [0, 1] (piecewise-linear between anchors)."""
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(_VIRIDIS, _VIRIDIS[1:]):
        if t <= t1:
            return mix(c0, c1, (t - t0) / (t1 - t0))
    return _VIRIDIS[-1][1]  # pragma: no cover


def luminance(color: str) -> float:
    """WCAG relative luminance (0 black .. 1 white)."""
    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = _rgb(color)
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 .. 21)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _pick(ramp: tuple[str, ...], n: int) -> list[str]:
    """n colours spread over a short ramp (ends included; neighbours may repeat)."""
    if n == 1:
        return [ramp[0]]
    return [ramp[round(i * (len(ramp) - 1) / (n - 1))] for i in range(n)]


def band_colors(n_bands: int, color_system: str | None = "truecolor") -> list[str]:
    """Background colour of each loss band, low loss (dark blue) to high loss (yellowish)."""
    system = normalize_color_system(color_system)
    if system == "16":
        return _pick(_BANDS_16, n_bands)
    if system == "256":
        return _pick(_BANDS_256, n_bands)
    if n_bands == 1:
        return [scale(viridis(0.5), BAND_DIM)]
    return [scale(viridis(0.05 + 0.95 * i / (n_bands - 1)), BAND_DIM) for i in range(n_bands)]


def iso_line_colors(n_bands: int, color_system: str | None = "truecolor") -> list[str]:
    """Foreground of the iso-line braille drawn over each band: a lighter tint of the band,
    so the lines read as contours of the same hue rather than a second set of curves."""
    system = normalize_color_system(color_system)
    if system == "16":
        return ["#aaaaaa"] * n_bands
    if system == "256":
        # One cube step lighter on each channel, so the tint never rounds onto the band.
        return [_cube_lighter(c) for c in band_colors(n_bands, "256")]
    return [mix(c, "#ffffff", 0.4) for c in band_colors(n_bands, "truecolor")]


_CUBE = (0, 95, 135, 175, 215, 255)


def _cube_lighter(color: str) -> str:
    out = []
    for c in _rgb(color):
        i = _CUBE.index(c) if c in _CUBE else 0
        out.append(_CUBE[min(len(_CUBE) - 1, i + 2)])
    return _hex(tuple(out))


def line_colors(n_edges: int, color_system: str | None = "truecolor",
                dark_background: bool = True) -> list[str]:
    """Colours of the iso-lines in low-bandwidth mode (no filled bands), one per level,
    low to high, readable on the widget's own background."""
    system = normalize_color_system(color_system)
    if system == "16":
        ramp = (("#5555ff", "#55ffff", "#55ff55", "#ffff55") if dark_background
                else ("#0000aa", "#00aaaa", "#00aa00", "#aa5500"))
        return _pick(ramp, n_edges)
    ts = [0.25 + 0.75 * i / max(1, n_edges - 1) for i in range(n_edges)]
    if dark_background:
        return [mix(viridis(t), "#ffffff", 0.15) for t in ts]
    return [scale(viridis(t), 0.6) for t in ts]


def invalid_color(color_system: str | None = "truecolor") -> str:
    """Background of cells where the loss is NaN or infinite (a dark red, off the ramp)."""
    return {"16": "#aa0000", "256": "#5f0000"}.get(normalize_color_system(color_system), "#4a0f14")


HALO = {"truecolor": 0.45}
"""How much a halo dims the band below a trajectory or marker in truecolour (see halo_color)."""


def halo_color(band: str, color_system: str | None = "truecolor") -> str:
    """Background of an overlay cell (a path, an arrow, a marker) on `band`: the band dimmed in
    truecolour; black with 256 or 16 colours, where a dimmed band is no member of the palette
    (black is: cube 16, ANSI 0) and would round onto a band colour."""
    system = normalize_color_system(color_system)
    if system != "truecolor":
        return "#000000"
    return scale(band, HALO[system])


def readable_on(color: str, background: str, min_contrast: float = 2.5) -> str:
    """The colour, darkened or lightened just enough to reach `min_contrast` against the
    background (white runs and markers on a light theme without filled bands)."""
    if contrast(color, background) >= min_contrast:
        return color
    target = "#000000" if luminance(background) > 0.5 else "#ffffff"
    for step in range(1, 11):
        candidate = mix(color, target, step / 10)
        if contrast(candidate, background) >= min_contrast:
            return candidate
    return target


def run_color(index: int, color_system: str | None = "truecolor") -> str:
    """Colour of the run with this index (cycling)."""
    colors = RUN_COLORS_16 if normalize_color_system(color_system) == "16" else RUN_COLORS
    return colors[index % len(colors)]


RUN_GLYPHS: tuple[str, ...] = (
    "●", "■", "▲", "◆", "▼", "✚", "✦", "◉", "◎", "▣", "◈", "⊕", "⊗", "⬢", "✱", "◐",
)
"""A marker per run, so runs stay told apart where their colours repeat (ten colours, seven
in 16 colours). All one cell wide and none an emoji (no emoji presentation to widen them);
"○" is not among them: the run table uses it for a hidden run; nor "★", the plot's mark of a
minimum."""


def run_glyph(index: int) -> str:
    """Marker glyph of the run with this index (distinct for 16 runs; with the colours, a
    (colour, glyph) pair repeats only after 80 runs)."""
    return RUN_GLYPHS[index % len(RUN_GLYPHS)]


def to_system(color: str, color_system: str | None) -> str:
    """Map a run colour chosen for truecolour onto the same slot of the given system's run
    list (so that an app that stored truecolour run colours still gets distinct bright
    colours in 16 colours); other colours pass through unchanged."""
    if normalize_color_system(color_system) == "16" and color.lower() in RUN_COLORS:
        return RUN_COLORS_16[RUN_COLORS.index(color.lower()) % len(RUN_COLORS_16)]
    return color
