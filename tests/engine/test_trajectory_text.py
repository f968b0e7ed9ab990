"""The CSV writer's number text (trajectory_io): orjson's shortest round-trip floats, the bulk
formatting (csv_lines) exactly the text of csv_line row by row, and every float read back
bit for bit, the awkward ones included (signed zeros, subnormals, huge values, nan and inf)."""
from __future__ import annotations

import csv
import io

import numpy as np

from optsim.engine.scenario.trajectory_io import TrajectoryRecorder, csv_line, csv_lines

AWKWARD = [0.1, -0.0, 0.0, 1e-05, 1e16, 1.0000000000000002, float("nan"), float("inf"), -float("inf"),
           5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
           -1.7976931348623157e308, 123456789012345678.0, -2.5, 1e22, 1e-7, 9007199254740993.0]


def _row_by_row(name: str, steps: list[int], rows: np.ndarray) -> str:
    return "".join(csv_line(name, k, r) for k, r in zip(steps, rows.tolist()))


def _bits(a: np.ndarray) -> np.ndarray:
    """The float64 bit patterns, NaNs made one (NaN's sign and payload are not written)."""
    a = np.where(np.isnan(a), np.nan, a)
    return np.ascontiguousarray(a).view(np.int64)


def _read_back(text: str) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")[2:]] for line in text.splitlines()])


def test_varying_values_match_row_by_row_text():
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((200, 5)) * 10.0 ** rng.integers(-30, 30, (200, 5))
    rows[: len(AWKWARD), 1] = AWKWARD
    rows[: len(AWKWARD), 3] = AWKWARD[::-1]
    steps = list(range(7, 207))
    assert csv_lines("run, one", steps, rows) == _row_by_row("run, one", steps, rows)


def test_every_float_reads_back_bit_for_bit():
    rng = np.random.default_rng(5)
    rows = np.concatenate([rng.standard_normal((300, 4)) * 10.0 ** rng.integers(-320, 300, (300, 4)),
                           rng.integers(0, 2**63 - 1, (300, 4), dtype=np.int64).view(np.float64)])
    rows[: len(AWKWARD), 0] = AWKWARD
    assert (_bits(_read_back(csv_lines("r", list(range(len(rows))), rows))) == _bits(rows)).all()


def test_number_text_is_the_shortest_round_trip_and_keeps_signs_and_non_finite_values():
    line = csv_line("r", 3, [1e-05, -0.0, 1e16, float("nan"), -float("inf"), 0.1, 5e-324])
    assert line == "r,3,0.00001,-0.0,1e+16,nan,-inf,0.1,5e-324\n"
    assert csv_lines("r", [0, 1], np.array([[float("inf"), 1.0], [2.0, float("nan")]])) == "r,0,inf,1.0\nr,1,2.0,nan\n"


def test_no_rows_make_no_text():
    assert csv_lines("r", [], np.zeros((0, 5))) == ""


def test_recorded_file_holds_the_engines_floats(tmp_path):
    """The recorder's CSV, read with the csv module, gives back the simulation's params, loss and
    gradient norm of every step bit for bit (it keeps each step's numbers as one bytes object, so a change
    after the step, here a reset within a block, cannot alter the rows already kept)."""
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.run_settings import RunSettings
    from optsim.engine.core.simulation import Simulation
    from optsim.engine.formula.compile import compile_formula

    sim = Simulation(Objective(compile_formula("(1 - x)**2 + 100*(y - x**2)**2", ("x", "y"))),
                     [RunSettings(f"r{i}", opt, {"lr": 1e-3}, (-1.5 + i, 2.0), 300)
                      for i, opt in enumerate(["adam", "sgd", "rmsprop"])])
    rec = TrajectoryRecorder(sim, "csv")
    rec.BLOCK = 64  # several blocks
    want: list[list] = [[] for _ in sim.names]
    last = np.full(sim.n_runs, -1)

    def note() -> None:
        table = np.column_stack([sim.params, sim.loss, sim.last_lr, sim.grad_norm])
        for i in np.flatnonzero(sim.step_count != last):
            want[i].append(table[i].copy())
        last[:] = sim.step_count

    note()
    while sim.step():
        rec.observe()
        note()
        if sim.tick == 100:
            sim.reset_run(1)  # a change between steps must not alter the rows already kept
    out = io.StringIO()
    rec.write(out)
    rec.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(want[1]) == 401
    for i, name in enumerate(sim.names):
        got = np.array([[float(r[k]) for k in ("x", "y", "loss", "lr", "grad_norm")] for r in rows if r["run"] == name])
        assert got.shape == (len(want[i]), 5) and (_bits(got) == _bits(np.array(want[i]))).all()


def test_text_past_the_memory_limit_goes_to_a_file_and_comes_back_the_same():
    """Each run's text stays in memory up to a limit, then in a temporary file: the same CSV either
    way, with run names that hold '%' (the lines are made by one % format) and non-ASCII letters."""
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.run_settings import RunSettings
    from optsim.engine.core.simulation import Simulation
    from optsim.engine.formula.compile import compile_formula

    def record(limit: int | None) -> str:
        sim = Simulation(Objective(compile_formula("(1 - x)**2 + 100*(y - x**2)**2", ("x", "y"))),
                         [RunSettings(name, opt, {"lr": 1e-3}, (-1.5, 2.0), 500)
                          for name, opt in (("adam 100%d", "adam"), ("sgd-ß", "sgd"))])
        rec = TrajectoryRecorder(sim, "csv")
        rec.BLOCK = 64
        if limit is not None:
            for spool in rec._spools:
                spool.limit = limit
        while sim.step():
            rec.observe()
        out = io.StringIO()
        rec.write(out)
        on_disk = [spool.file is not None for spool in rec._spools]
        rec.close()
        assert on_disk == [limit is not None] * 2
        return out.getvalue()

    text = record(None)
    assert record(1000) == text
    lines = text.splitlines()
    assert len(lines) == 1 + 2 * 501 and lines[1].startswith("adam 100%d,0,") and lines[-1].startswith("sgd-ß,500,")


def test_arrays_that_are_not_c_contiguous_are_recorded_the_same():
    """observe joins the buffers of the Simulation's C-ordered arrays; others (a Fortran-ordered
    copy here) take the slower copy and give the same file."""
    from optsim.engine.core.objective import Objective
    from optsim.engine.core.run_settings import RunSettings
    from optsim.engine.core.simulation import Simulation
    from optsim.engine.formula.compile import compile_formula

    def record(fortran: bool) -> str:
        sim = Simulation(Objective(compile_formula("(1 - x)**2 + 100*(y - x**2)**2", ("x", "y"))),
                         [RunSettings(f"r{i}", opt, {"lr": 1e-3}, (-1.5, 2.0), 100) for i, opt in enumerate(["adam", "sgd"])])
        rec = TrajectoryRecorder(sim, "csv")
        rec.BLOCK = 16
        while sim.step():
            if fortran:
                sim.params, sim.grad = np.asfortranarray(sim.params), np.asfortranarray(sim.grad)
                assert not sim.params.flags.c_contiguous
            rec.observe()
        out = io.StringIO()
        rec.write(out)
        rec.close()
        return out.getvalue()

    assert record(True) == record(False)
