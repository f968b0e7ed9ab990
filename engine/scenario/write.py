"""Write a scenario back as TOML: the file a person edited in the app, with its live runs.

``scenario_to_toml(scenario, runs)`` gives text that ``load_scenario`` reads back into the
same Scenario (title, description, seed, surface, data, events and extra tables as loaded;
the runs as they are now in the app). Data always goes inline as rows (a CSV or a
generator becomes its rows), so the saved file stands alone. Events that name a run that
no longer exists are left out (the loader would reject them); ``dropped_events`` lists them.
Pure: no files, no Textual.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import tomli_w

from ..core.run_settings import RunSettings
from .load import EventSpec, Scenario


def _plain(value: Any) -> Any:
    """TOML-ready copies of engine values: tuples and arrays become lists, NumPy scalars Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _surface(scenario: Scenario) -> dict[str, Any]:
    from ..core.surfaces import BUILTIN_SURFACES

    s = scenario.surface
    out: dict[str, Any] = {}
    if s.builtin is not None:
        out["builtin"] = s.builtin
        b = BUILTIN_SURFACES[s.builtin]
        if s.constants:
            out["constants"] = dict(s.constants)
        default_minima = tuple(tuple(float(x) for x in m) for m in b.minima)
        if tuple(s.minima) != default_minima:
            out["minima"] = [list(m) for m in s.minima]
    else:
        out["expr"] = s.expr
        out["params"] = list(s.params)
        if s.constants:
            out["constants"] = dict(s.constants)
        if s.minima:
            out["minima"] = [list(m) for m in s.minima]
    if s.view:
        out["view"] = {k: [lo, hi] for k, (lo, hi) in s.view.items()}
    if s.test_shift is not None:
        out["test_shift"] = list(s.test_shift)
    if s.plot is not None:
        out["plot"] = list(s.plot)
    return _plain(out)


def _data(scenario: Scenario) -> dict[str, Any] | None:
    d = scenario.data
    if d is None:
        return None
    rows = np.column_stack([d.train[c] for c in d.columns])
    out: dict[str, Any] = {"columns": list(d.columns), "rows": rows.tolist()}
    if d.test is not None:
        out["test_rows"] = np.column_stack([d.test[c] for c in d.columns]).tolist()
    return out


def _run(run: RunSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"name": run.name, "optimizer": run.optimizer}
    out.update(run.hyper)
    out["start"] = list(run.start)
    out["steps"] = int(run.steps)
    if run.batch_size is not None:
        out["batch_size"] = int(run.batch_size)
    if run.noise:
        out["noise"] = float(run.noise)
    if run.schedule:
        out["schedule"] = dict(run.schedule)
    return _plain(out)


def _event(event: EventSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"at": event.at}
    if event.say is not None:
        out["say"] = event.say
    if event.pause:
        out["pause"] = True
    if event.run is not None:
        out["run"] = event.run
    if event.set:
        out["set"] = dict(event.set)
    if event.focus:
        out["focus"] = True
    if event.show is not None:
        out["show"] = event.show
    return _plain(out)


def dropped_events(scenario: Scenario, runs: Sequence[RunSettings]) -> list[EventSpec]:
    """Events that name a run not among `runs` (they cannot be saved with them)."""
    names = {r.name for r in runs}
    return [e for e in scenario.events if e.run is not None and e.run not in names]


def scenario_to_dict(scenario: Scenario, runs: Sequence[RunSettings] | None = None,
                     seed: int | None = None) -> dict[str, Any]:
    """The TOML table of a scenario with these runs (default: the scenario's own)."""
    runs = list(scenario.runs if runs is None else runs)
    if not runs:
        raise ValueError("a scenario needs at least one run")
    dropped = {id(e) for e in dropped_events(scenario, runs)}
    out: dict[str, Any] = {
        "format": 1,
        "title": scenario.title,
        "description": scenario.description,
        "seed": int(scenario.seed if seed is None else seed),
        "surface": _surface(scenario),
    }
    data = _data(scenario)
    if data is not None:
        out["data"] = data
    out["runs"] = [_run(r) for r in runs]
    events = [_event(e) for e in scenario.events if id(e) not in dropped]
    if events:
        out["events"] = events
    for key, table in scenario.extra.items():
        out[key] = _plain(table)
    return out


def scenario_to_toml(scenario: Scenario, runs: Sequence[RunSettings] | None = None,
                     seed: int | None = None) -> str:
    """TOML text that load_scenario reads back into this scenario with these runs.

    Laid out for people: short arrays and small tables inline, one data row per line,
    the description as a multi-line string; scalars are escaped by tomli-w."""
    doc = scenario_to_dict(scenario, runs, seed)
    lines: list[str] = []
    for key in ("format", "title", "description", "seed"):
        multiline = key == "description" and "\n" in doc[key]
        lines.append(f"{key} = {_scalar(doc[key], multiline)}")
    lines += ["", "[surface]", *_pairs(doc["surface"])]
    if "data" in doc:
        lines += ["", "[data]"]
        for key, value in doc["data"].items():
            if key in ("rows", "test_rows"):
                lines.append(f"{key} = [")
                lines += [f"    {_inline(row)}," for row in value]
                lines.append("]")
            else:
                lines.append(f"{key} = {_inline(value)}")
    for run in doc["runs"]:
        lines += ["", "[[runs]]", *_pairs(run)]
    for event in doc.get("events", []):
        lines += ["", "[[events]]", *_pairs(event)]
    text = "\n".join(lines) + "\n"
    for key in scenario.extra:
        text += "\n" + tomli_w.dumps({key: doc[key]})
    return text


def _scalar(value: Any, multiline: bool = False) -> str:
    """One TOML literal, escaped by tomli-w."""
    line = tomli_w.dumps({"v": value}, multiline_strings=multiline)
    return line[len("v = "):].rstrip("\n")


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _scalar(key)


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _scalar(value)


def _pairs(table: Mapping[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_inline(v)}" for k, v in table.items()]
