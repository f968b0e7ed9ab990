"""The on-disk formula cache: same numbers as compiling, no SymPy when warm, and any bad file is a miss."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optsim.engine.formula import cache
from optsim.engine.formula.compile import compile_formula
from optsim.engine.scenario.build import build_objective
from optsim.engine.scenario.catalog import builtin_dir
from optsim.engine.scenario.load import load_scenario
from optsim.tui.cli import main

FORMULA = "(1 - x)**2 + 100*(y - x**2)**2 + max(x, y)*sin(x) + k*relu(y)"
PARAMS = ("x", "y")
CONSTS = {"k": 0.25}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("OPTSIM_CACHE_DIR", str(folder))
    monkeypatch.delenv("OPTSIM_NO_CACHE", raising=False)
    cache.set_enabled(True)
    return folder


def _key(text: str = FORMULA, params=PARAMS, columns=(), consts=CONSTS) -> str:
    return cache.cache_key(text, params, columns, consts)


def _outputs(f, points, data=None) -> list[np.ndarray]:
    v, g = f.value_and_gradient(points, data)
    return [f.value(points, data), f.gradient(points, data), v, g, f.hessian(points, data)]


def _assert_same(a, b) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape
        assert x.tobytes() == y.tobytes()          # bit for bit, nan and -0.0 included


def _points(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(size=(n, 2)) * 2


def test_second_compile_reads_the_cache_and_gives_identical_bits(cache_dir: Path) -> None:
    fresh = compile_formula(FORMULA, PARAMS, CONSTS)
    path = cache_dir / f"{_key()}.json"
    assert path.is_file()
    assert cache.load(_key(), PARAMS, ()) is not None
    cached = compile_formula(FORMULA, PARAMS, CONSTS)
    for n in (1, 7, 9000):                       # scalar twin, small arrays, workspace
        _assert_same(_outputs(fresh, _points(n)), _outputs(cached, _points(n)))


def test_key_depends_on_formula_params_columns_and_constants() -> None:
    keys = {_key(), _key(text=FORMULA + " + 0"), _key(params=("y", "x")),
            _key(columns=("d",)), _key(consts={"k": 0.5})}
    assert len(keys) == 5


def test_data_formula_round_trips(cache_dir: Path) -> None:
    text, data = "(w*t - u)**2 + abs(w)", {"t": np.linspace(-1, 1, 50), "u": np.cos(np.arange(50))}
    fresh = compile_formula(text, ("w",), columns=("t", "u"))
    cached = compile_formula(text, ("w",), columns=("t", "u"))
    assert cache.load(_key(text, ("w",), ("t", "u"), {}), ("w",), ("t", "u")) is not None
    _assert_same(_outputs(fresh, _points(3)[:, :1], data), _outputs(cached, _points(3)[:, :1], data))


def test_every_builtin_scenario_formula_passes_the_load_checks(cache_dir: Path) -> None:
    paths = sorted(builtin_dir().glob("*.toml"))
    assert paths
    for path in paths:
        scenario = load_scenario(path)
        build_objective(scenario)
        s = scenario.surface
        columns = scenario.data.columns if scenario.data is not None else ()
        key = cache.cache_key(s.expr, tuple(s.params), tuple(columns), dict(s.constants))
        assert cache.load(key, tuple(s.params), tuple(columns)) is not None, path.name


def _rewrite(path: Path, edit, rehash: bool = True) -> None:
    doc = json.loads(path.read_text())
    payload = json.loads(doc["payload"])
    edit(payload)
    doc["payload"] = json.dumps(payload)
    if rehash:
        doc["sha256"] = hashlib.sha256(f"{doc['key']}\n{doc['payload']}".encode()).hexdigest()
    path.write_text(json.dumps(doc))


def _set_op(name: str):
    def edit(payload):
        payload["value"]["instructions"][0][0] = name
    return edit


def _set_arg(index: int):
    def edit(payload):
        payload["gradient"]["instructions"][-1][1][0] = index
    return edit


def _read_own_output(payload) -> None:
    first = payload["gradient"]["instructions"][0]
    first[1][0] = first[2]


def _double_value(payload) -> None:
    payload["value"]["constants"] = [float.hex(2 * float.fromhex(c)) for c in payload["value"]["constants"]]


@pytest.mark.parametrize("edit, rehash", [
    (_set_op("system"), True),              # not a whitelisted operation
    (_set_op("where"), True),               # whitelisted, but not something a Program runs
    (_set_op("__class__"), True),
    (_set_arg(10**6), True),                # register out of range
    (_set_arg(-1), True),
    (_read_own_output, True),               # a register not yet written
    (_double_value, False),                 # a changed constant without a matching hash
])
def test_a_tampered_file_is_a_miss_and_compiling_takes_over(cache_dir: Path, edit, rehash: bool) -> None:
    fresh = compile_formula(FORMULA, PARAMS, CONSTS)
    path = cache_dir / f"{_key()}.json"
    _rewrite(path, edit, rehash)
    assert cache.load(_key(), PARAMS, ()) is None
    again = compile_formula(FORMULA, PARAMS, CONSTS)
    _assert_same(_outputs(fresh, _points(5)), _outputs(again, _points(5)))
    assert cache.load(_key(), PARAMS, ()) is not None       # the compile rewrote a good entry


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00", b"[1, 2, 3]",
                                     b'{"format": 1, "key": "x", "sha256": "0", "payload": "{}"}'])
def test_a_corrupt_file_falls_back_to_compiling(cache_dir: Path, content: bytes) -> None:
    fresh = compile_formula(FORMULA, PARAMS, CONSTS)
    (cache_dir / f"{_key()}.json").write_bytes(content)
    again = compile_formula(FORMULA, PARAMS, CONSTS)
    _assert_same(_outputs(fresh, _points(4)), _outputs(again, _points(4)))


def test_an_unwritable_cache_folder_is_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("OPTSIM_CACHE_DIR", str(blocker / "cache"))   # mkdir must fail
    f = compile_formula(FORMULA, PARAMS, CONSTS)
    assert f.value(np.array([[1.0, 1.0]]))[0] == pytest.approx(0.25 + np.sin(1.0))
    assert blocker.read_text() == "not a folder"


def test_env_var_turns_the_cache_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTSIM_NO_CACHE", "1")
    compile_formula(FORMULA, PARAMS, CONSTS)
    assert not cache_dir.exists()
    monkeypatch.setenv("OPTSIM_NO_CACHE", "0")
    compile_formula(FORMULA, PARAMS, CONSTS)
    assert (cache_dir / f"{_key()}.json").is_file()


def test_no_cache_flag_neither_writes_nor_reads_and_the_csv_is_byte_identical(
        cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    outs = [tmp_path / f"{k}.csv" for k in ("nocache", "cold", "warm")]
    assert main(["run", "rosenbrock", "--steps", "300", "--no-cache", "--out", str(outs[0])]) == 0
    assert not cache_dir.exists()
    assert main(["run", "rosenbrock", "--steps", "300", "--out", str(outs[1])]) == 0
    assert any(cache_dir.glob("*.json"))
    assert main(["run", "rosenbrock", "--steps", "300", "--out", str(outs[2])]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()
    capsys.readouterr()


def _sympy_loaded_after_run(cache_dir: Path, *flags: str) -> bool:
    code = ("import sys; from optsim.tui.cli import main; "
            f"rc = main(['run', 'rosenbrock', '--steps', '2', *{list(flags)!r}]); "
            "print('SYMPY', 'sympy' in sys.modules, rc)")
    env = {**os.environ, "OPTSIM_CACHE_DIR": str(cache_dir)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    line = [x for x in out.splitlines() if x.startswith("SYMPY")][0]
    assert line.endswith(" 0")
    return line.split()[1] == "True"


def test_a_warm_run_does_not_import_sympy(cache_dir: Path) -> None:
    assert _sympy_loaded_after_run(cache_dir) is True          # cold: compiles
    assert _sympy_loaded_after_run(cache_dir) is False         # warm: reads the cache
    assert _sympy_loaded_after_run(cache_dir, "--no-cache") is True


def test_a_link_fifo_or_oversized_file_is_not_read(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compile_formula(FORMULA, PARAMS, CONSTS)
    path = cache_dir / f"{_key()}.json"
    good = path.read_bytes()
    target = cache_dir / "elsewhere.json"
    target.write_bytes(good)
    path.unlink()
    path.symlink_to(target)                      # a valid entry, but through a link: refused
    assert cache.load(_key(), PARAMS, ()) is None
    path.unlink()
    os.mkfifo(path)                              # would block a plain open(): refused at once
    assert cache.load(_key(), PARAMS, ()) is None
    path.unlink()
    path.write_bytes(good)
    assert cache.load(_key(), PARAMS, ()) is not None
    monkeypatch.setattr(cache, "MAX_FILE_BYTES", len(good) - 1)
    assert cache.load(_key(), PARAMS, ()) is None
