"""Property: any TOML document either loads as a scenario or raises ScenarioError naming the file.

Scenario files are untrusted input; whatever shape they take, the loader (and
building the simulation) must answer with one clear error, never a crash.
"""
from __future__ import annotations

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optsim.engine.scenario.build import build_simulation
from optsim.engine.errors import ScenarioError
from optsim.engine.scenario.load import load_scenario

KEYS = ["title", "description", "seed", "surface", "data", "runs", "events", "expr", "builtin", "params",
        "constants", "view", "minima", "test_shift", "plot", "columns", "rows", "generate", "n", "x", "y",
        "name", "optimizer", "lr", "momentum", "betas", "start", "steps", "batch_size", "noise", "schedule",
        "kind", "T_max", "warmup", "at", "say", "pause", "run", "set", "show", "guide", "sweep", "batch_lab"]
STRINGS = ["sgd", "adam", "rosenbrock", "x**2 + y**2", "(1 - w1*w2)**2", "x", "y", "cosine", "hessian",
           "w1", "", "__import__('os')", "x/(y-y)", "exp(x)*1e308"]
scalars = st.one_of(st.integers(-3, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.booleans(), st.sampled_from(STRINGS))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=20)


def plausible() -> st.SearchStrategy[dict]:
    """Documents close to a valid scenario, so the fuzz reaches deep into validation."""
    good_surfaces = st.sampled_from([{"builtin": "rosenbrock"}, {"expr": "x**2 + y**2"},
                                     {"expr": "(1 - w1*w2)**2", "params": ["w1", "w2"]}])
    odd_surface = st.fixed_dictionaries({}, optional={"expr": st.sampled_from(STRINGS), "builtin": st.sampled_from(STRINGS),
                                                      "params": st.lists(st.sampled_from(["x", "y", "w1"]), max_size=3),
                                                      "view": values, "constants": values})
    surface = st.one_of(good_surfaces, good_surfaces, good_surfaces, odd_surface)
    run = st.fixed_dictionaries({"start": st.one_of(st.lists(st.floats(-3, 3), min_size=2, max_size=2),
                                                    st.lists(st.floats(-3, 3), max_size=3))},
                                optional={"optimizer": st.sampled_from(["sgd", "adam", "rmsprop", "adagrad_lecture", "adamm"]),
                                          "lr": st.one_of(st.floats(-1, 10), scalars), "steps": st.integers(-1, 50),
                                          "schedule": st.one_of(st.sampled_from([{"kind": "cosine", "T_max": 5},
                                                                                 {"kind": "noam", "warmup_steps": 3},
                                                                                 {"kind": "step", "step_size": 0}]), values),
                                          "momentum": st.one_of(st.floats(-1, 2), scalars), "betas": values,
                                          "noise": st.one_of(st.floats(0, 1), scalars), "name": st.sampled_from(["a", "b"])})
    event = st.fixed_dictionaries({"at": st.integers(-1, 5)},
                                  optional={"say": st.sampled_from(["hi", 3]), "run": st.sampled_from(["a", "b", "c"]),
                                            "set": st.one_of(st.sampled_from([{"lr": 0.1}, {"optimizer": "adam"},
                                                                              {"nesterov": True}]), values),
                                            "show": st.sampled_from(["hessian", "escape", "nope"]),
                                            "pause": scalars, "focus": scalars})
    return st.fixed_dictionaries({"title": st.just("t"), "surface": surface, "runs": st.lists(run, max_size=3)},
                                 optional={"events": st.lists(event, max_size=3), "seed": scalars})


def check(doc: dict, tmp_path) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    try:
        scenario = load_scenario(path)
        sim = build_simulation(scenario, steps=3)
        sim.step(3)
    except ScenarioError as exc:
        assert exc.file == str(path) and "\n" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_arbitrary_documents(tmp_path, doc):
    check(doc, tmp_path)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plausible())
def test_nearly_valid_documents(tmp_path, doc):
    check(doc, tmp_path)
