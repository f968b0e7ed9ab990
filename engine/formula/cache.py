"""On-disk cache of compiled formulas, so that a second run does not import SymPy.

Compiling a formula means importing SymPy and differentiating (~0.5 s); the
result is four straight-line Programs, which are plain data: operation names
from the whitelist in ops.py, register indices and float constants. That data
is stored as JSON (never pickle, never code) under a key made of the formula,
its parameters, columns and constants and a fingerprint of the compiler (its
own source files, NumPy's and SymPy's versions), with a sha256 over key and
payload. On load every operation name is checked against the whitelist and
every index against the register file, so a corrupt, stale or tampered file is
only ever a miss: the caller compiles as if there were no cache.

Off with the environment variable OPTSIM_NO_CACHE=1 or set_enabled(False) (the
CLI's --no-cache); OPTSIM_CACHE_DIR moves the folder (tests use it).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from hashlib import sha256
from pathlib import Path
from typing import Any, Mapping, Sequence

from .ops import OPS
from .program import Program

FORMAT = 1
MAX_FILE_BYTES = 16 * 2**20      # a file larger than this is not read
MAX_ENTRIES = 512                # older entries are removed beyond this many
_NO_FOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK if os.name == "posix" else 0   # links fail, FIFOs do not block
KINDS = ("value", "gradient", "value_and_gradient", "hessian")
_EXTRA_ARITY = {"pair": 2, "select": 2}     # Program's own two operations (Piecewise)
_enabled = True
_fingerprint: str | None = None


def set_enabled(on: bool) -> None:
    """Turn the cache on or off for this process (the CLI's --no-cache)."""
    global _enabled
    _enabled = bool(on)


def enabled() -> bool:
    """False after set_enabled(False) or with OPTSIM_NO_CACHE set to anything but 0/empty."""
    return _enabled and os.environ.get("OPTSIM_NO_CACHE", "").strip() in ("", "0")


def cache_dir() -> Path:
    """OPTSIM_CACHE_DIR, else the platform's user cache folder for optsim."""
    override = os.environ.get("OPTSIM_CACHE_DIR")
    if override:
        return Path(override)
    try:
        from platformdirs import user_cache_dir
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "optsim" / "formulas"
    return Path(user_cache_dir("optsim", appauthor=False)) / "formulas"


def _compiler_fingerprint() -> str:
    """Changes whenever the code that turns a formula into Programs may change."""
    global _fingerprint
    if _fingerprint is None:
        import numpy as np

        h = sha256(f"format {FORMAT} numpy {np.__version__} sympy {_sympy_version()}"
                           .encode())
        for path in sorted(Path(__file__).parent.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _fingerprint = h.hexdigest()
    return _fingerprint


def _sympy_version() -> str:
    """SymPy's release.py, found on sys.path without importing SymPy (that is slow)."""
    for entry in sys.path:
        release = Path(entry or ".") / "sympy" / "release.py"
        try:
            return release.read_text(encoding="utf-8")
        except OSError:
            continue
    return "none"


def cache_key(text: str, params: Sequence[str], columns: Sequence[str],
              constants: Mapping[str, float]) -> str:
    """Hex sha256 naming everything the compiled Programs depend on."""
    ident = json.dumps([text, list(params), list(columns),
                        sorted((k, float(v).hex()) for k, v in constants.items()),
                        _compiler_fingerprint()], separators=(",", ":"))
    return sha256(ident.encode()).hexdigest()


def _digest(key: str, payload: str) -> str:
    return sha256(f"{key}\n{payload}".encode()).hexdigest()


# --- store --------------------------------------------------------------
def _program_data(prog: Program) -> dict[str, Any]:
    n_params, columns, instructions, n_temps, constants, outputs, kind = prog.spec
    return {"n_params": n_params, "columns": list(columns), "n_temps": n_temps, "kind": kind,
            "instructions": [[op, list(args), out] for op, args, out in instructions],
            "constants": [float(c).hex() for c in constants], "outputs": list(outputs)}


def store(key: str, programs: Mapping[str, Program]) -> None:
    """Write the Programs atomically (temp file + rename); any failure is silent."""
    if not enabled():
        return
    try:
        payload = json.dumps({k: _program_data(programs[k]) for k in KINDS},
                             separators=(",", ":"), sort_keys=True)
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        doc = json.dumps({"format": FORMAT, "key": key, "sha256": _digest(key, payload),
                          "payload": payload})
        from ..safe_io import write_atomic  # only when writing: a warm start never needs it

        write_atomic(folder / f"{key}.json", doc)  # the project's one atomic writer (temp name, O_EXCL, rename)
        _prune(folder)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """Keep at most MAX_ENTRIES files, removing the least recently used."""
    entries = [e for e in os.scandir(folder) if e.name.endswith(".json")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for e in entries[:len(entries) - MAX_ENTRIES]:
        _unlink(e.path)


# --- load ---------------------------------------------------------------
def load(key: str, params: Sequence[str], columns: Sequence[str]) -> dict[str, Program] | None:
    """The cached Programs for key, or None when absent, off, corrupt or not valid."""
    if not enabled():
        return None
    path = cache_dir() / f"{key}.json"
    try:
        raw = _read_regular_file(path)
        if raw is None:
            return None
        doc = json.loads(raw.decode("utf-8"))
        if (type(doc) is not dict or doc.get("format") != FORMAT or doc.get("key") != key
                or type(doc.get("payload")) is not str
                or doc.get("sha256") != _digest(key, doc["payload"])):
            return None
        data = json.loads(doc["payload"])
        programs = {k: _program(data[k], k, len(params), tuple(columns)) for k in KINDS}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            RecursionError):
        return None
    try:
        os.utime(path)                  # least recently used goes first when pruning
    except OSError:
        pass
    return programs


def _read_regular_file(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file (not a link, FIFO or device) of at most MAX_FILE_BYTES."""
    fd = os.open(path, os.O_RDONLY | _NO_FOLLOW)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        raw = fh.read(MAX_FILE_BYTES + 1)
    return raw if len(raw) <= MAX_FILE_BYTES else None


def _program(d: dict, kind: str, n_params: int, columns: tuple[str, ...]) -> Program:
    """Rebuild one Program from checked data; ValueError when anything is off."""
    if (type(d) is not dict or d["kind"] != kind or d["n_params"] != n_params
            or tuple(d["columns"]) != columns):
        raise ValueError("mismatch")
    n_inputs = n_params + len(columns)
    instructions = _instructions(d["instructions"], n_inputs, d["n_temps"],
                                 len(d["constants"]))
    constants = [float.fromhex(_str(c)) for c in d["constants"]]
    n_registers = n_inputs + len(instructions) + len(constants)
    outputs = [_index(r, n_registers) for r in d["outputs"]]
    expected = {"value": 1, "gradient": n_params, "value_and_gradient": 1 + n_params,
                "hessian": n_params * n_params}[kind]
    if len(outputs) != expected or any(r in _pair_outputs(instructions) for r in outputs):
        raise ValueError("outputs")
    return Program(n_params, columns, instructions, len(instructions), constants, outputs, kind)


def _instructions(raw: list, n_inputs: int, n_temps: Any, n_consts: int) -> list:
    """Check each instruction: whitelisted op, right arity, reads only earlier registers."""
    if type(raw) is not list or n_temps != len(raw):
        raise ValueError("instructions")
    first_const = n_inputs + len(raw)
    out_list = []
    pairs: set[int] = set()
    for k, item in enumerate(raw):
        op, args, out = item
        arity = _EXTRA_ARITY.get(op) if type(op) is str else None
        if arity is None:
            if type(op) is not str or op not in OPS or OPS[op].arity > 2:
                raise ValueError("op")
            arity = OPS[op].arity
        if type(args) is not list or len(args) != arity or out != n_inputs + k:
            raise ValueError("instruction")
        for a in args:
            if not (_index(a, first_const + n_consts) < out or a >= first_const):
                raise ValueError("reads a later register")
        # a pair's tuple may only be the second argument of a select, which needs one
        takes_pair = [a in pairs for a in args]
        if takes_pair != ([False, True] if op == "select" else [False] * arity):
            raise ValueError("pair")
        if op == "pair":
            pairs.add(out)
        out_list.append((op, tuple(args), out))
    return out_list


def _pair_outputs(instructions: list) -> set[int]:
    return {out for op, _, out in instructions if op == "pair"}


def _index(r: Any, limit: int) -> int:
    if type(r) is not int or not 0 <= r < limit:
        raise ValueError("index")
    return r


def _str(s: Any) -> str:
    if type(s) is not str:
        raise ValueError("constant")
    return s


__all__ = ["cache_dir", "cache_key", "enabled", "load", "set_enabled", "store"]
