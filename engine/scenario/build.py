"""Turn a validated Scenario into engine objects: the objective and the simulation."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import ScenarioError
from ..formula.compile import FormulaError, compile_formula
from ..core.budget import work_problem
from ..core.objective import Objective
from ..core.run_settings import RunSettings
from ..core.simulation import Simulation
from .load import Scenario


def build_objective(scenario: Scenario) -> Objective:
    """Compile the scenario's formula (exact gradient and Hessian) over its data."""
    s = scenario.surface
    columns = scenario.data.columns if scenario.data is not None else ()
    try:
        formula = compile_formula(s.expr, s.params, s.constants, columns)
    except FormulaError as exc:  # parsing passed at load time; compiling (derivatives) can still refuse
        raise ScenarioError(scenario.path, "surface.builtin" if s.builtin else "surface.expr", str(exc)) from None
    shift = None if s.test_shift is None else np.asarray(s.test_shift, dtype=np.float64)
    return Objective(formula, scenario.data, shift)


def run_config(run: RunSettings, steps: int | None = None) -> RunSettings:
    """A file's run as a simulation takes it (its own copy of the hyperparameters);
    ``steps`` overrides the file's count."""
    return replace(run, hyper=dict(run.hyper), steps=run.steps if steps is None else steps)


def build_simulation(scenario: Scenario, seed: int | None = None, steps: int | None = None,
                     objective: Objective | None = None, record_history: bool = True) -> Simulation:
    """A ready-to-step simulation of every run; ``seed`` and ``steps`` override the file.
    ``record_history=False`` for a caller that never reads the history (a headless run
    without its plot): the same numbers, without the bookkeeping of the plots' samples."""
    obj = objective if objective is not None else build_objective(scenario)
    runs = [run_config(r, steps) for r in scenario.runs]
    check_work(scenario, runs, obj, steps_key="--steps" if steps is not None else "")
    sim = Simulation(obj, runs, seed=scenario.seed if seed is None else seed, record_history=record_history)
    check_starts(scenario, sim)
    return sim


def check_work(scenario: Scenario, runs: list[RunSettings], objective: Objective, steps_key: str = "") -> None:
    """Each number may be within its limit while their product is not: bound the total work
    (core.budget: runs x steps, and rows x steps with data)."""
    n_rows = objective.data.n_train if objective.data is not None else None
    problem = work_problem(len(runs), sum(r.steps for r in runs), n_rows)
    if problem:
        hint = ": use fewer runs, steps or rows" if n_rows is not None else ""
        raise ScenarioError(scenario.path, steps_key or "runs", problem + hint)


def check_starts(scenario: Scenario, sim: Simulation) -> None:
    """A run cannot start where the loss or its gradient is not a finite number (1/x at x = 0)."""
    bad = ~(np.isfinite(sim.loss) & np.isfinite(sim.grad).all(axis=1))
    for i in np.flatnonzero(bad).tolist():
        start = ", ".join(f"{x:g}" for x in sim.params[i])
        what = "loss" if not np.isfinite(sim.loss[i]) else "gradient"
        value = sim.loss[i] if what == "loss" else sim.grad[i][~np.isfinite(sim.grad[i])][0]
        raise ScenarioError(scenario.path, f"runs[{i}].start",
                            f"the {what} at ({start}) is {value}, not a finite number")
