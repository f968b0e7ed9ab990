"""Scenario files, format 1 (TOML): read, validate, and describe as plain data.

Everything in a file is untrusted: values are checked for type and range,
unknown keys are errors that name the nearest valid key, sizes are bounded,
and the formula is only ever parsed by the whitelisting compiler. Every error
is one ``ScenarioError`` naming the file and the key path, e.g.
``saddle.toml: runs[1].optimzer: unknown key (did you mean 'optimizer'?)``.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..core.data import MAX_ROWS, Dataset, parse_csv_rows
from ..errors import ScenarioError, nearest
from ..safe_io import UnsafeFile, inside, read_capped
from ..core.run_settings import RunSettings
from .reader import MAX_COORD, MAX_PARAMS, MAX_STEPS, Reader, check_formula
from .run_rules import RUN_KEYS, SET_KEYS, RunContext, check_run

MAX_FILE_BYTES = 1_000_000
MAX_DATA_BYTES = 32_000_000
"""Largest CSV a scenario may name (data.file, data.test_file); checked before reading."""
DATA_DIRS_ENV = "OPTSIM_DATA_DIRS"
"""Extra folders (os.pathsep-separated) data files may lie in, besides the scenario's own folder."""
MAX_RUNS = 1_000
SHOW_KINDS = ("hessian", "gradient", "escape", "sigma", "momentum", "gradient_norm", "curvature", "data",
              "batch_lab", "guide")
"""What an event may `show`: the Hessian report or one of its arrows at a point, or a view of
the mechanism (each coordinate's sigma, the momentum, the gradient norm, the curvature) or the
data with the runs' predictions, or the batch lab's clocks (loss against epochs and simulated
time), from then on; or the general guide on the runs' numbers at that moment (playback stops
there so that the guide reads exactly that step)."""


@dataclass(frozen=True)
class SurfaceSpec:
    expr: str
    params: tuple[str, ...]
    constants: dict[str, float]
    view: dict[str, tuple[float, float]]
    builtin: str | None = None
    minima: tuple[tuple[float, ...], ...] = ()
    test_shift: tuple[float, ...] | None = None
    plot: tuple[str, str] | None = None  # which two parameters the contour shows


@dataclass(frozen=True)
class EventSpec:
    at: int
    say: str | None = None
    pause: bool = False
    run: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    focus: bool = False
    show: str | None = None


