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
import zlib
from pathlib import Path

import sqlcipher3
from sqlalchemy import Engine

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open, owner_only
from vrp_desktop.crypto.keyslots import KeySlotFile
from vrp_desktop.crypto.throttle import UnlockThrottle, unlock_with_throttle
from vrp_desktop.errors import BackupError, PermissionDenied, WorkspaceError, WrongPassphrase
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
    if not out.parent.exists():
        out.parent.mkdir(mode=0o700, parents=True)
    # the copy is encrypted, but it is still made beside the destination, never in /tmp
    audit_head = _audit_head(engine)  # read first: the copy holds at least this much
    with tempfile.TemporaryDirectory(prefix=".vrp-backup-", dir=out.parent) as tmp:
        db_copy = Path(tmp) / files.DB_NAME
        _copy_database(engine, db_copy)
        slots_bytes = Path(keyslots).read_bytes()
        db_bytes_sha = _sha256_file(db_copy)
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "software_version": __version__,
            "schema_revision": migrate.current_revision(engine),
            "audit_head": audit_head,
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


def _audit_head(engine: Engine) -> dict | None:
    """The audit chain's head at the time of the copy (an anchor against truncation)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session as OrmSession

    from vrp_desktop.services import audit

    try:
        with OrmSession(engine) as session:
            return audit.head(session).as_dict()
    except OperationalError:  # a store older than the audit table (pre-migration backups)
        return None


def audit_anchor(backup_file: Path) -> dict | None:
    """The audit head a backup file recorded, or None (read without any key)."""
    try:
        with zipfile.ZipFile(backup_file) as zf:
            manifest = json.loads(zf.read("manifest.json"))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return manifest.get("audit_head") if isinstance(manifest, dict) else None


def backup(ws, out: Path) -> Path:  # ws: Workspace (typed loosely to avoid an import cycle)
    """Back up an open workspace to ``out`` (needs the backup permission)."""
    ws.require("backup")
    if getattr(ws, "on_server", False):
        from vrp_desktop.store import server

        raise BackupError(server.pg_dump_hint(ws.folder))
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
    for stale in Path(into).parent.glob(".restore-*"):
        if stale != Path(into) and stale.is_dir():  # left by a restore that was killed
            shutil.rmtree(stale, ignore_errors=True)
    what_to_do = "Choose another backup file, or make a new backup from a working copy."
    try:
        with zipfile.ZipFile(backup_file) as zf:
            names = set(zf.namelist())
            # members are stored (an encrypted database does not compress): anything that
            # unpacks to far more than it holds is damaged or built to fill the disk
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > 4 * sum(i.compress_size for i in infos) + (
                1 << 20
            ):
                raise BackupError(
                    f"{backup_file.name} unpacks to far more than it holds, so it is not a VRP "
                    f"Desktop backup. {what_to_do}"
                )
            if "manifest.json" not in names or not set(_MEMBERS) <= names:
                raise BackupError(f"{backup_file.name} is not a VRP Desktop backup. {what_to_do}")
            manifest = json.loads(zf.read("manifest.json"))
            if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), dict):
                raise BackupError(
                    f"{backup_file.name} is damaged or not a VRP Desktop backup (its manifest "
                    f"is not readable). {what_to_do}"
                )
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    f"{backup_file.name} is a backup format this version cannot read. {what_to_do}"
                )
            for member in _MEMBERS:
                zf.extract(member, into)
            from vrp_desktop import faults  # the fault suite's crash point (tests only)

            faults.point("restore.unpacked")
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        KeyError,
        EOFError,
        RuntimeError,  # an encrypted member
        NotImplementedError,  # a compression method zipfile lacks
        RecursionError,
        zlib.error,
    ) as exc:
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


def _require_restore_role(path: Path, master_key: bytes, username: str) -> None:
    """Restoring replaces the live workspace, so it is a manager's (or admin's) job."""
    from vrp_desktop import roles

    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f'PRAGMA key = "{raw_key_literal(master_key)}"')
        row = conn.execute(
            "SELECT role FROM user WHERE lower(username) = lower(?) AND active = 1", (username,)
        ).fetchone()
    except sqlcipher3.DatabaseError:
        raise BackupError(
            "The database inside this backup cannot be read with its own key: the backup is "
            "damaged. Choose another backup file."
        ) from None
    finally:
        conn.close()
    if row is None:
        raise PermissionDenied(
            f"User {username!r} is not an active user in this backup, so they cannot restore "
            "it. Ask a provider manager to restore it, or use the recovery code."
        )
    if not roles.can(row[0], "backup"):
        raise PermissionDenied(
            f"Your role ({roles.ROLE_LABELS.get(row[0], row[0])}) cannot restore a backup over "
            "the workspace: restoring is a provider manager's job. Ask a manager to do it. "
            "Nothing was changed."
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
    if files.server_path(folder).is_file():
        raise BackupError(
            f"{folder} is a coordinator kept on a PostgreSQL server: a backup file is not "
            "restored over it. Restore the server's own backup with pg_restore (see the README)."
        )
    if not backup_file.is_file():
        raise BackupError(f"No backup file at {backup_file}. Check the path.")
    folder.mkdir(parents=True, exist_ok=True)
    owner_only(folder, 0o700)
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
        if not recovery_code:
            assert username is not None
            _require_restore_role(staging / files.DB_NAME, master_key, username)
        _require_live_access(folder, staging, username, passphrase, recovery_code)
        _swap_in(staging, folder)
    return folder


def _require_live_access(
    folder: Path,
    staging: Path,
    username: str | None,
    passphrase: str | None,
    recovery_code: str | None,
) -> None:
    """Over a live workspace, the same credential must open it as it is now.

    Otherwise someone removed since the backup (or holding a recovery code replaced since)
    could roll the workspace back to a time they had access. When the live key slots cannot be
    read (the reason to restore, often) the backup's own check stands alone.
    """
    from vrp_desktop.store import rekey

    try:
        pending = rekey.load_pending(folder)
        live = pending[0] if pending else KeySlotFile.load(files.keyslots_path(folder))
    except WorkspaceError:
        return
    live.path = staging / "live-check.json"  # an upgrade on unlock must not touch the live file
    try:
        if recovery_code:
            live.unlock_with_recovery(recovery_code)
            return
        assert username is not None and passphrase is not None
        live_key = live.unlock(username, passphrase)
    except WrongPassphrase:
        raise PermissionDenied(
            "Restoring over this workspace needs someone who can open it as it is now: a "
            "manager's current passphrase (the same as in the backup) or its current recovery "
            "code. To look inside an older backup, restore it into a new, empty folder instead. "
            "Nothing was changed."
        ) from None
    # the role that counts is today's: a manager demoted since the backup restores nothing
    live_db = folder / files.DB_NAME
    if live_db.is_file():
        # an unreadable live database is the reason to restore: the backup's own check stands
        with contextlib.suppress(BackupError):
            _require_restore_role(live_db, live_key, username)


def _swap_in(staging: Path, folder: Path) -> None:
    # a pending re-key belongs to the files being replaced: it goes aside with them
    existing = [
        p
        for p in [
            *files.sidecar_paths(folder),
            files.keyslots_path(folder),
            files.pending_keyslots_path(folder),
        ]
        if p.exists()
    ]
    if existing:
        aside = files.backups_dir(folder) / f"replaced-{dt.datetime.now():%Y%m%d-%H%M%S-%f}"
        aside.parent.mkdir(mode=0o700, exist_ok=True)
        aside.mkdir(mode=0o700)
        for path in existing:
            shutil.move(str(path), aside / path.name)
    for member in _MEMBERS:
        (staging / member).replace(folder / member)
    with contextlib.suppress(OSError):
        (folder / files.DB_NAME).chmod(0o600)
        (folder / files.KEYSLOTS_NAME).chmod(0o600)
