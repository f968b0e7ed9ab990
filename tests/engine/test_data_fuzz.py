"""Property: any bytes as a scenario's data file either load as finite rows or raise one
ScenarioError naming the file and data.file, and the error never quotes the file's text.

Data files are untrusted like scenarios: whatever they hold (text, binary, huge cells,
quotes, NULs, nan), the loader answers with its own words, never the file's.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optsim.engine.errors import ScenarioError
from optsim.engine.scenario.load import load_scenario

SCENARIO = """title = "fuzz"
[surface]
expr = "(w*x + b - y)**2"
params = ["w", "b"]
[data]
columns = ["x", "y"]
file = "d.csv"
[[runs]]
start = [0, 0]
steps = 3
"""
SECRET = "QZSECRETQZ"  # a word no error message holds: if it shows, the file's text leaked
CELLS = ["1", "-2.5", "1e308", "1e999", "nan", "inf", "-inf", "", " ", "x", "y", SECRET, '"3"', '"4,5"', '"',
         "\x00", "0x10", "1_000", "\u00e9", "7" * 2000]
cell = st.one_of(st.sampled_from(CELLS), st.text(max_size=8))
row = st.lists(cell, min_size=0, max_size=4).map(",".join)
texts = st.lists(row, max_size=12).map(lambda rows: "\n".join(rows))
headers = st.sampled_from(["x,y", "y,x", "x", "x,y,z", f"{SECRET},y", "", "x ,  y"])
documents = st.one_of(st.tuples(headers, texts).map(lambda ht: (ht[0] + "\n" + ht[1]).encode("utf-8")),
                      st.binary(max_size=200))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents, st.sampled_from(["\n", "\r\n"]))
def test_any_data_file_loads_or_fails_cleanly(tmp_path, data, newline):
    (tmp_path / "s.toml").write_text(SCENARIO, encoding="utf-8")
    (tmp_path / "d.csv").write_bytes(data.replace(b"\n", newline.encode()))
    try:
        scenario = load_scenario(tmp_path / "s.toml")
    except ScenarioError as exc:
        text = str(exc)
        assert exc.file == str(tmp_path / "s.toml") and exc.key == "data.file"
        assert "\n" not in text and SECRET not in text and "\x00" not in text
        return
    train = scenario.data.train
    assert all(np.isfinite(v).all() for v in train.values()) and scenario.data.n_train >= 1
