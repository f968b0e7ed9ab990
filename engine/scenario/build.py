"""Turn a validated Scenario into engine objects: the objective and the simulation."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import ScenarioError
from ..formula.compile import FormulaError, compile_formula
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
                     objective: Objective | None = None) -> Simulation:
    """A ready-to-step simulation of every run; ``seed`` and ``steps`` override the file."""
    obj = objective if objective is not None else build_objective(scenario)
    runs = [run_config(r, steps) for r in scenario.runs]
    return Simulation(obj, runs, seed=scenario.seed if seed is None else seed)
