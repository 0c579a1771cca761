"""Key slots kept on the server, so analysts on several machines share one set.

A coordinator on PostgreSQL keeps its key slots in the ``key_slot`` table, one row per slot
plus one row (``_file``) for the workspace id and key check: exactly what ``keyslots.json``
holds (no passphrase, no unwrapped key; each slot is bound to the workspace, its id, kind and
user). The server's rows are the authority; ``keyslots.json`` in each analyst's folder is a copy,
refreshed at every open, so ``vrp user list`` works without a connection and an analyst whose
slot is there can see which workspace a folder is.

Saving writes only what this copy changed: the slots it holds are upserted and the slots it
loaded but no longer holds are deleted, so an analyst adding a user and another whose slot is
re-made at sign-in do not undo each other. Writes take the store's write lock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from vrp_desktop.crypto.keyslots import KeySlotFile
from vrp_desktop.errors import WorkspaceError
from vrp_desktop.store.engine import immediate

META_ID = "_file"
_UPSERT = (
    "INSERT INTO key_slot (id, body) VALUES (?, ?) "
    "ON CONFLICT (id) DO UPDATE SET body = excluded.body"
)


class ServerKeySlotFile(KeySlotFile):
    """Key slots whose ``save`` writes the server's rows first, then the local copy."""

    engine: Engine | None = None
    known: frozenset[str] = frozenset()

    def save(self) -> None:
        if self.engine is None:  # not bound to a server yet (being created)
            super().save()
            return
        with immediate(self.engine).begin() as conn:
            require_same_key(conn, self)
            self.known = write(conn, self, self.known)
        super().save()


def _document(rows: dict[str, str]) -> dict[str, Any]:
    meta = json.loads(rows.pop(META_ID))
    slots = [json.loads(body) for _id, body in sorted(rows.items())]
    return {**meta, "slots": slots}


def load(conn: Connection, local_path: Path, engine: Engine) -> ServerKeySlotFile:
    """The slots on the server, bound to ``engine`` for saving."""
    rows = {row[0]: row[1] for row in conn.exec_driver_sql("SELECT id, body FROM key_slot")}
    if META_ID not in rows:
        raise WorkspaceError(
            "The coordinator's database holds no key slots, so it cannot be unlocked. It may "
            "not be a VRP coordinator database; check the address in server.json."
        )
    try:
        data = _document(rows)
    except (ValueError, TypeError):
        raise WorkspaceError(
            "The key slots on the coordinator's database server are damaged. Restore the "
            "database from the server's backup (pg_restore)."
        ) from None
    try:
        slots = ServerKeySlotFile._from_json(Path(local_path), data)
    except Exception as exc:  # the shape errors are private to keyslots
        if isinstance(exc, WorkspaceError):
            raise
        raise WorkspaceError(
            f"The key slots on the coordinator's database server are damaged ({exc}). Restore "
            "the database from the server's backup (pg_restore)."
        ) from None
    assert isinstance(slots, ServerKeySlotFile)
    slots.engine = engine
    slots.known = frozenset(s.id for s in slots.slots())
    return slots


def bind(slots: KeySlotFile, engine: Engine, known: frozenset[str]) -> ServerKeySlotFile:
    """A server-saving copy of ``slots`` (for a new workspace or after a re-key)."""
    data = slots._to_json()
    bound = ServerKeySlotFile._from_json(slots.path, data)
    assert isinstance(bound, ServerKeySlotFile)
    bound.engine = engine
    bound.known = known
    return bound


KEY_CHANGED = (
    "The workspace key was changed by another analyst since you signed in (a user was removed "
    "or the recovery code used), so nothing was changed. Sign in again and retry."
)


def require_same_key(conn: Connection, slots: KeySlotFile) -> None:
    """Refuse to save slots sealed to a key the server no longer uses."""
    body = conn.exec_driver_sql("SELECT body FROM key_slot WHERE id = ?", (META_ID,)).scalar()
    if body is not None and json.loads(body).get("key_check") != slots._to_json()["key_check"]:
        raise WorkspaceError(KEY_CHANGED)


def write(conn: Connection, slots: KeySlotFile, known: frozenset[str]) -> frozenset[str]:
    """Upsert ``slots``' rows, delete the ones in ``known`` it no longer holds; returns the
    ids now held. Runs inside the caller's (locked) transaction."""
    data = slots._to_json()
    meta = {k: v for k, v in data.items() if k != "slots"}
    rows = [(META_ID, json.dumps(meta))] + [(s["id"], json.dumps(s)) for s in data["slots"]]
    conn.exec_driver_sql(_UPSERT, rows)
    held = frozenset(s["id"] for s in data["slots"])
    for gone in sorted(known - held):
        conn.exec_driver_sql("DELETE FROM key_slot WHERE id = ?", (gone,))
    return held


def connect_folder(folder: Path, dsn: str) -> list[str]:
    """Make ``folder`` this machine's way into a coordinator on a server: its connection
    details and a copy of the server's key slots. Returns the users who can sign in.

    Nothing secret is fetched or written: a user still needs their own passphrase (their slot
    was added by an analyst who could open the workspace: ``vrp user add``) and their own
    database credentials (kept where libpq looks for them).
    """
    from vrp_desktop.atomic import owner_only
    from vrp_desktop.store import files, migrate, server

    folder = Path(folder)
    if files.is_workspace(folder) or files.keyslots_path(folder).exists():
        raise WorkspaceError(
            f"There is already a workspace in {folder}. Open it, or choose an empty folder."
        )
    engine = server.create_server_engine(dsn)
    try:
        server.check_reachable(engine)
        server.check_privileges(engine)
        if migrate.current_revision(engine) is None:
            raise WorkspaceError(
                "That database holds no VRP coordinator. Check the address, or make one with "
                "'vrp init FOLDER --coordinator --database ...'."
            )
        migrate.require_known(engine)
        with engine.connect() as conn:
            slots = load(conn, files.keyslots_path(folder), engine)
    finally:
        engine.dispose()
    folder.mkdir(parents=True, exist_ok=True)
    owner_only(folder, 0o700)
    KeySlotFile.save(slots)
    server.write_details(folder, dsn, slots.workspace_id)
    return slots.usernames()
