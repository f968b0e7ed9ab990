"""The command line on good and bad input: exit codes, one-line errors, files written."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from optsim.tui.cli import main
from optsim.engine.scenario.trajectory_io import csv_line

SADDLE = """
title = "Lecture saddle"
[surface]
expr = "(1 - w1*w2)**2"
params = ["w1", "w2"]
[[runs]]
name = "on-line"
optimizer = "sgd"
lr = 0.1
start = [0.5, -0.5]
steps = 30
[[runs]]
name = "off-line"
optimizer = "adam"
lr = 0.05
start = [0.5, 0.2]
steps = 20
"""


def optsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optsim.tui.cli", *args], capture_output=True, text=True, timeout=120)


def test_run_writes_csv_rows_per_run(scenario_file, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["run", str(scenario_file(SADDLE)), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["run", "step", "w1", "w2", "loss", "lr", "grad_norm"]
    on = [r for r in rows if r["run"] == "on-line"]
    off = [r for r in rows if r["run"] == "off-line"]
    assert [int(r["step"]) for r in on] == list(range(31)) and len(off) == 21
    assert rows.index(off[0]) == 31  # grouped by run
    # row 0 is the start; loss and grad_norm are exact there
    assert float(on[0]["w1"]) == 0.5 and float(on[0]["loss"]) == (1 + 0.25) ** 2
    # on the line w1 = -w2 gradient descent stays on it (the lecture's stall)
    assert all(abs(float(r["w1"]) + float(r["w2"])) < 1e-12 for r in on)
    summary = capsys.readouterr().out
    assert "on-line" in summary and "finished" in summary


def test_run_json_and_seed_and_steps(scenario_file, tmp_path):
    out = tmp_path / "t.json"
    assert main(["run", str(scenario_file(SADDLE)), "--steps", "5", "--seed", "4", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["seed"] == 4 and data["params"] == ["w1", "w2"]
    assert [r["name"] for r in data["runs"]] == ["on-line", "off-line"]
    assert data["runs"][0]["steps"] == [0, 1, 2, 3, 4, 5]


def test_same_file_same_seed_byte_identical(scenario_file, tmp_path):
    path = scenario_file(SADDLE.replace("steps = 30", "steps = 30\nnoise = 0.2"))
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    main(["run", str(path), "--out", str(a)])
    main(["run", str(path), "--out", str(b)])
    assert a.read_bytes() == b.read_bytes()


def test_full_precision_round_trips(scenario_file, tmp_path):
    out = tmp_path / "t.csv"
    main(["run", str(scenario_file(SADDLE)), "--out", str(out)])
    text = out.read_text()
    value = text.splitlines()[5].split(",")[2]
    assert csv_line("r", 0, [float(value)]) == f"r,0,{value}\n" and len(value) > 10  # the shortest text, read back


def test_diverged_run_still_writes_the_file(scenario_file, tmp_path, capsys):
    path = scenario_file("""
        title = "boom"
        [surface]
        expr = "x**2 + y**2"
        [[runs]]
        name = "wild"
        lr = 5.0
        start = [1, 1]
        steps = 5000
        [[runs]]
        name = "calm"
        lr = 0.1
        start = [1, 1]
        steps = 50
    """)
    out = tmp_path / "t.csv"
    assert main(["run", str(path), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    wild = [r for r in rows if r["run"] == "wild"]
    assert wild and all(np.isfinite(float(r["x"])) and np.isfinite(float(r["loss"])) for r in wild)
    assert "diverged at step" in capsys.readouterr().out
    assert len([r for r in rows if r["run"] == "calm"]) == 51


def test_run_applies_scripted_set_events(scenario_file, tmp_path):
    text = SADDLE + "[[events]]\nat = 10\nrun = 'on-line'\nset = { lr = 0.0 }\n"
    out = tmp_path / "t.csv"
    main(["run", str(scenario_file(text)), "--out", str(out)])
    on = [r for r in csv.DictReader(out.open()) if r["run"] == "on-line"]
    assert float(on[10]["lr"]) == 0.1 and float(on[11]["lr"]) == 0.0
    assert on[11]["w1"] == on[30]["w1"]  # lr 0: it stops moving


def test_analyze_lecture_numbers(scenario_file, capsys):
    path = str(scenario_file(SADDLE))
    assert main(["analyze", path, "--at", "0,0", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["grad"] == [0.0, 0.0] and r["hessian"] == [[0.0, -2.0], [-2.0, 0.0]]
    np.testing.assert_allclose(r["eigenvalues"], [-2, 2])
    assert r["kind"] == "saddle point"
    np.testing.assert_allclose(r["escape_direction"], np.array([1, 1]) / np.sqrt(2))
    assert main(["analyze", path, "--at", "1,1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(r["eigenvalues"], [0, 4], atol=1e-12)
    assert r["kind"] == "degenerate" and r["escape_direction"] is None


def test_analyze_negative_point_both_spellings(scenario_file, capsys):
    path = str(scenario_file(SADDLE))
    assert main(["analyze", path, "--at=-1.5,2"]) == 0
    a = capsys.readouterr().out
    assert main(["analyze", path, "--at", "-1.5,2"]) == 0
    assert capsys.readouterr().out == a and "not critical" in a


@pytest.mark.parametrize("args,fragment", [
    (["run", "{bad}"], "runs[0].optimzer"),
    (["check", "{bad}"], "runs[0].optimzer"),
    (["run", "no-such-scenario-xyz"], "no such file or built-in scenario"),
    (["run", "{good}", "--out", "x.txt"], "must end in .csv or .json"),
    (["run", "{good}", "--steps", "0"], "--steps"),
    (["analyze", "{good}", "--at", "1,2,3"], "--at"),
])
def test_bad_input_exits_2_with_one_line(scenario_file, args, fragment):
    good = scenario_file(SADDLE, "good.toml")
    bad = scenario_file(SADDLE.replace("optimizer = \"sgd\"", "optimzer = \"sgd\""), "bad.toml")
    argv = [a.format(bad=bad, good=good) for a in args]
    proc = optsim(*argv)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_check_good_file(scenario_file):
    proc = optsim("check", str(scenario_file(SADDLE)))
    assert proc.returncode == 0 and proc.stdout.startswith("ok")


def test_help_and_list_do_not_import_the_app_sympy_or_numba():
    code = ("import sys, io, contextlib\n"
            "from optsim.tui.cli import main\n"
            "for argv in (['--help'], ['list']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: main(argv)\n"
            "        except SystemExit: pass\n"
            "bad = [m for m in ('sympy', 'textual', 'rich', 'optsim.tui.app', 'numba', 'zipfile') if m in sys.modules]\n"
            "print(bad)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_a_formula_that_parses_but_cannot_compile_is_bad_input(scenario_file):
    path = scenario_file(SADDLE.replace('"(1 - w1*w2)**2"', '"w1/(w2 - w2) + w1**2"'), "divzero.toml")
    for cmd in ("check", "run"):
        proc = optsim(cmd, str(path))
        assert proc.returncode == 2, proc.stderr
        assert "surface.expr" in proc.stderr and "Traceback" not in proc.stderr


def test_run_out_dash_writes_csv_to_stdout_and_the_summary_to_stderr(scenario_file):
    proc = optsim("run", str(scenario_file(SADDLE)), "--steps", "3", "--out", "-")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0] == "run,step,w1,w2,loss,lr,grad_norm" and len(lines) == 1 + 2 * 4
    assert "on-line" in proc.stderr and "steps x 2 runs" in proc.stderr


def test_list_a_folder_and_a_missing_folder(tmp_path, capsys):
    (tmp_path / "07-my-ravine.toml").write_text('title = "My ravine"\n')
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert main(["list", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["my-ravine", "My", "ravine"]
    proc = optsim("list", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "not a folder" in proc.stderr