@dataclass(frozen=True)
class Scenario:
    path: str
    title: str
    description: str
    seed: int
    surface: SurfaceSpec
    data: Dataset | None
    runs: tuple[RunSettings, ...]
    events: tuple[EventSpec, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # optional analysis sections, validated by their owners

    @property
    def name(self) -> str:
        return scenario_name(Path(self.path))


def scenario_name(path: Path) -> str:
    """A built-in's short name: the file stem without its ordering prefix ('03-saddle' -> 'saddle')."""
    stem = path.stem
    head, _, tail = stem.partition("-")
    return tail if head.isdigit() and tail else stem


TOP_KEYS = ("format", "title", "description", "seed", "surface", "data", "runs", "events", "guide", "batch_lab", "sweep")
SURFACE_KEYS = ("expr", "builtin", "params", "constants", "view", "minima", "test_shift", "plot")
DATA_KEYS = ("columns", "rows", "file", "generate", "test_rows", "test_file")
GENERATE_KEYS = ("n", "x", "y", "noise", "test_n", "test_x", "test_y", "test_noise")
EVENT_KEYS = ("at", "say", "pause", "run", "set", "focus", "show")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; raises ScenarioError naming the file and the key."""
    p = Path(path)
    file = str(path)
    try:
        raw = read_toml(p)
    except UnsafeFile as exc:
        raise ScenarioError(file, "", f"cannot read the file: {exc}") from None
    except OSError as exc:
        raise ScenarioError(file, "", f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(file, "", "the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(file, "", "not valid TOML: arrays or tables nested too deep") from None
    return parse_scenario(raw, file, base_dir=p.parent)


def read_toml(path: Path) -> dict[str, Any]:
    """Decode a scenario file: a regular file of at most MAX_FILE_BYTES (checked before reading).

    Raises OSError (UnsafeFile for a special or oversized file), UnicodeDecodeError,
    tomllib.TOMLDecodeError or RecursionError (arrays nested thousands deep)."""
    return tomllib.loads(read_capped(path, MAX_FILE_BYTES).decode("utf-8"))


def parse_scenario(raw: Mapping[str, Any], file: str, base_dir: Path | None = None) -> Scenario:
    """Validate an already-decoded TOML table (used by the loader and by the app's editor)."""
    r = Reader(file)
    r.keys(raw, "", TOP_KEYS)
    if "format" in raw and r.integer(raw["format"], "format", 1, 1000) != 1:
        raise r.fail("format", f"this optsim reads format 1, not {raw['format']}")
    if "title" not in raw:
        raise r.fail("title", "is missing")
    title = r.string(raw["title"], "title", 200)
    description = r.string(raw.get("description", ""), "description")
    seed = r.integer(raw.get("seed", 0), "seed", 0, 2**63 - 1)
    if "surface" not in raw:
        raise r.fail("surface", "is missing")
    data_raw = raw.get("data")
    data_columns: tuple[str, ...] = ()
    if data_raw is not None:
        data_columns = r.names(r.table(data_raw, "data").get("columns"), "data.columns")
    surface = _surface(r, r.table(raw["surface"], "surface"), data_columns)
    data = _data(r, r.table(data_raw, "data"), base_dir or Path(".")) if data_raw is not None else None
    if "runs" not in raw:
        raise r.fail("runs", "is missing: add at least one [[runs]] table")
    runs = _runs(r, raw["runs"], surface, data)
    ctx = RunContext(len(surface.params), data.n_train if data is not None else None)
    events = _events(r, raw.get("events", []), runs, ctx)
    extra = {k: r.table(raw[k], k) for k in ("guide", "batch_lab", "sweep") if k in raw}
    if extra:  # the analysis tables' own checks (analysis_tables.py)
        from .analysis_tables import validate_analysis

        validate_analysis(file, extra, surface.params, data_columns, data.n_train if data else None,
                          tuple(x.name for x in runs), tuple(x.steps for x in runs))
    return Scenario(file, title, description, seed, surface, data, runs, events, extra)


def _surface(r: Reader, t: dict[str, Any], columns: tuple[str, ...]) -> SurfaceSpec:
    from ..core.surfaces import BUILTIN_SURFACES

    r.keys(t, "surface", SURFACE_KEYS)
    if ("expr" in t) == ("builtin" in t):
        raise r.fail("surface", "needs exactly one of 'expr' or 'builtin'")
    builtin = None
    minima: tuple[tuple[float, ...], ...] = ()
    if "builtin" in t:
        builtin = r.string(t["builtin"], "surface.builtin", 64)
        if builtin not in BUILTIN_SURFACES:
            raise r.fail("surface.builtin", f"no built-in surface {builtin!r}" + nearest(builtin, BUILTIN_SURFACES))
        b = BUILTIN_SURFACES[builtin]
        expr, params = b.expr, tuple(b.params)
        constants = dict(b.constants)
        view = {k: (float(v[0]), float(v[1])) for k, v in dict(b.view).items()}
        minima = tuple(tuple(float(x) for x in m) for m in b.minima)
        if "params" in t:
            raise r.fail("surface.params", f"a built-in surface has its own parameters {list(params)}")
    else:
        expr = r.string(t["expr"], "surface.expr", 4000)
        params = r.names(t["params"], "surface.params") if "params" in t else ("x", "y")
        constants, view = {}, {}
    if len(params) > MAX_PARAMS:
        raise r.fail("surface.params", f"at most {MAX_PARAMS} parameters")
    clash = set(params) & set(columns)
    if clash:
        raise r.fail("surface.params", f"{sorted(clash)[0]!r} is both a parameter and a data column")
    for k, v in r.table(t.get("constants", {}), "surface.constants").items():
        if builtin is not None and k not in constants:
            raise r.fail(f"surface.constants.{k}", f"not a constant of {builtin!r}" + nearest(k, constants))
        if not k.isidentifier() or k in params or k in columns:
            raise r.fail(f"surface.constants.{k}", "must be a new name (not a parameter or data column)")
        constants[k] = r.number(v, f"surface.constants.{k}")
    view.update(r.ranges(t.get("view", {}), "surface.view", params))
    if "minima" in t:
        if not isinstance(t["minima"], list):
            raise r.fail("surface.minima", "must be a list of points")
        minima = tuple(r.numbers(m, f"surface.minima[{i}]", len(params), MAX_COORD)
                       for i, m in enumerate(t["minima"]))
    shift = r.numbers(t["test_shift"], "surface.test_shift", len(params)) if "test_shift" in t else None
    plot = None
    if "plot" in t:
        names = r.names(t["plot"], "surface.plot")
        if len(names) != 2:
            raise r.fail("surface.plot", "must name exactly two parameters")
        for i, n in enumerate(names):
            if n not in params:
                raise r.fail(f"surface.plot[{i}]", "not a parameter" + nearest(n, params))
        plot = (names[0], names[1])
    elif len(params) < 2:
        raise r.fail("surface.params", "needs at least two parameters to plot")
    check_formula(r, expr, params, constants, columns, "surface.builtin" if builtin else "surface.expr")
    return SurfaceSpec(expr, params, constants, view, builtin, minima, shift, plot)


def _data(r: Reader, t: dict[str, Any], base_dir: Path) -> Dataset:
    r.keys(t, "data", DATA_KEYS)
    columns = r.names(t["columns"], "data.columns")
    sources = [k for k in ("rows", "file", "generate") if k in t]
    if len(sources) != 1:
        raise r.fail("data", "needs exactly one of 'rows', 'file' or 'generate'")
    test = None
    if "rows" in t:
        rows = _rows(r, t["rows"], "data.rows", len(columns))
    elif "file" in t:
        rows = _csv(r, t["file"], "data.file", columns, base_dir)
    else:
        rows, test = _generate(r, r.table(t["generate"], "data.generate"), columns)
    if "test_rows" in t:
        test = _rows(r, t["test_rows"], "data.test_rows", len(columns))
    elif "test_file" in t:
        test = _csv(r, t["test_file"], "data.test_file", columns, base_dir)
    return Dataset.from_rows(columns, rows, test)


def _rows(r: Reader, value: Any, key: str, width: int) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise r.fail(key, "must be a non-empty list of rows")
    if len(value) > MAX_ROWS:
        raise r.fail(key, f"at most {MAX_ROWS} rows")
    return np.array([r.numbers(row, f"{key}[{i}]", width) for i, row in enumerate(value)], dtype=np.float64)


def data_dirs(base_dir: Path) -> tuple[Path, ...]:
    """Where a scenario's data files may lie: its own folder, plus the folders in $OPTSIM_DATA_DIRS."""
    extra = [Path(d) for d in os.environ.get(DATA_DIRS_ENV, "").split(os.pathsep) if d]
    return (base_dir, *extra)


def _csv(r: Reader, value: Any, key: str, columns: tuple[str, ...], base_dir: Path) -> np.ndarray:
    """Rows of a CSV the scenario names: a regular file inside data_dirs(), size-checked before reading."""
    name = r.string(value, key, 1000)
    path = base_dir / name  # an absolute name replaces base_dir
    if not inside(path, data_dirs(base_dir)):
        raise r.fail(key, f"{name!r} is outside the scenario's folder (data files must lie in it or "
                          f"in a folder listed in ${DATA_DIRS_ENV})")
    try:
        text = read_capped(path, MAX_DATA_BYTES).decode("utf-8")
    except UnsafeFile as exc:
        raise r.fail(key, f"cannot read {name!r}: {exc}") from None
    except OSError as exc:
        raise r.fail(key, f"cannot read {name!r} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise r.fail(key, f"{name!r} is not UTF-8 text") from None
    try:
        return parse_csv_rows(text, columns)
    except ValueError as exc:
        raise r.fail(key, f"{name!r}: {exc}") from None


def _generate(r: Reader, t: dict[str, Any], columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows (x, y) with x evenly spaced over a range and y = formula(x) + Gaussian noise (seeded)."""
    from ..formula.compile import FormulaError, compile_formula

    key = "data.generate"
    r.keys(t, key, GENERATE_KEYS)
    if len(columns) != 2:
        raise r.fail("data.columns", "a generated data set has two columns: input, target")
    for need in ("n", "x", "y"):
        if need not in t:
            raise r.fail(f"{key}.{need}", "is missing")
    n = r.integer(t["n"], f"{key}.n", 1, MAX_ROWS)
    test_n = r.integer(t.get("test_n", 0), f"{key}.test_n", 0, MAX_ROWS)

    def make(count: int, span_key: str, y_key: str, noise_key: str, stream: int) -> np.ndarray:
        lo, hi = r.numbers(t.get(span_key, t["x"]), f"{key}.{span_key}", 2)
        text = r.string(t.get(y_key, t["y"]), f"{key}.{y_key}", 2000)
        noise = r.number(t.get(noise_key, t.get("noise", 0.0)), f"{key}.{noise_key}", 0.0)
        try:
            f = compile_formula(text, ("x",))
        except FormulaError as exc:
            raise r.fail(f"{key}.{y_key}", str(exc)) from None
        rng = np.random.default_rng([count, stream, 7])
        xs = np.linspace(lo, hi, count) if stream == 0 else rng.uniform(lo, hi, count)
        with np.errstate(all="ignore"):
            ys = f.value(xs[:, None]) + noise * rng.standard_normal(count)
        if not np.isfinite(ys).all():
            raise r.fail(f"{key}.{y_key}", "gives values that are not finite over the range")
        return np.column_stack([xs, ys])

    train = make(n, "x", "y", "noise", 0)
    test = make(test_n, "test_x", "test_y", "test_noise", 1) if test_n else None
    return train, test


def _runs(r: Reader, value: Any, surface: SurfaceSpec, data: Dataset | None) -> tuple[RunSettings, ...]:
    if not isinstance(value, list) or not value:
        raise r.fail("runs", "must be a non-empty array of tables ([[runs]])")
    if len(value) > MAX_RUNS:
        raise r.fail("runs", f"at most {MAX_RUNS} runs")
    out: list[RunSettings] = []
    n_train = data.n_train if data is not None else None
    for i, t in enumerate(value):
        key = f"runs[{i}]"
        t = r.table(t, key)
        ctx = RunContext(len(surface.params), n_train, frozenset(x.name for x in out))
        defaults = {"optimizer": "sgd", "name": f"{t.get('optimizer', 'sgd')}-{i + 1}", "steps": 100}
        v = check_run(r, {**defaults, **t}, "sgd", key, ctx)
        if "start" not in v:
            raise r.fail(f"{key}.start", "is missing")
        hyper = {k: x for k, x in v.items() if k not in RUN_KEYS}
        out.append(RunSettings(v["name"], v["optimizer"], hyper, v["start"], v["steps"], v.get("batch_size"),
                               v.get("noise", 0.0), v.get("schedule")))
    return tuple(out)


def _events(r: Reader, value: Any, runs: tuple[RunSettings, ...], ctx: RunContext) -> tuple[EventSpec, ...]:
    by_name = {x.name: x for x in runs}
    run_names = set(by_name)
    if not isinstance(value, list):
        raise r.fail("events", "must be an array of tables ([[events]])")
    out = []
    for i, t in enumerate(value):
        key = f"events[{i}]"
        t = r.table(t, key)
        r.keys(t, key, EVENT_KEYS)
        if "at" not in t:
            raise r.fail(f"{key}.at", "is missing")
        at = r.integer(t["at"], f"{key}.at", 0, MAX_STEPS)
        run = None
        if "run" in t:
            run = r.string(t["run"], f"{key}.run", 40)
            if run not in run_names:
                raise r.fail(f"{key}.run", f"no run named {run!r}" + nearest(run, run_names))
        changes = dict(r.table(t.get("set", {}), f"{key}.set"))
        if changes and run is None:
            raise r.fail(f"{key}.run", "is missing: 'set' needs the run it changes")
        if changes:
            target = by_name[run]  # validated against the run as the file starts it
            changes = check_run(r, changes, target.optimizer, f"{key}.set", ctx, current=target.hyper,
                                keys=SET_KEYS)
        show = None
        if "show" in t:
            show = r.string(t["show"], f"{key}.show", 20)
            if show not in SHOW_KINDS:
                raise r.fail(f"{key}.show", f"must be one of {', '.join(SHOW_KINDS)}" + nearest(show, SHOW_KINDS))
            if run is None:
                raise r.fail(f"{key}.run", f"is missing: 'show = {show!r}' needs a run")
        focus = r.boolean(t.get("focus", False), f"{key}.focus")
        if focus and run is None:
            raise r.fail(f"{key}.run", "is missing: 'focus' needs a run")
        say = r.string(t["say"], f"{key}.say", 2000) if "say" in t else None
        out.append(EventSpec(at, say, r.boolean(t.get("pause", False), f"{key}.pause"), run, changes, focus, show))
    return tuple(sorted(out, key=lambda e: e.at))
