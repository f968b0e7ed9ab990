"""Hostile and careless input: every broken file and command line gets one clear line and exit 2.

tests/hostile/*.toml are small scenario files, each naming in its header what it
attacks (``# expect:`` the key the error must name; ``# args:`` the command, when
only one command meets the problem). They run in-process through every command, each
under a time limit and 1 GiB of extra address space.
Special files (FIFOs, /dev/zero, sparse gigabyte files, huge fields) are made in a
temporary folder and run in a subprocess under a time limit and a 1 GiB
address-space limit, so a regression fails the test instead of the machine.
"""
from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from optsim.tui.cli import main

HOSTILE = Path(__file__).parent / "hostile"
FILES = sorted(HOSTILE.glob("*.toml"))
COMMANDS = ("check", "run", "diagnose", "play")
SECRET = "SECRET-MARKER"
LIMIT_BYTES = 1 << 30


def _header(path: Path, field: str) -> str | None:
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if line.startswith(f"# {field}: "):
            return line.split(": ", 1)[1]
    return None


def _cases():
    for path in FILES:
        args = _header(path, "args")
        commands = [args] if args else COMMANDS
        for command in commands:
            yield pytest.param(path, command, id=f"{path.stem}-{command.split()[0]}")


def _argv(command: str, path: Path, out: Path) -> list[str]:
    name, *rest = command.split()
    argv = [name, str(path), *rest]
    if name == "run":
        argv += ["--out", str(out / "t.csv")]
    if name == "play":
        argv = ["play", "--headless", str(path), "--out-dir", str(out / "frames"), "--size", "80x24", *rest]
    return argv


