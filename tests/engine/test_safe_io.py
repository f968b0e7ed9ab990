"""safe_io: bounded reads of regular files only, atomic replacement, exclusive creation."""
from __future__ import annotations

import os

import pytest

from optsim.engine.safe_io import UnsafeFile, atomic_writer, create_exclusive, create_unique, inside, read_capped


def test_read_capped_reads_a_small_regular_file(tmp_path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    assert read_capped(tmp_path / "a.txt", 5) == b"hello"


def test_read_capped_checks_the_size_before_reading(tmp_path) -> None:
    path = tmp_path / "sparse"
    with open(path, "wb") as fh:
        fh.truncate(1 << 40)  # a terabyte of nothing: reading it would never end
    with pytest.raises(UnsafeFile, match="larger than 10 bytes"):
        read_capped(path, 10)


def test_read_capped_refuses_fifos_devices_and_folders(tmp_path) -> None:
    os.mkfifo(tmp_path / "fifo")  # nobody writes: a blocking open would hang forever
    for path in (tmp_path / "fifo", "/dev/zero", tmp_path):
        with pytest.raises(UnsafeFile, match="not a regular file"):
            read_capped(path, 100)


def test_read_capped_stops_at_the_cap_when_the_size_lies() -> None:
    """/proc files report size 0 and hold more: the read itself is bounded."""
    with pytest.raises(UnsafeFile, match="larger than 3 bytes"):
        read_capped("/proc/self/status", 3)


def test_read_capped_can_refuse_a_final_symlink(tmp_path) -> None:
    (tmp_path / "real").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert read_capped(tmp_path / "link", 10) == b"x"
    with pytest.raises(OSError):
        read_capped(tmp_path / "link", 10, follow_links=False)


def test_inside_resolves_links_and_dot_dots(tmp_path) -> None:
    (tmp_path / "in").mkdir()
    os.symlink("/etc/hostname", tmp_path / "in" / "out.csv")
    assert inside(tmp_path / "in" / "x.csv", (tmp_path / "in",))
    assert not inside(tmp_path / "in" / ".." / "x.csv", (tmp_path / "in",))
    assert not inside(tmp_path / "in" / "out.csv", (tmp_path / "in",))


def test_atomic_writer_keeps_the_old_file_when_writing_fails(tmp_path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_writer(target) as fh:
            fh.write("half of the new")
            raise KeyboardInterrupt
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]
    with atomic_writer(target) as fh:
        fh.write("new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["out.csv"]


def test_atomic_writer_gives_ordinary_permissions(tmp_path) -> None:
    mask = os.umask(0o022)
    try:
        with atomic_writer(tmp_path / "f") as fh:
            fh.write("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644


def test_create_exclusive_never_writes_through_a_dangling_symlink(tmp_path) -> None:
    victim = tmp_path / "victim"
    os.symlink(victim, tmp_path / "save.toml")
    with pytest.raises(FileExistsError):
        create_exclusive(tmp_path / "save.toml", "text")
    assert not victim.exists()
    written = create_unique(tmp_path / "save.toml", "text")
    assert written == tmp_path / "save-2.toml" and written.read_text() == "text" and not victim.exists()
