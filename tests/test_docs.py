"""The README and docs/ are the contract: they must say what the code does.

Each check reads the numbers and names from the code (the loader's key tuples,
the optimizer registry, the schedule kinds, the built-in surfaces, the formula
functions, the limits, the argparse parsers, the diagnosis statuses) and fails
with a message naming what the docs lack or claim wrongly. The examples in the
docs are run, and every relative link must point at a file (and heading) that
exists.
"""
from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

from optsim.engine.analysis.diagnosis import STATUSES
from optsim.engine.core import budget
from optsim.engine.core.data import MAX_ROWS
from optsim.engine.core.surfaces import BUILTIN_SURFACES
from optsim.engine.formula import lower as formula_lower
from optsim.engine.formula.parse import BUILTIN_CONSTANTS, FUNCTIONS, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_NODES
from optsim.engine.optim.registry import OPTIMIZERS
from optsim.engine.optim.schedules import KINDS, REQUIRED, WARMUP
from optsim.engine.scenario import analysis_tables as tables
from optsim.engine.scenario import load
from optsim.tui.cli import COMMANDS, _app_parser, build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FORMAT = ROOT / "docs" / "scenario-format.md"
CLI = ROOT / "docs" / "cli.md"
MARKDOWN = [README, *sorted((ROOT / "docs").glob("*.md"))]


# ----- reading Markdown ---------------------------------------------------------------
def headings_and_bodies(path: Path) -> list[tuple[str, str]]:
    """(heading text, body up to the next heading) for every heading outside code fences."""
    out: list[tuple[str, list[str]]] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"^#{1,6} (.+)$", line)
        if match:
            out.append((match.group(1).strip(), []))
        elif out:
            out[-1][1].append(line)
    return [(h, "\n".join(body)) for h, body in out]


def section(path: Path, heading: str) -> str:
    bodies = [body for h, body in headings_and_bodies(path) if h == heading]
    assert len(bodies) == 1, f"{path.name}: expected one heading '{heading}', found {len(bodies)}"
    return bodies[0]


