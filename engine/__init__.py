"""optsim engine: pure NumPy optimization on loss surfaces. Never imports a UI library.

The public API is the names in ``__all__``, importable straight from the package::

    from optsim.engine import load_scenario, build_simulation, Diagnoser

They are resolved lazily (PEP 562) because importing any submodule, even
``optsim.engine.errors`` for `optsim --help`, runs this file first: an eager
import here would pull in SymPy and the whole engine on every start-up.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # scenario files
    "load_scenario": "scenario.load",
    "parse_scenario": "scenario.load",
    "Scenario": "scenario.load",
    "ScenarioError": "errors",
    "build_objective": "scenario.build",
    "build_simulation": "scenario.build",
    # the simulation core
    "Objective": "core.objective",
    "Simulation": "core.simulation",
    "RunSettings": "core.run_settings",
    "BUILTIN_SURFACES": "core.surfaces",
    # formulas
    "compile_formula": "formula.compile",
    "FormulaError": "formula.compile",
    # optimizers and schedules
    "OPTIMIZERS": "optim.registry",
    "get_optimizer": "optim.registry",
    "make_schedule": "optim.schedules",
    # analysis
    "analyze_point": "analysis.critical",
    "known_lower_bound": "formula.lower_bound",
    "Diagnoser": "analysis.diagnosis",
    "general_guide": "analysis.guide",
    "lr_sweep": "analysis.sweep",
    "basin_map": "analysis.sweep",
}
"""Public name -> the submodule (relative to this package) that defines it."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and cache the value here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
