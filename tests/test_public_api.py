"""`optsim.engine` exports its public API lazily: every name resolves, and importing the package costs nothing."""
from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import optsim.engine as engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", engine.__all__)
def test_every_public_name_resolves_to_the_object_its_module_defines(name):
    module = importlib.import_module(f"optsim.engine.{engine._EXPORTS[name]}")
    assert getattr(engine, name) is getattr(module, name)


def test_the_public_api_is_listed_in_all_and_dir():
    assert set(engine.__all__) == set(engine._EXPORTS)
    assert {"load_scenario", "build_simulation", "Simulation", "compile_formula", "analyze_point",
            "Diagnoser", "get_optimizer", "make_schedule", "ScenarioError"} <= set(engine.__all__)
    assert set(engine.__all__) <= set(dir(engine))


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no_such_name"):
        engine.no_such_name  # noqa: B018
    assert not hasattr(engine, "_private_helper")


def test_star_import_gives_exactly_the_public_api():
    namespace: dict = {}
    exec("from optsim.engine import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(engine.__all__)


def test_importing_the_package_imports_no_submodule_and_no_sympy():
    code = ("import sys\n"
            "import optsim.engine, optsim.engine.errors\n"
            "heavy = [m for m in ('sympy', 'textual', 'optsim.engine.core.simulation', 'optsim.engine.formula.compile')\n"
            "         if m in sys.modules]\n"
            "print(heavy)\n"
            "from optsim.engine import load_scenario, ScenarioError\n"
            "print([m for m in ('sympy', 'textual', 'rich') if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split("\n")[:2] == ["[]", "[]"], proc.stdout + proc.stderr


def test_the_readme_library_example_uses_only_the_public_api():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    imported = [name.strip() for group in re.findall(r"from optsim\.engine import ([^\n]+)", text)
                for name in group.split(",")]
    assert imported, "README.md: the library example no longer imports from optsim.engine"
    assert [n for n in imported if n not in engine.__all__] == []
