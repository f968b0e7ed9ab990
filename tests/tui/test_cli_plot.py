"""Command-line plots with plotext: `optsim sweep`'s lr plot and `--plot` on `optsim run` / `optsim diagnose`."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest

from optsim.engine.analysis.sweep import log_rates, lr_sweep
from optsim.engine.core.objective import Objective
from optsim.engine.formula.compile import compile_formula
from optsim.tui.cli import main
from optsim.tui.render.cli_plot import PlotStyle, decade_ticks, lr_sweep_plot, plot_style, step_curves_plot

BOWL = Objective(compile_formula("x^2 + y^2", ("x", "y")))
PLAIN = PlotStyle(72, 20, colour=False)
ESC = "\x1b"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def plot_rows(text: str) -> list[str]:
    """The rows inside the plot frame (between the lines holding ┌ and └), frame characters removed."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return [re.sub(r"^.*?[│┤]", "", line)[:-1] for line in lines[top + 1:bottom]]


def test_lr_sweep_plot_has_legend_axis_labels_and_decade_ticks():
    sweeps = lr_sweep(BOWL, ["sgd", "adam"], log_rates(1e-3, 2.0, 40), (1.0, 1.0), 200)
    text = lr_sweep_plot(sweeps, PLAIN)
    assert ESC not in text
    assert "learning rate" in text and "final loss" in text
    for label in ("sgd", "adam", "diverged"):  # sgd diverges above lr 1: marked 'x' on the top edge
        assert re.search(rf"(\S)\1 {label}\b", text), label  # legend: the series' marker twice, then its name
    ticks = text.splitlines()[-2].split()  # the x tick labels, below the frame
    assert ticks == ["0.001", "0.01", "0.1", "1"]
    assert "x" in plot_rows(text)[0].replace("xx diverged", "")  # a diverged rate on the top row
    assert {"1e-100", "1e-50", "1"} <= set(re.findall(r"^\s*(\S+)┤", text, re.M))  # log y: losses reach 1e-300


def test_colour_only_when_asked():
    sweeps = lr_sweep(BOWL, ["sgd"], log_rates(1e-3, 0.5, 10), (1.0, 1.0), 50)
    coloured = lr_sweep_plot(sweeps, PlotStyle(60, 15, colour=True))
    assert ESC in coloured and any("\u2800" < ch <= "\u28ff" for ch in coloured)  # colours, braille lines


def test_plot_style_follows_the_stream_and_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert plot_style(FakeTerminal(), 70, 20) == PlotStyle(70, 20, True)
    assert plot_style(io.StringIO(), 70, 20).colour is False  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert plot_style(FakeTerminal(), 70, 20).colour is False
    monkeypatch.setenv("COLUMNS", "123")
    monkeypatch.setenv("LINES", "42")
    assert plot_style(FakeTerminal()) == PlotStyle(123, 40, False)
    assert plot_style(FakeTerminal(), height_share=0.5).height == 20


def test_decade_ticks():
    assert decade_ticks(3e-4, 20.0) == ([1e-3, 1e-2, 1e-1, 1.0, 10.0], ["0.001", "0.01", "0.1", "1", "10"])
    assert decade_ticks(2.0, 5.0) == ([2.0, 5.0], ["2", "5"])  # no decade inside: the ends
    values, _ = decade_ticks(1e-60, 1.0)
    assert len(values) <= 8 and values[-1] == 1.0 and values[0] == pytest.approx(1e-56)


def test_step_curve_is_drawn_where_the_numbers_are():
    """A falling and a rising curve: each one's marker sits high on one side and low on the other."""
    ticks = np.arange(101)
    values = np.column_stack([101.0 - ticks, 1.0 + ticks])
    text = step_curves_plot(ticks, values, ["down", "up"], "loss", PLAIN)
    assert "loss against steps" in text and "step" in text.splitlines()[-1]
    rows = plot_rows(text)[2:]  # below the legend's two rows

    def slope(marker: str) -> float:
        """Correlation of row (0 = top) with column over the marker's cells: > 0 means falling."""
        hits = np.array([(i, j) for i, row in enumerate(rows) for j, ch in enumerate(row) if ch == marker])
        assert len(hits) > 30, marker
        return float(np.corrcoef(hits[:, 0], hits[:, 1])[0, 1])
    assert slope("*") > 0.8 and slope("+") < -0.8  # "down" falls from left to right, "up" rises


