"""The built-in scenario library and the lookup of ``FILE|NAME`` arguments.

Built-ins are the ``*.toml`` files of the ``optsim.scenarios`` package, named
``NN-short-name.toml``: ``NN`` orders them as the lecture goes, and the short
name is what a person types (``optsim saddle-point``). Listing reads only each
file's title (plain TOML, no formula compiling) so that ``optsim list`` starts fast.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from ..errors import ScenarioError, nearest, printable
from .load import read_toml, scenario_name


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    path: Path
    title: str
    summary: str  # first sentence of the description


def builtin_dir() -> Path:
    # The package's folder from its import spec: importlib.resources.files cost 5 ms of
    # start-up (it imports zipfile and its readers) for a folder that is always on disk.
    spec = find_spec("optsim.scenarios")
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0])


def catalog(folder: Path | None = None) -> list[CatalogEntry]:
    """Scenarios of a folder (default: the built-ins), in file-name order."""
    out = []
    for path in sorted((folder or builtin_dir()).glob("*.toml")):
        try:
            raw = read_toml(path)  # size-capped, regular files only: a folder may hold a hostile file
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            raw = {}
        title = printable(raw["title"][:200]) if isinstance(raw.get("title"), str) else "(unreadable file)"
        desc = printable(raw["description"][:2000]) if isinstance(raw.get("description"), str) else ""
        out.append(CatalogEntry(scenario_name(path), path, title, _first_sentence(desc)))
    return out


def _first_sentence(text: str) -> str:
    flat = " ".join(text.replace("#", " ").split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def resolve(target: str) -> Path:
    """A path to an existing file, or the built-in of that name; else a ScenarioError."""
    p = Path(target)
    try:
        exists = p.exists()
        is_file = p.is_file()
    except OSError as exc:  # a name too long for the file system, a loop of links...
        raise ScenarioError(target[:200] + ("..." if len(target) > 200 else ""), "",
                            f"cannot open ({exc.strerror or exc})") from None
    if p.suffix == ".toml" or exists or "/" in target:
        if not is_file:
            raise ScenarioError(target, "", "no such file")
        return p
    # names from the file names alone: reading every built-in's title (catalog) cost 15 ms
    names = {scenario_name(path): path for path in sorted(builtin_dir().glob("*.toml"))}
    if target in names:
        return names[target]
    raise ScenarioError(target, "", "no such file or built-in scenario" + nearest(target, names)
                        + "; `optsim list` shows them")
