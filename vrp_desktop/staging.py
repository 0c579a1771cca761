"""Make a new workspace folder whole or not at all: build it beside its place, then rename.

``vrp init`` and ``vrp demo`` write many files (key slots, database, WAL) over seconds or
minutes. Built in place, a crash left a folder nothing could open ("there is no active user")
or replace ("a workspace is already there"). Built in a hidden sibling and renamed at the end,
a crash leaves only that sibling, which the next attempt removes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from vrp_desktop import faults
from vrp_desktop.errors import WorkspaceError

_MARK = ".creating-"


def _siblings(target: Path) -> list[Path]:
    prefix = f".{target.name}{_MARK}"
    try:
        return [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh hidden sibling of ``target``; on success rename it to ``target``.

    ``target`` must not exist, or be an empty folder (it is replaced). Leftovers of an earlier
    crashed attempt at the same target are removed first.
    """
    target = Path(target).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise WorkspaceError(
            f"{target} is not empty, so no new workspace was made there. Choose a new or empty "
            "folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in _siblings(target):
        shutil.rmtree(stale, ignore_errors=True)
    staging = target.parent / f".{target.name}{_MARK}{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        yield staging
        faults.point("staging.before_rename")
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