def cells(row: str) -> list[str]:
    """The cells of a table row (an escaped \\| stays inside its cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def rows(body: str) -> list[list[str]]:
    return [cells(line) for line in body.splitlines() if line.startswith("| ")]


def key_rows(body: str) -> dict[str, list[str]]:
    """Table rows whose first cell is one `key`, by key."""
    out = {}
    for r in rows(body):
        m = re.fullmatch(r"`([^`]+)`", r[0])
        if m:
            out[m.group(1)] = r
    return out


def fenced_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def toml_value(text: str):
    return tomllib.loads(f"v = {text}")["v"]


def plain(value):
    """A code default as TOML reads it back (tuples are lists)."""
    return list(value) if isinstance(value, tuple) else value


# ----- scenario keys ----------------------------------------------------------------------
KEY_TABLES = [
    ("Top-level keys", load.TOP_KEYS),
    ("`[surface]`", load.SURFACE_KEYS),
    ("`[data]`", load.DATA_KEYS),
    ("`data.generate`", load.GENERATE_KEYS),
    ("`[[runs]]`", load.RUN_KEYS + ("lr",)),
    ("`[[events]]`", load.EVENT_KEYS),
    ("`[guide]`", tables.GUIDE_KEYS),
    ("`guide.search`", tables.SEARCH_KEYS),
    ("`[[guide.variants]]`", tables.VARIANT_KEYS),
    ("`[batch_lab]`", tables.BATCH_KEYS),
    ("`[sweep.lr]`", tables.LR_KEYS),
    ("`[sweep.basin]`", tables.BASIN_KEYS),
]


@pytest.mark.parametrize("heading, accepted", KEY_TABLES, ids=[h for h, _ in KEY_TABLES])
def test_every_key_the_loader_accepts_is_documented_and_no_other(heading, accepted):
    documented = set(key_rows(section(FORMAT, heading)))
    missing = sorted(set(accepted) - documented)
    extra = sorted(documented - set(accepted))
    assert not missing, f"docs/scenario-format.md, table under '{heading}': undocumented keys {missing}"
    assert not extra, f"docs/scenario-format.md, table under '{heading}': keys the loader refuses {extra}"


def test_every_sweep_table_has_its_section():
    headings = {h for h, _ in headings_and_bodies(FORMAT)}
    missing = [k for k in tables.SWEEP_KEYS if f"`[sweep.{k}]`" not in headings]
    assert not missing, f"docs/scenario-format.md: no section for [sweep.{missing[0]}]"


def test_every_event_show_value_is_documented():
    row = key_rows(section(FORMAT, "`[[events]]`"))["show"]
    missing = [k for k in load.SHOW_KINDS if f"`{k}`" not in " ".join(row)]
    assert not missing, f"docs/scenario-format.md, events.show: undocumented values {missing}"


# ----- optimizers and schedules ----------------------------------------------------------
def documented_defaults(cell: str) -> dict[str, str]:
    """`key` = value pairs of a table cell (value text as written)."""
    return dict(re.findall(r"`(\w+)` = (\[[^\]]*\]|[^,]+)", cell))


def test_every_optimizer_is_documented_with_all_its_hyperparameters_and_defaults():
    table = key_rows(section(FORMAT, "Optimizers"))
    missing = sorted(set(OPTIMIZERS) - set(table))
    assert not missing, f"docs/scenario-format.md, Optimizers: undocumented optimizers {missing}"
    assert sorted(set(table) - set(OPTIMIZERS)) == [], "docs/scenario-format.md: documents unknown optimizers"
    for name, spec in OPTIMIZERS.items():
        doc = documented_defaults(table[name][1])
        assert set(doc) == set(spec.defaults), (
            f"docs/scenario-format.md, optimizer {name}: documented {sorted(doc)}, accepted {sorted(spec.defaults)}")
        for key, default in spec.defaults.items():
            assert toml_value(doc[key].strip()) == plain(default), (
                f"docs/scenario-format.md, optimizer {name}: {key} = {doc[key].strip()}, the code says {default!r}")


def test_every_schedule_kind_is_documented_with_its_keys_and_defaults():
    body = section(FORMAT, "Schedules")
    table = key_rows(body)
    missing = sorted(set(KINDS) - set(table))
    assert not missing, f"docs/scenario-format.md, Schedules: undocumented kinds {missing}"
    for kind, keys in KINDS.items():
        doc = documented_defaults(table[kind][1])
        assert set(doc) == set(keys), f"docs/scenario-format.md, schedule {kind}: keys {sorted(doc)} != {sorted(keys)}"
        for key, default in keys.items():
            text = doc[key].strip()
            expected = "required" if default is REQUIRED else default
            assert (text if default is REQUIRED else toml_value(text)) == expected, (
                f"docs/scenario-format.md, schedule {kind}: {key} = {text}, the code says {expected!r}")
    for key, default in WARMUP.items():
        assert key in table, f"docs/scenario-format.md, Schedules: warm-up key {key} is undocumented"
        written = table[key][2]
        assert (written if default is REQUIRED else toml_value(written)) == (
            "required" if default is REQUIRED else default), f"docs/scenario-format.md: warmup.{key} default"


# ----- surfaces, formulas, limits -----------------------------------------------------------
def test_every_builtin_surface_is_documented_with_its_formula_params_and_constants():
    table = key_rows(section(FORMAT, "Built-in surfaces"))
    assert sorted(set(BUILTIN_SURFACES) - set(table)) == [], "docs/scenario-format.md: undocumented built-in surfaces"
    assert sorted(set(table) - set(BUILTIN_SURFACES)) == [], "docs/scenario-format.md: unknown built-in surfaces"
    for name, s in BUILTIN_SURFACES.items():
        row = table[name]
        assert row[1] == f"`{s.expr}`", f"docs/scenario-format.md, surface {name}: formula {row[1]} != {s.expr}"
        assert row[2] == ", ".join(s.params), f"docs/scenario-format.md, surface {name}: params {row[2]}"
        doc = {} if row[3] == "-" else {k.strip(): float(v) for k, v in (p.split("=") for p in row[3].split(","))}
        assert doc == s.constants, f"docs/scenario-format.md, surface {name}: constants {doc} != {s.constants}"


def test_every_formula_function_and_constant_is_documented():
    body = section(FORMAT, "Formulas")
    missing = [f for f in [*FUNCTIONS, *BUILTIN_CONSTANTS] if f"`{f}`" not in body]
    assert not missing, f"docs/scenario-format.md, Formulas: undocumented functions or constants {missing}"


LIMITS = {
    "MAX_FILE_BYTES": load.MAX_FILE_BYTES, "MAX_STEPS": load.MAX_STEPS, "MAX_RUNS": load.MAX_RUNS,
    "MAX_PARAMS": load.MAX_PARAMS, "MAX_ROWS": MAX_ROWS, "MAX_LENGTH": MAX_LENGTH, "MAX_DEPTH": MAX_DEPTH,
    "MAX_NODES": MAX_NODES, "MAX_EXPONENT": MAX_EXPONENT, "MAX_POWER_PRODUCT": formula_lower.MAX_POWER_PRODUCT,
    "MAX_HESSIAN_WORK": formula_lower.MAX_HESSIAN_WORK, "MAX_VARIANTS": tables.MAX_VARIANTS,
    "MAX_SWEEP_RUNS": tables.MAX_SWEEP_RUNS, "MAX_SWEEP_STEPS": tables.MAX_SWEEP_STEPS,
    "MAX_RUN_STEPS": budget.MAX_RUN_STEPS, "MAX_ROW_STEPS": budget.MAX_ROW_STEPS,
    "MAX_SEARCH_STEPS": budget.MAX_SEARCH_STEPS, "MAX_LAB_STEPS": tables.MAX_LAB_STEPS,
}


def test_every_limit_is_documented_with_the_value_the_code_enforces():
    found = {}
    for r in rows(section(FORMAT, "Limits")):
        m = re.fullmatch(r"`(MAX_\w+)`", r[-1])
        if m:
            found[m.group(1)] = r[1]
    assert sorted(set(LIMITS) - set(found)) == [], "docs/scenario-format.md, Limits: undocumented limits"
    assert sorted(set(found) - set(LIMITS)) == [], "docs/scenario-format.md, Limits: limits this test does not know"
    for name, value in LIMITS.items():
        assert found[name].split()[0] == f"{value:,}", f"docs/scenario-format.md: {name} is {value:,}, not {found[name]}"


def test_every_run_status_is_in_the_readme_table():
    documented = {r[0] for r in rows(section(README, "What the diagnosis says, and why")) if r[0] != "status"}
    assert sorted(set(STATUSES) - documented) == [], "README.md: run statuses missing from the status table"
    assert sorted(documented - set(STATUSES)) == [], "README.md: the status table lists statuses the code lacks"


# ----- the command line -----------------------------------------------------------------------
def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def flags(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}


def check_flags(body: str, parser: argparse.ArgumentParser, where: str) -> None:
    accepted = flags(parser)
    missing = sorted(f for f in accepted if not re.search(rf"`{re.escape(f)}(?![\w-])", body))
    assert not missing, f"docs/cli.md, {where}: undocumented flags {missing}"
    documented = set(re.findall(r"`(--?[A-Za-z][\w-]*)", body))
    assert sorted(documented - accepted) == [], f"docs/cli.md, {where}: documents flags the parser lacks"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_and_flag_is_documented(command):
    parsers = subparsers()
    assert set(parsers) == set(COMMANDS)
    check_flags(section(CLI, f"`optsim {command}`"), parsers[command], f"optsim {command}")
    assert f"`optsim {command}" in README.read_text(encoding="utf-8"), f"README.md: optsim {command} is not listed"


def test_the_app_flags_are_documented():
    check_flags(section(CLI, "`optsim` (the app)"), _app_parser(), "optsim (the app)")


# ----- links and references ---------------------------------------------------------------------
def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", MARKDOWN, ids=[p.name for p in MARKDOWN])
def test_every_relative_link_points_at_an_existing_file_and_heading(page):
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        assert dest.exists(), f"{page.relative_to(ROOT)}: the link ({target}) points at a missing file"
        if anchor and dest.suffix == ".md":
            anchors = {slug(h) for h, _ in headings_and_bodies(dest)}
            assert anchor in anchors, f"{page.relative_to(ROOT)}: the link ({target}) points at a missing heading"


def test_the_readme_links_the_reference_pages():
    text = README.read_text(encoding="utf-8")
    assert "](docs/scenario-format.md)" in text and "](docs/cli.md)" in text


SCANNED = [README, *(ROOT / "docs").glob("*.md"), ROOT / "pyproject.toml",
           *(p for top in ("engine", "tui", "tests", "scenarios", "benchmarks") for p in (ROOT / top).rglob("*")
             if p.suffix in (".py", ".md", ".toml", ".tcss", ".csv"))]
OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared|/work/|\blecture/")
REPO_PATH = re.compile(r"\b(?:engine|tui|tests|scenarios|benchmarks|docs)/[\w./-]+\.(?:py|md|toml|tcss|csv)\b")


def test_nothing_refers_to_files_outside_the_repository_or_to_missing_ones():
    problems = []
    for path in SCANNED:
        if path == Path(__file__).resolve():
            continue  # this file names the patterns it looks for
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(ROOT)
        problems += [f"{rel}: refers outside the repository: {m}" for m in OUTSIDE.findall(text)]
        problems += [f"{rel}: refers to a missing file: {m}" for m in REPO_PATH.findall(text)
                     if not (ROOT / m).exists()]
    assert problems == []


# ----- the examples run ---------------------------------------------------------------------------
SCENARIO_BLOCKS = [(page, i, block) for page in MARKDOWN for i, block in enumerate(fenced_blocks(page, "toml"))]


@pytest.mark.parametrize("page, index, block", SCENARIO_BLOCKS,
                         ids=[f"{p.name}-{i}" for p, i, _ in SCENARIO_BLOCKS])
def test_every_toml_example_is_valid_and_a_whole_scenario_loads_and_runs(page, index, block, tmp_path):
    from optsim.engine import build_simulation, load_scenario

    raw = tomllib.loads(block)  # a fragment must at least be TOML
    if "title" not in raw:
        return
    path = tmp_path / "example.toml"
    path.write_text(block, encoding="utf-8")
    sim = build_simulation(load_scenario(path))
    assert sim.step(5) == 5 and (sim.diverged_at < 0).all()


def test_the_readme_library_example_runs_on_the_readme_scenario(tmp_path, monkeypatch, capsys):
    (tmp_path / "my.toml").write_text(fenced_blocks(README, "toml")[0], encoding="utf-8")
    code = fenced_blocks(README, "python")
    assert len(code) == 1, "README.md: expected one python example"
    monkeypatch.chdir(tmp_path)
    exec(compile(code[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "gd converged" in out and "saddle point" in out  # what the example's comments say


def test_every_builtin_scenario_is_in_the_readme_library_table():
    from optsim.engine.scenario.catalog import catalog

    documented = {name for r in rows(section(README, "The scenario library")) for name in re.findall(r"`([\w-]+)`", r[0])}
    missing = [e.name for e in catalog() if e.name not in documented]
    assert not missing, f"README.md, The scenario library: built-in scenarios missing from the table {missing}"


def test_every_key_a_scripted_set_may_change_is_documented():
    from optsim.engine.scenario.run_rules import SET_KEYS

    row = " ".join(key_rows(section(FORMAT, "`[[events]]`"))["set"])
    missing = [k for k in (*SET_KEYS, "lr") if f"`{k}`" not in row]
    assert not missing, f"docs/scenario-format.md, events.set: keys a set may change but the row omits {missing}"
