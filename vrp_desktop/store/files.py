"""The files that make a workspace folder."""

from __future__ import annotations

from pathlib import Path

DB_NAME = "workspace.db"
KEYSLOTS_NAME = "keyslots.json"
#: a re-key in progress: the new key slots, written before the database is re-keyed
PENDING_KEYSLOTS_NAME = "keyslots.pending.json"
BACKUPS_DIR = "backups"
#: a coordinator on a database server: its connection details (no password)
SERVER_NAME = "server.json"


def db_path(folder: Path) -> Path:
    return Path(folder) / DB_NAME


def keyslots_path(folder: Path) -> Path:
    return Path(folder) / KEYSLOTS_NAME


def pending_keyslots_path(folder: Path) -> Path:
    return Path(folder) / PENDING_KEYSLOTS_NAME


def backups_dir(folder: Path) -> Path:
    return Path(folder) / BACKUPS_DIR


def sidecar_paths(folder: Path) -> list[Path]:
    """The database with its WAL and shared-memory files."""
    db = db_path(folder)
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def server_path(folder: Path) -> Path:
    return Path(folder) / SERVER_NAME


def is_workspace(folder: Path) -> bool:
    """A workspace folder: key slots beside a database file or a server's details."""
    return keyslots_path(folder).is_file() and (
        db_path(folder).is_file() or server_path(folder).is_file()
    )
