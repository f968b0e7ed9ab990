"""The wheel installs everything under the one name `optsim`, data files included."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_the_packages_and_data_under_optsim(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("optsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"optsim"}  # no top-level engine/ or tui/
    sources = sorted(str(p.relative_to(ROOT)) for top in ("engine", "tui") for p in (ROOT / top).rglob("*.py"))
    missing = [s for s in sources if f"optsim/{s}" not in names]
    assert len(sources) > 60 and missing == []  # every module of every sub-package is packaged
    builtins = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
    assert builtins and all(f"optsim/scenarios/{b}" in names for b in builtins)
    tcss = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tui").rglob("*.tcss"))
    assert all(f"optsim/{t}" in names for t in tcss)
    entry = [n for n in names if n.endswith("entry_points.txt")][0]
    assert "optsim = optsim.tui.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