def test_negative_losses_get_a_linear_axis():
    ticks = np.arange(50)
    text = step_curves_plot(ticks, (-0.7 + np.exp(-ticks / 10.0))[:, None], ["r"], "loss", PLAIN)
    assert "log scale" not in text and re.search(r"^\s*-0\.\d+┤", text, re.M)


def test_run_plot_follows_the_summary_on_stdout(capsys):
    assert main(["run", "adaptive-ravine", "--plot", "--width", "80", "--height", "14"]) == 0
    out = capsys.readouterr().out
    assert ESC not in out  # captured stdout is no terminal
    summary, plots = out.index("steps x 5 runs"), out.index("loss against steps")
    assert summary < plots < out.index("|g| against steps")
    for name in ("gd", "adagrad", "rmsprop", "momentum", "adam"):
        assert re.search(rf"(\S)\1 {name}\b", out[plots:]), name
    assert "loss (log scale)" in out and "|g| (log scale)" in out


def test_run_plot_keeps_csv_on_stdout_clean(capsys):
    assert main(["run", "saddle-w1w2", "--out", "-", "--plot", "--width", "60", "--height", "12"]) == 0
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    assert lines[0] == "run,step,w1,w2,loss,lr,grad_norm" and len(lines) == 1 + 3 * 161
    assert all(line.count(",") == 6 for line in lines)
    assert "loss against steps" in cap.err and cap.err.index("steps x") < cap.err.index("loss against steps")


def test_diagnose_plot_after_the_report(capsys):
    assert main(["diagnose", "warmup", "--no-guide", "--plot", "--width", "70", "--height", "12"]) == 0
    out = capsys.readouterr().out
    assert out.index("remedy:") < out.index("loss against steps") < out.index("|g| against steps")
    assert main(["diagnose", "warmup", "--no-guide", "--json", "--plot", "--width", "70"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("{") and "against steps" not in cap.out and "loss against steps" in cap.err


def test_without_plot_nothing_is_drawn(capsys):
    assert main(["run", "saddle-w1w2"]) == 0
    assert "against steps" not in capsys.readouterr().out


@pytest.mark.parametrize("args,option", [
    (["run", "saddle-w1w2", "--plot", "--width", "5"], "--width"),
    (["diagnose", "saddle-w1w2", "--plot", "--height", "1000"], "--height"),
    (["sweep", "saddle-w1w2", "--width", "19"], "--width"),
])
def test_bad_plot_size_is_one_line(args, option, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "must be between" in err[0]


def test_run_writes_the_same_file_with_and_without_the_plot_that_needs_the_history(tmp_path, capsys):
    """Without --plot `optsim run` keeps no history (nothing else reads it): the numbers are the
    same bits either way, on the float path of five optimizers and with a run that diverges."""
    scenario = tmp_path / "five.toml"
    runs = "".join(f'[[runs]]\noptimizer = "{opt}"\nlr = {lr}\nstart = [-1.5, 2]\n'
                   for opt, lr in (("sgd", 0.0005), ("adagrad", 0.5), ("rmsprop", 0.001), ("adam", 0.01),
                                   ("adamw", 0.01), ("sgd", 0.01)))
    scenario.write_text('title = "five"\n[surface]\nbuiltin = "rosenbrock"\n' + runs)
    texts = []
    for extra in ([], ["--plot", "--width", "60", "--height", "12"]):
        out = tmp_path / f"t{len(extra)}.csv"
        assert main(["run", str(scenario), "--steps", "3000", "--out", str(out), *extra]) == 0
        texts.append(out.read_bytes())
    summary = capsys.readouterr().out
    assert "diverged at step" in summary  # the sgd run at lr 0.01
    assert texts[0] == texts[1] and texts[0].count(b"\n") > 3000
