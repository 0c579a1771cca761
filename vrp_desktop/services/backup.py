"""Backups and restore.

A backup is one file: a ZIP holding an encrypted copy of the database (SQLite's online backup
API into a new SQLCipher file under the same key), the key slots that unwrap that key, and a
small manifest with SHA-256 sums. Nothing in it is readable without a passphrase or the
recovery code. Restore checks everything before it replaces anything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import sqlcipher3
from sqlalchemy import Engine

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open
from vrp_desktop.crypto.keyslots import KeySlotFile
from vrp_desktop.crypto.throttle import UnlockThrottle, unlock_with_throttle
from vrp_desktop.errors import BackupError, WrongPassphrase
from vrp_desktop.store import files, migrate
from vrp_desktop.store.engine import raw_key_literal

FORMAT = "vrp-desktop-backup/1"
_MEMBERS = (files.DB_NAME, files.KEYSLOTS_NAME)


def _copy_database(engine: Engine, target: Path) -> None:
    """Online backup of the live store into a new SQLCipher file keyed like the source."""
    key = engine.url.password
    with engine.connect() as conn:
        source = conn.connection.dbapi_connection
        dest = sqlcipher3.connect(str(target))
        try:
            dest.execute(f'PRAGMA key = "{key}"')
            dest.execute("PRAGMA journal_mode = DELETE")
            source.backup(dest)
        finally:
            dest.close()


def write_backup_files(engine: Engine, keyslots: Path, out: Path) -> Path:
    """Write a backup file of the open store to ``out`` atomically; returns its path."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="vrp-backup-") as tmp:
        db_copy = Path(tmp) / files.DB_NAME
        _copy_database(engine, db_copy)
        slots_bytes = Path(keyslots).read_bytes()
        db_bytes_sha = _sha256_file(db_copy)
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "software_version": __version__,
            "schema_revision": migrate.current_revision(engine),
            "sha256": {
                files.DB_NAME: db_bytes_sha,
                files.KEYSLOTS_NAME: hashlib.sha256(slots_bytes).hexdigest(),
            },
        }
        with atomic_open(out) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=2))
            zf.write(db_copy, files.DB_NAME)
            zf.writestr(files.KEYSLOTS_NAME, slots_bytes)
    return out


def backup(ws, out: Path) -> Path:  # ws: Workspace (typed loosely to avoid an import cycle)
    """Back up an open workspace to ``out`` (needs the backup permission)."""
    ws.require("backup")
    path = write_backup_files(ws.engine, files.keyslots_path(ws.folder), out)
    from vrp_desktop.services import audit

    with ws.unit() as session:
        audit.append(session, ws.user.username, "workspace.backup", "workspace", ws.workspace_id)
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_backup(backup_file: Path, into: Path) -> dict:
    """Unpack and check a backup file into ``into``; returns its manifest."""
    what_to_do = "Choose another backup file, or make a new backup from a working copy."
    try:
        with zipfile.ZipFile(backup_file) as zf:
            names = set(zf.namelist())
            if "manifest.json" not in names or not set(_MEMBERS) <= names:
                raise BackupError(f"{backup_file.name} is not a VRP Desktop backup. {what_to_do}")
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    f"{backup_file.name} is a backup format this version cannot read. {what_to_do}"
                )
            for member in _MEMBERS:
                zf.extract(member, into)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise BackupError(
            f"{backup_file.name} is damaged or not a VRP Desktop backup ({type(exc).__name__}). "
            f"{what_to_do}"
        ) from None
    for member in _MEMBERS:
        if _sha256_file(into / member) != manifest.get("sha256", {}).get(member):
            raise BackupError(
                f"{backup_file.name} is damaged: {member} does not match its checksum. {what_to_do}"
            )
    return manifest


def backup_usernames(backup_file: Path) -> list[str]:
    """Users whose passphrase opens a backup, read from its key slots (no passphrase needed),
    so restoring a one-user backup needs no --user, as opening a one-user workspace does."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"No backup file at {backup_file}. Check the path.")
    try:
        with zipfile.ZipFile(backup_file) as zf:
            data = json.loads(zf.read(files.KEYSLOTS_NAME))
        return KeySlotFile._from_json(backup_file, data).usernames()
    except Exception:  # any damage at all: the same message restore gives
        raise BackupError(
            f"{backup_file.name} is damaged or not a VRP Desktop backup. Choose another backup "
            "file, or make a new backup from a working copy."
        ) from None


def _check_database(path: Path, master_key: bytes) -> None:
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f'PRAGMA key = "{raw_key_literal(master_key)}"')
        result = conn.execute("PRAGMA integrity_check").fetchone()
        cipher = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except sqlcipher3.DatabaseError:
        raise BackupError(
            "The database inside this backup cannot be read with its own key: the backup is "
            "damaged. Choose another backup file."
        ) from None
    finally:
        conn.close()
    if result is None or result[0] != "ok" or cipher:
        raise BackupError(
            "The database inside this backup fails its integrity check. Choose another backup."
        )


def restore(
    backup_file: Path,
    folder: Path,
    *,
    username: str | None = None,
    passphrase: str | None = None,
    recovery_code: str | None = None,
) -> Path:
    """Restore ``backup_file`` into ``folder`` after proving the backup opens and is sound.

    The key comes from a passphrase of a user in the backup, or its recovery code. Existing
    workspace files are moved aside into ``backups/replaced-<time>/``, never deleted.
    """
    backup_file, folder = Path(backup_file), Path(folder)
    if not backup_file.is_file():
        raise BackupError(f"No backup file at {backup_file}. Check the path.")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=folder) as tmp:
        staging = Path(tmp)
        _read_backup(backup_file, staging)
        slots = KeySlotFile.load(staging / files.KEYSLOTS_NAME)
        if recovery_code:
            master_key = slots.unlock_with_recovery(recovery_code)
        elif username and passphrase is not None:
            master_key = unlock_with_throttle(
                slots, username, passphrase, UnlockThrottle(slots.workspace_id)
            )
        else:
            raise WrongPassphrase("Give a user's passphrase or the recovery code for this backup.")
        _check_database(staging / files.DB_NAME, master_key)
        _swap_in(staging, folder)
    return folder


def _swap_in(staging: Path, folder: Path) -> None:
    existing = [
        p for p in [*files.sidecar_paths(folder), files.keyslots_path(folder)] if p.exists()
    ]
    if existing:
        aside = files.backups_dir(folder) / f"replaced-{dt.datetime.now():%Y%m%d-%H%M%S-%f}"
        aside.mkdir(parents=True)
        for path in existing:
            shutil.move(str(path), aside / path.name)
    for member in _MEMBERS:
        (staging / member).replace(folder / member)
    with contextlib.suppress(OSError):
        (folder / files.DB_NAME).chmod(0o600)
