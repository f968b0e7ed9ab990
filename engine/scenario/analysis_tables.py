"""The optional analysis tables of a scenario: [guide], [batch_lab] and [sweep], read and checked.

The loader keeps these tables as plain dicts in ``Scenario.extra`` and calls
:func:`validate_analysis` so that a bad key fails at load time, naming the
file and the key like every other error. The modules that use a table parse
it again with the functions here (cheap, no SymPy).

[guide] (all keys optional):
    train_target = 0.05    # training loss above this is "large"
    test_target = 0.1      # test loss above this is "large"
    lower_bound = 0.0      # a value the loss cannot go below (else derived: see critical.py)
    search = { points = 41, refine = 64, steps = 300, lr = 0.05, box = { w1 = [-3, 3] } }
    [[guide.variants]]     # other models of the same data, of growing size
    name = "line"
    expr = "(y - (a*x + b))^2"        # per-sample loss over the same [data] columns
    params = ["a", "b"]
    start = [0.0, 0.0]
    constants = { }
    optimizer = "adam"                # plus lr and the optimizer's own keys
    lr = 0.05
    steps = 1000

[batch_lab]:
    batch_sizes = [1, 10, 100, 1000]  # required
    n_samples = 60000      # samples per epoch (default: the [data] training rows)
    capacity = 1000        # P: batches up to this size take the same time per update
    time_per_update = 1.0  # the time of one update at batch <= P
    slope = 0.001          # extra time per sample beyond P (default time_per_update / capacity)
    unit = "ms"
    run = "gd"             # the run copied at each batch size (default: the first)
    steps = 2000           # updates per batch size (default: that run's steps)
    noise_at_1 = 3.0       # without [data]: gradient-noise std at batch 1; batch b gets noise_at_1 / sqrt(b)

[sweep]:
    [sweep.lr]
    optimizers = ["sgd", "adam"]   # default: the optimizers of the runs
    min = 1e-5
    max = 1.0
    n = 500                        # rates on a log grid
    steps = 1000
    start = [-1.5, 2.0]            # default: the first run's start
    [sweep.basin]
    optimizer = "sgd"              # default: the first run's optimizer and hyperparameters
    lr = 0.01
    steps = 500
    grid = 200                     # starts per axis
    window = { x = [-5, 5], y = [-5, 5] }   # default: the view
    tol = 0.05                     # reached a minimum = within tol * window size of it
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.budget import MAX_SEARCH_STEPS, work_problem
from ..errors import ScenarioError, nearest
from ..optim.registry import OPTIMIZERS, validate_hyperparameters
from .reader import MAX_PARAMS, MAX_STEPS, Reader, check_formula

GUIDE_KEYS = ("train_target", "test_target", "lower_bound", "search", "variants")
SEARCH_KEYS = ("points", "refine", "steps", "lr", "box")
VARIANT_KEYS = ("name", "expr", "params", "start", "constants", "optimizer", "steps")
BATCH_KEYS = ("batch_sizes", "n_samples", "capacity", "time_per_update", "slope", "unit", "run", "steps",
              "noise_at_1")
SWEEP_KEYS = ("lr", "basin")
LR_KEYS = ("optimizers", "min", "max", "n", "steps", "start")
BASIN_KEYS = ("optimizer", "lr", "steps", "grid", "window", "tol")
MAX_VARIANTS = 8
MAX_SWEEP_RUNS = 250_000
MAX_SWEEP_STEPS = 100_000
MAX_LAB_STEPS = 1_000_000  # batch sizes x steps of the batch lab (it keeps every step's losses)


@dataclass(frozen=True)
class SearchSpec:
    points: int = 41  # per axis with <= 2 parameters, else random points = points^2 // 4
    refine: int = 64
    steps: int = 300
    lr: float | None = None  # default: 1% of the box's median span
    box: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantSpec:
    name: str
    expr: str
    params: tuple[str, ...]
    start: tuple[float, ...]
    constants: dict[str, float]
    optimizer: str
    hyper: dict[str, Any]
    steps: int


@dataclass(frozen=True)
class GuideConfig:
    train_target: float | None = None
    test_target: float | None = None
    lower_bound: float | None = None
    search: SearchSpec = SearchSpec()
    variants: tuple[VariantSpec, ...] = ()


@dataclass(frozen=True)
class BatchLabConfig:
    batch_sizes: tuple[int, ...]
    n_samples: int
    capacity: int = 1000
    time_per_update: float = 1.0
    slope: float | None = None
    unit: str = "ms"
    run: str | None = None
    steps: int | None = None
    noise_at_1: float | None = None


@dataclass(frozen=True)
class LrSweepSpec:
    optimizers: tuple[str, ...] = ()
    lr_min: float = 1e-5
    lr_max: float = 1.0
    n: int = 200
    steps: int | None = None
    start: tuple[float, ...] | None = None


@dataclass(frozen=True)
class BasinSpec:
    optimizer: str | None = None
    lr: float | None = None
    steps: int = 500
    grid: int = 100
    window: dict[str, tuple[float, float]] = field(default_factory=dict)
    tol: float = 0.05


@dataclass(frozen=True)
class SweepConfig:
    lr: LrSweepSpec = LrSweepSpec()
    basin: BasinSpec = BasinSpec()


def parse_guide(raw: Mapping[str, Any] | None, file: str, params: tuple[str, ...],
                columns: tuple[str, ...] = ()) -> GuideConfig:
    """Check a [guide] table (None: defaults)."""
    if raw is None:
        return GuideConfig()
    r = Reader(file)
    r.keys(raw, "guide", GUIDE_KEYS)
    num = {k: r.number(raw[k], f"guide.{k}") for k in ("train_target", "test_target", "lower_bound") if k in raw}
    search = SearchSpec()
    if "search" in raw:
        t = r.table(raw["search"], "guide.search")
        r.keys(t, "guide.search", SEARCH_KEYS)
        box = r.ranges(t.get("box", {}), "guide.search.box", params)
        search = SearchSpec(r.integer(t.get("points", 41), "guide.search.points", 2, 401),
                            r.integer(t.get("refine", 64), "guide.search.refine", 1, 10_000),
                            r.integer(t.get("steps", 300), "guide.search.steps", 0, 100_000),
                            r.number(t["lr"], "guide.search.lr", 0.0) if "lr" in t else None, box)
        if search.refine * search.steps > MAX_SEARCH_STEPS:
            raise r.fail("guide.search", f"refine x steps is {search.refine * search.steps}, "
                                         f"more than {MAX_SEARCH_STEPS}")
    variants = []
    raw_v = raw.get("variants", [])
    if not isinstance(raw_v, list):
        raise r.fail("guide.variants", "must be an array of tables ([[guide.variants]])")
    if len(raw_v) > MAX_VARIANTS:
        raise r.fail("guide.variants", f"at most {MAX_VARIANTS} variants")
    for i, t in enumerate(raw_v):
        variants.append(_variant(r, r.table(t, f"guide.variants[{i}]"), f"guide.variants[{i}]", columns,
                                 {v.name for v in variants}))
    return GuideConfig(num.get("train_target"), num.get("test_target"), num.get("lower_bound"), search,
                       tuple(variants))


def _variant(r: Reader, t: dict[str, Any], key: str, columns: tuple[str, ...], taken: set[str]) -> VariantSpec:
    opt = r.string(t.get("optimizer", "adam"), f"{key}.optimizer", 64)
    if opt not in OPTIMIZERS:
        raise r.fail(f"{key}.optimizer", f"unknown optimizer {opt!r}" + nearest(opt, OPTIMIZERS))
    hyper = {k: v for k, v in t.items() if k not in VARIANT_KEYS}
    for k in hyper:
        if k not in OPTIMIZERS[opt].defaults:
            raise r.fail(f"{key}.{k}", f"unknown key for a variant using {opt}"
                         + nearest(k, tuple(OPTIMIZERS[opt].defaults) + VARIANT_KEYS))
    for k, msg in validate_hyperparameters(opt, hyper):
        raise r.fail(f"{key}.{k}", msg)
    for need in ("name", "expr", "params", "start"):
        if need not in t:
            raise r.fail(f"{key}.{need}", "is missing")
    name = r.string(t["name"], f"{key}.name", 40)
    if name in taken:
        raise r.fail(f"{key}.name", f"{name!r} is already the name of another variant")
    params = r.names(t["params"], f"{key}.params")
    if len(params) > MAX_PARAMS:
        raise r.fail(f"{key}.params", f"at most {MAX_PARAMS} parameters")
    if set(params) & set(columns):
        raise r.fail(f"{key}.params", f"{sorted(set(params) & set(columns))[0]!r} is also a data column")
    constants = {k: r.number(v, f"{key}.constants.{k}") for k, v in r.table(t.get("constants", {}),
                                                                          f"{key}.constants").items()}
    check_formula(r, r.string(t["expr"], f"{key}.expr", 4000), params, constants, columns, f"{key}.expr")
    start = r.numbers(t["start"], f"{key}.start", len(params))
    steps = r.integer(t.get("steps", 1000), f"{key}.steps", 1, min(MAX_STEPS, 1_000_000))
    hyper = {k: (tuple(v) if isinstance(v, list) else v) for k, v in hyper.items()}
    return VariantSpec(name, t["expr"], params, start, constants, opt, hyper, steps)


def parse_batch_lab(raw: Mapping[str, Any], file: str, n_rows: int | None, run_names: tuple[str, ...]) -> BatchLabConfig:
    """Check a [batch_lab] table; ``n_rows`` is the [data] training size (None without data)."""
    r = Reader(file)
    r.keys(raw, "batch_lab", BATCH_KEYS)
    if "batch_sizes" not in raw:
        raise r.fail("batch_lab.batch_sizes", "is missing")
    sizes = raw["batch_sizes"]
    if not isinstance(sizes, list) or not sizes or len(sizes) > 16:
        raise r.fail("batch_lab.batch_sizes", "must be a list of 1 to 16 batch sizes")
    if "n_samples" in raw:
        n = r.integer(raw["n_samples"], "batch_lab.n_samples", 1, 10**9)
    elif n_rows is not None:
        n = n_rows
    else:
        raise r.fail("batch_lab.n_samples", "is missing (needed without a [data] table)")
    bs = tuple(r.integer(v, f"batch_lab.batch_sizes[{i}]", 1, n) for i, v in enumerate(sizes))
    if len(set(bs)) != len(bs):
        raise r.fail("batch_lab.batch_sizes", "lists a batch size twice")
    run = None
    if "run" in raw:
        run = r.string(raw["run"], "batch_lab.run", 40)
        if run not in run_names:
            raise r.fail("batch_lab.run", f"no run named {run!r}" + nearest(run, run_names))
    noise = r.number(raw["noise_at_1"], "batch_lab.noise_at_1", 0.0) if "noise_at_1" in raw else None
    if n_rows is None and noise is None:
        raise r.fail("batch_lab.noise_at_1", "is missing: without [data] a batch size is modelled as gradient "
                     "noise noise_at_1 / sqrt(batch)")
    return BatchLabConfig(
        bs, n, r.integer(raw.get("capacity", 1000), "batch_lab.capacity", 1, 10**9),
        r.number(raw.get("time_per_update", 1.0), "batch_lab.time_per_update", 0.0),
        r.number(raw["slope"], "batch_lab.slope", 0.0) if "slope" in raw else None,
        r.string(raw.get("unit", "ms"), "batch_lab.unit", 12), run,
        r.integer(raw["steps"], "batch_lab.steps", 1, 1_000_000) if "steps" in raw else None, noise)


def parse_sweep(raw: Mapping[str, Any] | None, file: str, params: tuple[str, ...]) -> SweepConfig:
    """Check a [sweep] table (None: defaults)."""
    if raw is None:
        return SweepConfig()
    r = Reader(file)
    r.keys(raw, "sweep", SWEEP_KEYS)
    lr = LrSweepSpec()
    if "lr" in raw:
        t = r.table(raw["lr"], "sweep.lr")
        r.keys(t, "sweep.lr", LR_KEYS)
        opts = ()
        if "optimizers" in t:
            if not isinstance(t["optimizers"], list) or not t["optimizers"]:
                raise r.fail("sweep.lr.optimizers", "must be a non-empty list of optimizer names")
            for i, o in enumerate(t["optimizers"]):
                if not isinstance(o, str) or o not in OPTIMIZERS:
                    raise r.fail(f"sweep.lr.optimizers[{i}]", f"unknown optimizer {o!r}" + nearest(str(o), OPTIMIZERS))
            opts = tuple(t["optimizers"])
        lo = r.number(t.get("min", 1e-5), "sweep.lr.min", 0.0)
        hi = r.number(t.get("max", 1.0), "sweep.lr.max", 0.0)
        if not 0 < lo < hi:
            raise r.fail("sweep.lr", f"needs 0 < min < max, not min {lo:g}, max {hi:g}")
        n = r.integer(t.get("n", 200), "sweep.lr.n", 2, 10_000)
        if n * max(1, len(opts)) > MAX_SWEEP_RUNS:
            raise r.fail("sweep.lr.n", f"at most {MAX_SWEEP_RUNS} runs in all")
        steps = r.integer(t["steps"], "sweep.lr.steps", 1, MAX_SWEEP_STEPS) if "steps" in t else None
        start = r.numbers(t["start"], "sweep.lr.start", len(params)) if "start" in t else None
        lr = LrSweepSpec(opts, lo, hi, n, steps, start)
    basin = BasinSpec()
    if "basin" in raw:
        t = r.table(raw["basin"], "sweep.basin")
        r.keys(t, "sweep.basin", BASIN_KEYS)
        opt = None
        if "optimizer" in t:
            opt = r.string(t["optimizer"], "sweep.basin.optimizer", 64)
            if opt not in OPTIMIZERS:
                raise r.fail("sweep.basin.optimizer", f"unknown optimizer {opt!r}" + nearest(opt, OPTIMIZERS))
        window = r.ranges(t.get("window", {}), "sweep.basin.window", params)
        grid = r.integer(t.get("grid", 100), "sweep.basin.grid", 2, 500)
        basin = BasinSpec(opt, r.number(t["lr"], "sweep.basin.lr", 0.0) if "lr" in t else None,
                          r.integer(t.get("steps", 500), "sweep.basin.steps", 1, MAX_SWEEP_STEPS), grid, window,
                          r.number(t.get("tol", 0.05), "sweep.basin.tol", 0.0, 1.0))
    return SweepConfig(lr, basin)


def validate_analysis(file: str, extra: Mapping[str, Any], params: tuple[str, ...], columns: tuple[str, ...],
                      n_rows: int | None, run_names: tuple[str, ...], run_steps: tuple[int, ...] = ()) -> None:
    """Raise ScenarioError for the first problem in the scenario's [guide], [batch_lab] or [sweep] table."""
    if "guide" in extra:
        guide = parse_guide(extra["guide"], file, params, columns)
        problem = work_problem(len(guide.variants), sum(v.steps for v in guide.variants), n_rows)
        if guide.variants and problem:
            raise ScenarioError(file, "guide.variants", problem.replace("runs", "variants", 1))
    if "batch_lab" in extra:
        lab = parse_batch_lab(extra["batch_lab"], file, n_rows, run_names)
        _check_lab_work(file, lab, n_rows, dict(zip(run_names, run_steps)))
    if "sweep" in extra:
        parse_sweep(extra["sweep"], file, params)


def _check_lab_work(file: str, lab: BatchLabConfig, n_rows: int | None, run_steps: dict[str, int]) -> None:
    """The lab steps one copy of a run per batch size and keeps every step's losses: bound
    batch sizes x steps (MAX_LAB_STEPS) and, with data, x rows (core.budget.MAX_ROW_STEPS)."""
    steps = lab.steps or run_steps.get(lab.run or next(iter(run_steps), ""), 0)
    work = len(lab.batch_sizes) * steps
    if work > MAX_LAB_STEPS:
        raise ScenarioError(file, "batch_lab.steps", f"{len(lab.batch_sizes)} batch sizes x {steps} steps is {work}, "
                                                     f"more than {MAX_LAB_STEPS}")
    problem = work_problem(len(lab.batch_sizes), work, n_rows)
    if problem:
        raise ScenarioError(file, "batch_lab.steps", problem.replace("runs", "batch sizes", 1))


__all__ = ["GuideConfig", "VariantSpec", "SearchSpec", "BatchLabConfig", "SweepConfig", "LrSweepSpec",
           "BasinSpec", "parse_guide", "parse_batch_lab", "parse_sweep", "validate_analysis", "ScenarioError"]