def assert_one_clean_line(code: int, out: str, err: str, *needles: str) -> None:
    """Exit 2; stderr is one line naming every needle; no traceback, no secrets, no raw ESC."""
    assert code == 2, (code, out, err)
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("optsim: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    for text in (out, err):
        assert "Traceback" not in text and SECRET not in text and "\x1b" not in text


@contextlib.contextmanager
def limited_in_process(seconds: int, extra_bytes: int):
    """This process may use at most ``extra_bytes`` more address space and ``seconds`` of time
    while the block runs (a hostile file that hangs or eats memory fails the test, not the
    machine); both limits are lifted afterwards."""
    size = next(int(line.split()[1]) * 1024 for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + extra_bytes, hard))
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_the_in_process_limits_bite() -> None:
    """The limits the corpus runs under are real: 2 GiB more is refused inside them, not after."""
    import numpy as np

    with limited_in_process(seconds=60, extra_bytes=LIMIT_BYTES):
        with pytest.raises(MemoryError):
            np.ones(2 * LIMIT_BYTES // 8)
    assert np.ones(1 << 20).sum() == 1 << 20


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("path,command", list(_cases()))
def test_hostile_file(path: Path, command: str, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPTSIM_TEST_SECRET", SECRET + "-ENV")  # /proc/self/environ would show it
    before = _listing(HOSTILE)
    with limited_in_process(seconds=120, extra_bytes=LIMIT_BYTES):
        code = main(_argv(command, path, tmp_path))
    captured = capsys.readouterr()
    assert_one_clean_line(code, captured.out if command != "check" else "", captured.err,
                          str(path), _header(path, "expect"))
    assert _listing(tmp_path) == [] and _listing(HOSTILE) == before  # nothing written anywhere


def test_the_corpus_covers_the_issue() -> None:
    """Every attack the issue lists has its file (a guard against losing one)."""
    stems = {p.stem for p in FILES}
    for stem in ("data-environ", "data-shadow", "data-traversal", "deep-nesting", "view-huge", "start-huge",
                 "start-inverse", "start-sqrt", "name-escape", "analyze-log", "analyze-saddle-far",
                 "work-steps", "data-generate-work", "data-nan", "search-work", "variants-work",
                 "minibatch-work", "lab-work", "data-inf", "data-rows-nan", "title-escape", "caption-escape",
                 "many-captions", "data-testfile-outside", "data-dir"):
        assert stem in stems


BUILTIN = "saddle-w1w2"
COMMAND_LINES = [
    (["run", BUILTIN, "--out", ""], "--out"),
    (["run", BUILTIN, "--out", "t.txt"], "--out"),
    (["run", BUILTIN, "--out", "no/such/folder/t.csv"], "--out"),
    (["run", BUILTIN, "--seed", str(2**64)], "--seed"),
    (["run", BUILTIN, "--seed", "-1"], "--seed"),
    (["diagnose", BUILTIN, "--seed", str(2**63)], "--seed"),
    (["run", BUILTIN, "--steps", "0"], "--steps"),
    (["run", BUILTIN, "--steps", "100000000"], "--steps"),
    (["analyze", BUILTIN, "--at", "-inf,2"], "--at"),
    (["analyze", BUILTIN, "--at", "nan,2"], "--at"),
    (["analyze", BUILTIN, "--at", "1,2,3"], "--at"),
    (["analyze", BUILTIN, "--at", "1,2", "--step", "-1"], "--step"),
    (["play", "--headless", BUILTIN, "--size", "10x10"], "--size"),
    (["play", "--headless", BUILTIN, "--frames", "later"], "--frames"),
    (["play", "--headless", BUILTIN, "--out-dir", ""], "--out-dir"),
    (["sweep", BUILTIN, "--lr", "--n", "10000", "--steps", "100000"], "--n"),
    (["sweep", BUILTIN, "--basin", "--grid", "500", "--steps", "100000"], "--grid"),
    (["sweep", BUILTIN, "--basin", "--steps", "100000"], "--steps"),
    (["run", "a" * 5000 + ".toml"], "File name too long"),
    (["run", "/dev/zero"], "no such file"),
    (["run", "no-such-scenario"], "no such file"),
    (["check", "/proc/self/environ"], "not valid TOML"),
]


@pytest.mark.parametrize("argv,needle", COMMAND_LINES, ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else v)
def test_bad_command_line(argv: list[str], needle: str, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    assert_one_clean_line(code, captured.out, captured.err, needle)
    assert _listing(tmp_path) == []


# ---------------------------------------------------------------- special files, in a subprocess
def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run_limited(args: list[str], cwd: Path, env: dict[str, str] | None = None, stdout=subprocess.PIPE,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """`optsim ARGS` in a fresh interpreter under 1 GiB of address space and a time limit."""
    full_env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", **(env or {}))
    code = "import sys; from optsim.tui.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=full_env, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, preexec_fn=_limits)


DATA_SCENARIO = """title = "special"
[surface]
expr = "(w*x + b - y)**2"
params = ["w", "b"]
[data]
columns = ["x", "y"]
file = "{name}"
[[runs]]
start = [0, 0]
steps = 5
"""


def _special_data(folder: Path, kind: str) -> str:
    """Make the special data file `kind` in `folder`; returns the name data.file gives."""
    path = folder / "data.csv"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "sparse-1g":
        with open(path, "wb") as fh:
            fh.write(b"x,y\n1,2\n")
            fh.truncate(1 << 30)
    elif kind == "over-cap":
        path.write_text("x,y\n" + "1,2\n" * 9_000_000)  # 36 MB of valid rows: over the 32 MB cap
    elif kind == "huge-field":
        path.write_text("x,y\n1,2\n" + "7" * 10_000_000 + ",3\n")
    elif kind == "dev-zero":
        return "/dev/zero"
    elif kind == "link-out":
        os.symlink("/etc/hostname", path)
    return path.name


@pytest.mark.parametrize("kind", ["fifo", "sparse-1g", "over-cap", "huge-field", "dev-zero", "link-out"])
def test_special_data_file(kind: str, tmp_path) -> None:
    name = _special_data(tmp_path, kind)
    (tmp_path / "s.toml").write_text(DATA_SCENARIO.format(name=name))
    env = {"OPTSIM_DATA_DIRS": "/dev"} if kind == "dev-zero" else None  # reach the file-type check
    result = run_limited(["check", "s.toml"], tmp_path, env)
    assert_one_clean_line(result.returncode, "", result.stderr, "s.toml", "data.file")


def _special_scenario(folder: Path, kind: str) -> str:
    path = folder / "s.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "sparse-3g":
        with open(path, "wb") as fh:
            fh.write(b'title = "big"\n')
            fh.truncate(3 << 30)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", path)
    return path.name


@pytest.mark.parametrize("kind,needle", [("fifo", "no such file"), ("sparse-3g", "larger than 1000000 bytes"),
                                         ("dev-zero", "no such file")])
def test_special_scenario_file(kind: str, needle: str, tmp_path) -> None:
    name = _special_scenario(tmp_path, kind)
    result = run_limited(["check", name], tmp_path)
    assert_one_clean_line(result.returncode, "", result.stderr, name, needle)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_loader_refuses_special_files_itself(kind: str, tmp_path) -> None:
    """Past the command line's lookup (the app opens paths directly), the loader refuses too, at once."""
    from optsim.engine.errors import ScenarioError
    from optsim.engine.scenario.load import load_scenario

    name = _special_scenario(tmp_path, kind)
    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(20)
    try:
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario(tmp_path / name)
    finally:
        signal.alarm(0)


def _timeout(signum, frame):
    raise TimeoutError("reading a special file hung")


def test_full_disk_on_stdout(tmp_path) -> None:
    with open("/dev/full", "w") as full:
        result = run_limited(["run", BUILTIN], tmp_path, stdout=full)
    assert_one_clean_line(result.returncode, "", result.stderr, "No space left on device")


def _big_data(folder: Path) -> str:
    text = (HOSTILE / "data-generate-work.toml").read_text().replace("steps = 10000", "steps = 20")
    (folder / "g.toml").write_text(text)
    return "g.toml"


def test_big_generated_data_stays_under_the_memory_limit(tmp_path) -> None:
    """200 000 training and 200 000 test rows: run and the analysis of the end points fit in 1 GiB."""
    result = run_limited(["diagnose", _big_data(tmp_path), "--no-guide"], tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr


def test_big_data_guide_search_is_bounded_and_says_so(tmp_path) -> None:
    """The guide's search over 200 000 rows (once ~3 minutes) runs on a seeded subsample within
    its work budget, in 1 GiB, and the report says on how many rows."""
    result = run_limited(["diagnose", _big_data(tmp_path)], tmp_path, timeout=150)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "coarse global search" in x)
    assert "searched on" in line and "of 200,000 rows" in line and "best loss 0 at (2, 0)" in line


def test_big_data_contour_is_bounded_and_says_so(tmp_path) -> None:
    """A 160x48 contour of a loss over 200 000 rows is drawn from a subsample within the budget,
    in 1 GiB, and the frame says so."""
    result = run_limited(["play", "--headless", _big_data(tmp_path), "--out-dir", "f", "--size", "160x48",
                          "--frames", "end"], tmp_path, timeout=150)
    assert result.returncode == 0, result.stderr
    frame = next((tmp_path / "f").glob("frame-*.txt")).read_text()
    assert "contour from" in frame and "of 200,000 rows" in frame


def test_five_thousand_pauses_are_free_in_headless_playback(tmp_path) -> None:
    """5000 bare scripted pauses (once minutes of headless playback) make no frames and no waits."""
    events = "".join(f"[[events]]\nat = {k}\npause = true\n" for k in range(1, 5001))
    (tmp_path / "p.toml").write_text('title = "pauses"\n[surface]\nexpr = "x**2 + y**2"\n'
                                     '[[runs]]\nstart = [1, 1]\nsteps = 6000\n' + events)
    result = run_limited(["play", "--headless", "p.toml", "--out-dir", "f", "--size", "80x24"], tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "f").glob("frame-*.svg"))) == 2  # the start and the end


def test_data_dirs_allow_a_folder_outside(tmp_path, monkeypatch) -> None:
    """$OPTSIM_DATA_DIRS widens where data files may lie, for a person who means it."""
    data = tmp_path / "shared"
    data.mkdir()
    (data / "d.csv").write_text("x,y\n0,1\n1,3\n")
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "s.toml").write_text(DATA_SCENARIO.format(name=str(data / "d.csv")))
    assert main(["check", str(scen / "s.toml")]) == 2
    monkeypatch.setenv("OPTSIM_DATA_DIRS", str(data))
    assert main(["check", str(scen / "s.toml")]) == 0

