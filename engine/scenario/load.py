"""Scenario files, format 1 (TOML): read, validate, and describe as plain data.

Everything in a file is untrusted: values are checked for type and range,
unknown keys are errors that name the nearest valid key, sizes are bounded,
and the formula is only ever parsed by the whitelisting compiler. Every error
is one ``ScenarioError`` naming the file and the key path, e.g.
``saddle.toml: runs[1].optimzer: unknown key (did you mean 'optimizer'?)``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..core.data import MAX_ROWS, Dataset, read_csv_rows
from ..errors import ScenarioError, nearest
from ..optim.registry import OPTIMIZERS, validate_hyperparameters
from ..optim.schedules import validate_schedule

MAX_FILE_BYTES = 1_000_000
MAX_STEPS = 10_000_000
MAX_RUNS = 1_000
MAX_PARAMS = 64
SHOW_KINDS = ("hessian", "gradient", "escape")
RUN_KEYS = ("name", "optimizer", "start", "steps", "batch_size", "noise", "schedule")


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
class RunSpec:
    name: str
    optimizer: str
    hyper: dict[str, Any]  # lr and optimizer keys, as written (defaults filled by the engine)
    start: tuple[float, ...]
    steps: int
    batch_size: int | None = None
    noise: float = 0.0
    schedule: dict[str, Any] | None = None


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
    runs: tuple[RunSpec, ...]
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


# ----- small typed getters that name the key on failure --------------------
class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(self.file, key, message)

    def keys(self, table: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for k in table:
            if k not in allowed:
                raise self.fail(_join(path, k), "unknown key" + nearest(k, allowed))

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def string(self, value: Any, key: str, limit: int = 100_000) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if len(value) > limit:
            raise self.fail(key, f"is longer than {limit} characters")
        return value

    def integer(self, value: Any, key: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {_kind(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo} and {hi}, not {value}")
        return value

    def number(self, value: Any, key: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, not {_kind(value)}")
        v = float(value)
        if not math.isfinite(v):
            raise self.fail(key, f"must be finite, not {value}")
        if not lo <= v <= hi:
            raise self.fail(key, f"must be between {lo:g} and {hi:g}, not {value}")
        return v

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def numbers(self, value: Any, key: str, length: int | None = None) -> tuple[float, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of numbers, not {_kind(value)}")
        if length is not None and len(value) != length:
            raise self.fail(key, f"must hold {length} numbers, not {len(value)}")
        return tuple(self.number(v, f"{key}[{i}]") for i, v in enumerate(value))

    def ranges(self, value: Any, key: str, params: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """A table of parameter -> [low, high] (a view, a search box, a window)."""
        out = {}
        for k, v in self.table(value, key).items():
            if k not in params:
                raise self.fail(f"{key}.{k}", "not a parameter" + nearest(k, params))
            lo, hi = self.numbers(v, f"{key}.{k}", 2)
            if not lo < hi:
                raise self.fail(f"{key}.{k}", f"needs low < high, not [{lo:g}, {hi:g}]")
            out[k] = (lo, hi)
        return out

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of names")
        out = []
        for i, v in enumerate(value):
            s = self.string(v, f"{key}[{i}]", 64)
            if not s.isidentifier() or s.startswith("_"):
                raise self.fail(f"{key}[{i}]", f"{s!r} is not a valid name (letters, digits, _)")
            if s in out:
                raise self.fail(f"{key}[{i}]", f"{s!r} appears twice")
            out.append(s)
        return tuple(out)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


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
        raw_bytes = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(file, "", f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw_bytes) > MAX_FILE_BYTES:
        raise ScenarioError(file, "", f"the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(file, "", "the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, "", f"not valid TOML: {exc}") from None
    return parse_scenario(raw, file, base_dir=p.parent)


def parse_scenario(raw: Mapping[str, Any], file: str, base_dir: Path | None = None) -> Scenario:
    """Validate an already-decoded TOML table (used by the loader and by the app's editor)."""
    r = _Reader(file)
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
    events = _events(r, raw.get("events", []), runs)
    extra = {k: r.table(raw[k], k) for k in ("guide", "batch_lab", "sweep") if k in raw}
    if extra:  # the analysis tables' own checks (engine/analysis_config.py)
        from .analysis_tables import validate_analysis

        validate_analysis(file, extra, surface.params, data_columns, data.n_train if data else None,
                          tuple(x.name for x in runs))
    return Scenario(file, title, description, seed, surface, data, runs, events, extra)


def _surface(r: _Reader, t: dict[str, Any], columns: tuple[str, ...]) -> SurfaceSpec:
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
        minima = tuple(r.numbers(m, f"surface.minima[{i}]", len(params)) for i, m in enumerate(t["minima"]))
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
    _check_formula(r, expr, params, constants, columns, "surface.builtin" if builtin else "surface.expr")
    return SurfaceSpec(expr, params, constants, view, builtin, minima, shift, plot)


def _check_formula(r: _Reader, expr: str, params: tuple[str, ...], constants: Mapping[str, float],
                   columns: tuple[str, ...], key: str) -> None:
    """Parse (without SymPy) so that a bad formula is reported at load time with its key."""
    from ..formula.parse import FormulaError, build_namespace, parse_formula

    try:
        parse_formula(expr, build_namespace(params, constants, columns))
    except FormulaError as exc:
        raise r.fail(key, str(exc)) from None


def _data(r: _Reader, t: dict[str, Any], base_dir: Path) -> Dataset:
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


def _rows(r: _Reader, value: Any, key: str, width: int) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise r.fail(key, "must be a non-empty list of rows")
    if len(value) > MAX_ROWS:
        raise r.fail(key, f"at most {MAX_ROWS} rows")
    return np.array([r.numbers(row, f"{key}[{i}]", width) for i, row in enumerate(value)], dtype=np.float64)


def _csv(r: _Reader, value: Any, key: str, columns: tuple[str, ...], base_dir: Path) -> np.ndarray:
    name = r.string(value, key, 1000)
    path = (base_dir / name) if not Path(name).is_absolute() else Path(name)
    try:
        return read_csv_rows(str(path), columns)
    except OSError as exc:
        raise r.fail(key, f"cannot read {name!r} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise r.fail(key, f"{name}: {exc}") from None


def _generate(r: _Reader, t: dict[str, Any], columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None]:
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


def _runs(r: _Reader, value: Any, surface: SurfaceSpec, data: Dataset | None) -> tuple[RunSpec, ...]:
    if not isinstance(value, list) or not value:
        raise r.fail("runs", "must be a non-empty array of tables ([[runs]])")
    if len(value) > MAX_RUNS:
        raise r.fail("runs", f"at most {MAX_RUNS} runs")
    out: list[RunSpec] = []
    for i, t in enumerate(value):
        key = f"runs[{i}]"
        t = r.table(t, key)
        opt = r.string(t.get("optimizer", "sgd"), f"{key}.optimizer", 64)
        if opt not in OPTIMIZERS:
            raise r.fail(f"{key}.optimizer", f"unknown optimizer {opt!r}" + nearest(opt, OPTIMIZERS))
        hyper = {k: v for k, v in t.items() if k not in RUN_KEYS}
        valid = tuple(OPTIMIZERS[opt].defaults) + RUN_KEYS
        for k in hyper:
            if k not in OPTIMIZERS[opt].defaults:
                raise r.fail(f"{key}.{k}", f"unknown key for {opt}" + nearest(k, valid))
        for k, msg in validate_hyperparameters(opt, hyper):
            raise r.fail(f"{key}.{k}", msg)
        hyper = {k: (tuple(v) if isinstance(v, list) else v) for k, v in hyper.items()}
        name = r.string(t.get("name", f"{opt}-{i + 1}"), f"{key}.name", 40)
        if any(x.name == name for x in out):
            raise r.fail(f"{key}.name", f"{name!r} is already the name of another run")
        if "start" not in t:
            raise r.fail(f"{key}.start", "is missing")
        start = r.numbers(t["start"], f"{key}.start", len(surface.params))
        steps = r.integer(t.get("steps", 100), f"{key}.steps", 1, MAX_STEPS)
        batch = None
        if "batch_size" in t:
            if data is None:
                raise r.fail(f"{key}.batch_size", "needs a [data] table")
            batch = r.integer(t["batch_size"], f"{key}.batch_size", 1, data.n_train)
        noise = r.number(t.get("noise", 0.0), f"{key}.noise", 0.0)
        schedule = None
        if "schedule" in t:
            schedule = dict(r.table(t["schedule"], f"{key}.schedule"))
            for k, msg in validate_schedule(schedule):
                raise r.fail(f"{key}.schedule.{k}" if k else f"{key}.schedule", msg)
        out.append(RunSpec(name, opt, hyper, start, steps, batch, noise, schedule))
    return tuple(out)


def _events(r: _Reader, value: Any, runs: tuple[RunSpec, ...]) -> tuple[EventSpec, ...]:
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
            _validate_change(r, changes, target.optimizer, target.hyper, f"{key}.set")
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


def _check_changes(r: _Reader, changes: dict[str, Any], key: str) -> None:
    """Validate a mid-run change: optimizer, schedule, and the optimizer's hyperparameters."""
    opt = changes.get("optimizer")
    if opt is not None and (not isinstance(opt, str) or opt not in OPTIMIZERS):
        raise r.fail(f"{key}.optimizer", f"unknown optimizer {opt!r}" + nearest(str(opt), OPTIMIZERS))
    all_keys = {k for spec in OPTIMIZERS.values() for k in spec.defaults}
    for k, v in changes.items():
        if k in ("optimizer",):
            continue
        if k == "schedule":
            for sk, msg in validate_schedule(r.table(v, f"{key}.schedule")):
                raise r.fail(f"{key}.schedule.{sk}" if sk else f"{key}.schedule", msg)
        elif k == "noise":
            r.number(v, f"{key}.noise", 0.0)
        elif k == "batch_size":
            r.integer(v, f"{key}.batch_size", 1, MAX_ROWS)
        elif k not in all_keys:
            raise r.fail(f"{key}.{k}", "unknown key" + nearest(k, sorted(all_keys | {"optimizer", "schedule"})))
    if opt is not None:
        hyper = {k: v for k, v in changes.items() if k not in ("optimizer", "schedule", "noise", "batch_size")}
        for k, msg in validate_hyperparameters(opt, hyper):
            raise r.fail(f"{key}.{k}", msg)


def check_run_changes(changes: Mapping[str, Any], optimizer: str, file: str = "(edit)", key: str = "set",
                      *, current: Mapping[str, Any] | None = None) -> None:
    """Validate a live edit of one run exactly as a file's ``set`` table is validated.

    ``optimizer`` is the run's current optimizer, used when the change does not
    name one; ``current`` its current hyperparameters, which the change is
    merged over when the optimizer stays (so ``nesterov = true`` is judged with
    the run's momentum). Raises ScenarioError naming ``file`` and ``key.<name>``.
    """
    _validate_change(_Reader(file), dict(changes), optimizer, current, key)


def _validate_change(r: _Reader, changes: dict[str, Any], optimizer: str, current: Mapping[str, Any] | None,
                     key: str) -> None:
    _check_changes(r, changes, key)
    opt = changes.get("optimizer", optimizer)
    hyper = {k: v for k, v in changes.items() if k not in ("optimizer", "schedule", "noise", "batch_size")}
    for k in hyper:
        if k not in OPTIMIZERS[opt].defaults:
            raise r.fail(f"{key}.{k}", f"not a hyperparameter of {opt}" + nearest(k, OPTIMIZERS[opt].defaults))
    merged = dict(current or {}) if opt == optimizer else {}
    merged.update(hyper)
    for k, msg in validate_hyperparameters(opt, merged):
        raise r.fail(f"{key}.{k}", msg)
