"""Reading untrusted files and writing outputs without surprises.

Scenario files are shared, so every file they name is untrusted: it may be a
FIFO that never ends, ``/dev/zero``, a sparse file of gigabytes, or a symlink
to a secret. Reads here open without blocking, accept only regular files,
check the size before reading and read at most a cap. Writes go to a
temporary file beside the target and are renamed over it when complete, so an
interrupt leaves the previous file or the complete new one; new files the app
saves are created exclusively and never through a symlink.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Iterator


class UnsafeFile(OSError):
    """A file that may not be read: not a regular file, too large, or outside the allowed folders."""


def read_capped(path: str | os.PathLike[str], max_bytes: int, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Opens with O_NONBLOCK (a FIFO does not hang the open), checks with fstat that
    the file is regular and not larger than the cap, then reads at most the cap
    plus one byte (a file growing meanwhile, or one whose size lies, as in /proc).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile("not a regular file")
        if info.st_size > max_bytes:
            raise UnsafeFile(f"larger than {max_bytes} bytes")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise UnsafeFile(f"larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def inside(path: Path, roots: tuple[Path, ...]) -> bool:
    """True if ``path``, with every symlink resolved, lies in one of ``roots`` (also resolved)."""
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(os.path.realpath(root)) for root in roots)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text file that replaces ``path`` only once the block completes without an exception.

    The temporary file sits beside the target (same file system, so the rename is
    atomic) and is removed on any failure, including KeyboardInterrupt. The new
    file gets the permissions a plain ``open(path, "w")`` would give it.
    """
    target = Path(path)
    tmp = None
    try:
        tmp = _temporary_name(target)  # known before the file exists: cleanup can always find it
        fd = os.open(tmp, _TEMP_FLAGS, 0o600)  # one system call; O_EXCL: never someone else's file
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _temporary_name(target: Path) -> Path:
    """A fresh name beside ``target`` (64 random bits), for a private file not yet created.

    Not tempfile.mkstemp: it creates the file in Python code that an interrupt can cut
    between the creation and the return of the name (blocking signals does not help: a
    signal that arrived just before is handled at the next bytecode), which leaves a file
    nobody knows of. Choosing the name first lets the cleanup always remove it.
    """
    return target.parent / f".{target.name[:100]}.{os.urandom(8).hex()}.tmp"


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    with atomic_writer(path) as fh:
        fh.write(text)


def create_exclusive(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a NEW file ``path``: fails if anything (even a dangling symlink) is there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def create_unique(path: Path, text: str, limit: int = 10_000) -> Path:
    """Write ``text`` to ``path`` or to path-2, path-3... (same suffix): the first name that is free."""
    for k in range(1, limit + 1):
        candidate = path if k == 1 else path.with_name(f"{path.stem}-{k}{path.suffix}")
        try:
            create_exclusive(candidate, text)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{path} and {limit - 1} numbered names exist")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
