"""Changing the workspace's master key, crash-safely.

Order (each step atomic, so a kill between any two is finished on the next open):
1. ``keyslots.pending.json``: the new slots (the new key sealed to every remaining slot) and the
   old key sealed under the new one. ``keyslots.json`` is untouched.
2. ``PRAGMA rekey``: SQLCipher re-encrypts every page in one transaction (old key or new key,
   never a mix).
3. ``keyslots.json`` replaced by the pending slots; the pending file removed.

While a pending file exists it is the authority: an unlock must open one of *its* slots (so a
removed user, who has none, is refused even though the old file still holds their slot), and
``finish`` then re-keys the database if step 2 had not happened, and completes step 3.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import sqlcipher3

from vrp_desktop.crypto.keyslots import KeySlotFile
from vrp_desktop.errors import WorkspaceError
from vrp_desktop.store import files
from vrp_desktop.store.engine import raw_key_literal


def opens(db: Path, key: bytes) -> bool:
    """True when ``key`` reads the database at ``db``."""
    conn = sqlcipher3.connect(str(db), isolation_level=None)
    try:
        conn.execute(f'PRAGMA key = "{raw_key_literal(key)}"')
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def rekey_database(db: Path, old_key: bytes, new_key: bytes) -> None:
    """Re-encrypt ``db`` from ``old_key`` to ``new_key`` (one transaction), then checkpoint."""
    conn = sqlcipher3.connect(str(db), isolation_level=None)
    try:
        conn.execute(f'PRAGMA key = "{raw_key_literal(old_key)}"')
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute(f'PRAGMA rekey = "{raw_key_literal(new_key)}"').fetchall()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()


def finish(folder: Path, new_slots: KeySlotFile, new_key: bytes, old_key: bytes) -> KeySlotFile:
    """Steps 2 and 3 (each skipped when already done); returns the slots now in force."""
    db = files.db_path(folder)
    if not opens(db, new_key):
        if not opens(db, old_key):
            raise WorkspaceError(
                f"The workspace database in {folder} opens with neither the old nor the new "
                "workspace key. Restore the workspace from a backup (vrp restore)."
            )
        rekey_database(db, old_key, new_key)
    new_slots.path = files.keyslots_path(folder)
    new_slots.save()
    files.pending_keyslots_path(folder).unlink(missing_ok=True)
    _fsync_dir(folder)
    return new_slots


def begin(folder: Path, new_slots: KeySlotFile, new_key: bytes, old_key: bytes) -> None:
    """Step 1: the pending file."""
    new_slots.write_pending(files.pending_keyslots_path(folder), new_key, old_key)


def abandon(folder: Path, new_key: bytes) -> None:
    """Undo step 1 after a failure, unless the database already took the new key."""
    if not opens(files.db_path(folder), new_key):
        files.pending_keyslots_path(folder).unlink(missing_ok=True)


def load_pending(folder: Path) -> tuple[KeySlotFile, bytes] | None:
    """The pending slots and the file's bytes (read before any unlock rewrites it), or None."""
    path = files.pending_keyslots_path(folder)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WorkspaceError(
            f"{path} could not be read ({exc.strerror or exc}). Check the folder's permissions."
        ) from None
    return KeySlotFile.load(path), raw


def complete_pending(folder: Path, pending: KeySlotFile, raw: bytes, new_key: bytes) -> KeySlotFile:
    """Finish an interrupted re-key found at open, with the key the pending slots gave."""
    old_key = KeySlotFile.previous_key(raw, new_key, files.pending_keyslots_path(folder))
    return finish(folder, pending, new_key, old_key)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
