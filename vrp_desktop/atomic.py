"""Writes that cannot half-happen: temp file, fsync, rename (as Electrum does)."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: bytes of a file's name its temporary file keeps: 255 less ".", "." + 8 random, ".tmp"
_STEM_BYTES = 255 - 1 - 9 - 4


@contextlib.contextmanager
def atomic_open(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    The result always gets ``mode`` (owner-only by default), even over an existing file: a
    secret written over an old world-readable file must not inherit its mode. The temporary
    file is created 0600 in the destination folder and removed on failure.
    """
    # absolute: mkstemp answers an absolute name, and the stale-file sweep below must know its
    # own temporary file when ``path`` is relative (it deleted it: "vrp backup WS out.vrpbackup")
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name is the file's own, cut so the dot, the random part and ".tmp" still
    # fit the 255 bytes a name may have (a 245-character name that is itself legal failed)
    stem = path.name.encode()[:_STEM_BYTES].decode(errors="ignore")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    for stale in path.parent.glob(f".{glob.escape(stem)}.*.tmp"):
        if stale != tmp:
            stale.unlink(missing_ok=True)  # left by a write that was killed part-way
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    with atomic_open(path, mode) as handle:
        handle.write(data)


def owner_only(path: Path, mode: int = 0o600) -> None:
    """Tighten ``path`` to ``mode`` when it is looser (POSIX; a no-op elsewhere or if absent)."""
    if os.name != "posix":
        return
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, current & mode)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
