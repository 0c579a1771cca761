"""Opening, creating and closing a workspace: a folder with an encrypted store and key slots.

A ``Workspace`` is the unlocked handle every service takes: it knows the engine, the signed-in
user and their role, and hands out one transaction per user action (``ws.unit()``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from vrp_desktop import roles
from vrp_desktop.atomic import owner_only
from vrp_desktop.crypto.keyslots import KeySlotFile, new_master_key
from vrp_desktop.crypto.throttle import (
    UnlockThrottle,
    recover_with_throttle,
    unlock_with_throttle,
)
from vrp_desktop.errors import VrpError, WorkspaceError, WrongPassphrase
from vrp_desktop.ids import uuid7
from vrp_desktop.store import files, migrate, server, server_slots, threads
from vrp_desktop.store import rekey as rekeying
from vrp_desktop.store.engine import check_readable, create_store_engine, immediate
from vrp_desktop.store.models import Provider, Setting, User
from vrp_desktop.store.sealed import SECRET_SETTINGS, Sealer

KINDS = ("provider", "coordinator", "custodian")
#: the setting that holds a linkage key; a coordinator workspace refuses to store one
LINKAGE_KEY = "linkage_key"
_AFTER_COMMIT = "vrp_after_commit"


def after_commit(session: OrmSession, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the unit that owns ``session`` commits (see ``Workspace.unit``)."""
    hooks = session.info.get(_AFTER_COMMIT)
    if hooks is None:
        raise RuntimeError("after_commit needs a session from ws.unit()")
    hooks.append(hook)


@dataclasses.dataclass(frozen=True)
class SignedInUser:
    username: str
    display_name: str
    role: str


class Workspace:
    """An unlocked workspace. Close it (or use it as a context manager) when done."""

    def __init__(
        self,
        folder: Path,
        engine: Engine,
        master_key: bytes,
        slots: KeySlotFile,
        user: SignedInUser,
    ) -> None:
        self.folder = Path(folder)
        self.slots = slots
        self.user = user
        self._settings_cache: dict[str, str | None] = {}
        self._bind(engine, master_key)

    def _bind(self, engine: Engine, master_key: bytes) -> None:
        self.engine = engine
        self._master_key = master_key
        self.on_server = server.is_postgres(engine)
        #: secrets are sealed under the master key where the store itself is not encrypted
        self.sealer = Sealer(master_key, self.slots.workspace_id) if self.on_server else None
        reads = server.reading(engine) if self.on_server else engine
        self._sessions = sessionmaker(reads, expire_on_commit=False)
        self._write_sessions = sessionmaker(immediate(engine), expire_on_commit=False)

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        folder: Path,
        *,
        provider_code: str,
        provider_name: str,
        username: str,
        passphrase: str,
        display_name: str | None = None,
        role: str = "manager",
        kind: str = "provider",
        database: str | None = None,
    ) -> tuple[Workspace, str]:
        """Make a new workspace; returns it unlocked and the recovery code to show once.

        ``database`` (a ``postgresql://`` address without a password) keeps a coordinator's
        records on that server instead of in an encrypted file (see ``store/server.py``).
        """
        folder = Path(folder)
        if database is not None:
            return cls._create_on_server(
                folder, database, provider_code=provider_code, provider_name=provider_name,
                username=username, passphrase=passphrase, display_name=display_name, role=role,
                kind=kind,
            )  # fmt: skip
        if files.is_workspace(folder) or files.db_path(folder).exists():
            raise WorkspaceError(
                f"There is already a workspace in {folder}. Open it, or choose an empty folder."
            )
        if kind not in KINDS:
            raise WorkspaceError(
                f"Unknown workspace kind {kind!r}: use provider, coordinator or custodian."
            )
        if role not in roles.ROLES:
            raise WorkspaceError(f"Unknown role {role!r}: use one of {', '.join(roles.ROLES)}.")
        folder.mkdir(parents=True, exist_ok=True)
        owner_only(folder, 0o700)
        workspace_id = uuid7()
        master_key = new_master_key()
        slots, recovery_code = KeySlotFile.create(
            files.keyslots_path(folder),
            workspace_id=workspace_id,
            master_key=master_key,
            username=username,
            passphrase=passphrase,
        )
        try:
            engine = create_store_engine(files.db_path(folder), master_key)
            migrate.upgrade(engine)
            user = SignedInUser(username, display_name or username, role)
            with sessionmaker(engine).begin() as session:
                if kind == "provider":
                    # the provider's own key until the custodian's arrives (never the VRP's)
                    session.add(Setting(key=LINKAGE_KEY, value=secrets.token_hex(32)))
                session.add_all(
                    [
                        Setting(key="workspace_id", value=workspace_id),
                        Setting(key="kind", value=kind),
                        Setting(key="created_at", value=dt.datetime.now(dt.UTC).isoformat()),
                        Provider(code=provider_code, name=provider_name, is_self=True),
                        User(username=username, display_name=user.display_name, role=role),
                    ]
                )
                from vrp_desktop.services import frameworks  # local: services import us

                frameworks.install_builtin(session)
        except BaseException:
            for path in [*files.sidecar_paths(folder), files.keyslots_path(folder)]:
                path.unlink(missing_ok=True)
            raise
        ws = cls(folder, engine, master_key, slots, user)
        from vrp_desktop.services import audit  # local: services import this module

        with ws.unit() as session:
            audit.append(session, ws.user.username, "workspace.create", "workspace", workspace_id)
        ws.setting("kind")  # cached now, on the creating thread (see _open_with_key)
        return ws, recovery_code

    @classmethod
    def _create_on_server(
        cls,
        folder: Path,
        database: str,
        *,
        provider_code: str,
        provider_name: str,
        username: str,
        passphrase: str,
        display_name: str | None,
        role: str,
        kind: str,
    ) -> tuple[Workspace, str]:
        if kind != "coordinator":
            raise WorkspaceError(
                "Only a VRP coordinator's records can live on a database server; a provider's "
                "stay in its encrypted workspace file. Leave out --database, or add "
                "--coordinator."
            )
        if role not in roles.ROLES:
            raise WorkspaceError(f"Unknown role {role!r}: use one of {', '.join(roles.ROLES)}.")
        if files.is_workspace(folder) or files.keyslots_path(folder).exists():
            raise WorkspaceError(
                f"There is already a workspace in {folder}. Open it, or choose an empty folder."
            )
        engine = server.create_server_engine(database)
        made: list[Path] = []
        try:
            server.check_reachable(engine)
            if server.has_tables(engine):
                raise WorkspaceError(
                    "That database already holds tables, so a new coordinator will not be made "
                    "in it (nothing was changed). Ask for an empty database made for the VRP "
                    "(for example: createdb --owner=vrp vrp_coordinator)."
                )
            folder.mkdir(parents=True, exist_ok=True)
            owner_only(folder, 0o700)
            workspace_id = uuid7()
            master_key = new_master_key()
            made.append(files.keyslots_path(folder))
            slots, recovery_code = KeySlotFile.create(
                files.keyslots_path(folder),
                workspace_id=workspace_id,
                master_key=master_key,
                username=username,
                passphrase=passphrase,
            )
            migrate.upgrade(engine)
            sealer = Sealer(master_key, workspace_id)
            user = SignedInUser(username, display_name or username, role)
            with sessionmaker(immediate(engine)).begin() as session:
                session.add_all(
                    [
                        Setting(key="workspace_id", value=workspace_id),
                        Setting(key="kind", value=kind),
                        Setting(
                            key="linkage_key",
                            value=sealer.seal("linkage_key", secrets.token_hex(32)),
                        ),
                        Setting(key="created_at", value=dt.datetime.now(dt.UTC).isoformat()),
                        Provider(code=provider_code, name=provider_name, is_self=True),
                        User(username=username, display_name=user.display_name, role=role),
                    ]
                )
                from vrp_desktop.services import frameworks  # local: services import us

                frameworks.install_builtin(session)
                known = server_slots.write(session.connection(), slots, frozenset())
            made.append(files.server_path(folder))
            server.write_details(folder, database, workspace_id)
        except BaseException:
            engine.dispose()
            for path in made:
                path.unlink(missing_ok=True)
            raise
        ws = cls(folder, engine, master_key, server_slots.bind(slots, engine, known), user)
        from vrp_desktop.services import audit  # local: services import this module

        with ws.unit() as session:
            audit.append(session, ws.user.username, "workspace.create", "workspace", workspace_id)
        ws.setting("kind")
        return ws, recovery_code

    @classmethod
    def _open_on_server(
        cls,
        folder: Path,
        username: str,
        unlock: Callable[[KeySlotFile], bytes],
        *,
        recovering: bool = False,
    ) -> Workspace:
        """Open a coordinator kept on a server: its key slots are the server's (the folder's
        ``keyslots.json`` is refreshed from them), its schema is migrated in one transaction
        (PostgreSQL DDL is transactional) under the write lock, after the key is known."""
        details = server.read_details(folder)
        engine = server.create_server_engine(details["dsn"])
        try:
            server.check_reachable(engine)
            server.check_privileges(engine)
            migrate.require_known(engine)
            with engine.connect() as conn:
                slots = server_slots.load(conn, files.keyslots_path(folder), engine)
            if slots.workspace_id != details.get("workspace_id"):
                raise WorkspaceError(
                    f"The database named in {files.SERVER_NAME} holds a different VRP workspace "
                    "from this folder's. Check the address, or connect this folder again."
                )
            master_key = unlock(slots)
            KeySlotFile.save(slots)  # the folder's copy, as the server has it now
            if migrate.needs_upgrade(engine):
                migrate.upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        ws = cls._signed_in(folder, engine, master_key, slots, username)
        if recovering:
            try:
                ws.rekey()
            except BaseException:
                ws.close()
                raise
        return ws

    @classmethod
    def open(cls, folder: Path, username: str, passphrase: str) -> Workspace:
        """Unlock with a user's passphrase. A wrong one changes no file in the folder."""
        folder = Path(folder)
        if server.is_server_workspace(folder):
            return cls._open_on_server(
                folder,
                username,
                lambda slots: unlock_with_throttle(
                    slots, username, passphrase, UnlockThrottle(slots.workspace_id)
                ),
            )
        slots, pending = _load_slots_in_force(folder)
        throttle = UnlockThrottle(slots.workspace_id)
        master_key = unlock_with_throttle(slots, username, passphrase, throttle)
        slots = _finish_pending(folder, slots, pending, master_key)
        return cls._open_with_key(folder, slots, master_key, username)

    @classmethod
    def open_with_recovery(cls, folder: Path, code: str, username: str) -> Workspace:
        """Unlock with the recovery code; the caller then sets ``username``'s new passphrase.

        Using the recovery code changes the workspace key (the code itself keeps working): a
        key remembered on a device, or an old copy of the key file, no longer opens it.
        """
        folder = Path(folder)
        if server.is_server_workspace(folder):
            return cls._open_on_server(
                folder,
                username,
                lambda slots: recover_with_throttle(
                    slots, code, UnlockThrottle(slots.workspace_id)
                ),
                recovering=True,
            )
        slots, pending = _load_slots_in_force(folder)
        master_key = recover_with_throttle(slots, code, UnlockThrottle(slots.workspace_id))
        slots = _finish_pending(folder, slots, pending, master_key)
        ws = cls._open_with_key(folder, slots, master_key, username)
        try:
            ws.rekey()
        except VrpError:
            pass  # an older-format slot remains; the key changes when it has been re-made
        except BaseException:
            ws.close()
            raise
        return ws

    @classmethod
    def open_with_key(cls, folder: Path, master_key: bytes, username: str) -> Workspace:
        """Unlock with a key remembered in the OS keychain ("remember me on this device")."""
        folder = Path(folder)
        if server.is_server_workspace(folder):
            return cls._open_on_server(
                folder, username, lambda slots: _remembered_key(slots, master_key)
            )
        slots, pending = _load_slots_in_force(folder)
        if pending is not None and slots.verify_master_key(master_key):
            slots = _finish_pending(folder, slots, pending, master_key)
        if not slots.verify_master_key(master_key):
            raise WrongPassphrase(
                "The key remembered on this device no longer opens this workspace (it was "
                "restored or re-keyed). Sign in with your passphrase."
            )
        return cls._open_with_key(folder, slots, master_key, username)

    @classmethod
    def _open_with_key(
        cls, folder: Path, slots: KeySlotFile, master_key: bytes, username: str
    ) -> Workspace:
        if not files.db_path(folder).is_file():
            raise WorkspaceError(
                f"{folder} has key slots but no {files.DB_NAME}. Restore the workspace from a "
                "backup (vrp restore)."
            )
        owner_only(folder, 0o700)
        owner_only(files.keyslots_path(folder))
        owner_only(files.backups_dir(folder), 0o700)
        engine = create_store_engine(files.db_path(folder), master_key)
        check_readable(engine)
        try:
            _migrate_with_backup(folder, engine)
        except BaseException:
            engine.dispose()
            raise
        return cls._signed_in(folder, engine, master_key, slots, username)

    @classmethod
    def _signed_in(
        cls, folder: Path, engine: Engine, master_key: bytes, slots: KeySlotFile, username: str
    ) -> Workspace:
        with OrmSession(engine) as session:
            row = session.scalar(
                select(User).where(User.username == username, User.active.is_(True))
            ) or session.scalar(
                select(User).where(User.username.ilike(username), User.active.is_(True))
            )
            removed = {
                name.casefold()
                for name in session.scalars(select(User.username).where(User.active.is_(False)))
            }
        if row is None:
            engine.dispose()
            raise WorkspaceError(f"There is no active user {username!r} in this workspace.")
        ws = cls(
            folder,
            engine,
            master_key,
            slots,
            SignedInUser(row.username, row.display_name, row.role),
        )
        ws.setting("kind")  # read once here, on the opening thread: the window asks for it often
        stale = tuple(name for name in slots.usernames() if name.casefold() in removed)
        if stale:
            # a removal whose re-key was interrupted before it began: finish it now
            with contextlib.suppress(VrpError):
                ws.rekey(drop=stale)
        return ws

    def close(self) -> None:
        """Checkpoint the WAL into the main file and release every connection."""
        if not self.on_server:
            with contextlib.suppress(Exception), self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- use -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def unit(self) -> Iterator[OrmSession]:
        """One user action: a ``BEGIN IMMEDIATE`` transaction that commits on success and rolls
        back on error. Work registered with ``after_commit`` runs once it has committed."""
        threads.check()
        hooks: list[Callable[[], None]] = []
        with self._write_sessions.begin() as session:
            session.info[_AFTER_COMMIT] = hooks
            yield session
        for hook in hooks:
            hook()

    @staticmethod
    def after_commit(session: OrmSession, hook: Callable[[], None]) -> None:
        """Run ``hook`` after ``session``'s unit commits (never if it rolls back).

        Files that depend on a transaction (key slots, key files, batches, receipts) are written
        here, so a rolled-back unit leaves no file behind that claims it happened.
        """
        after_commit(session, hook)

    def read(self) -> OrmSession:
        """A session for reading; the caller closes it (``with ws.read() as s:``)."""
        threads.check()
        return self._sessions()

    def rekey(self, drop: tuple[str, ...] = ()) -> None:
        """Change the master key: the database is re-encrypted (``PRAGMA rekey``) and the new
        key sealed to every slot but ``drop``'s. Crash-safe (see ``store.rekey``).

        Anyone who kept the old key (a removed user, an old copy of ``keyslots.json``, a key
        remembered on a device) can no longer open this database; backups made before keep
        the old key, and open with the passphrases they were made with.
        """
        if self.on_server:
            self._rekey_on_server(drop)
            return
        new_key = new_master_key()
        new_slots = self.slots.rekeyed(self._master_key, new_key, drop=drop)
        old_key = self._master_key
        rekeying.begin(self.folder, new_slots, new_key, old_key)
        self.engine.dispose()
        try:
            slots = rekeying.finish(self.folder, new_slots, new_key, old_key)
        except BaseException:
            rekeying.abandon(self.folder, new_key)
            in_force = new_key if rekeying.opens(files.db_path(self.folder), new_key) else old_key
            self._use_key(in_force, self.slots)
            raise
        self._use_key(new_key, slots)
        _refresh_remembered(self.workspace_id, self.user.username, slots, drop, new_key)

    def _use_key(self, master_key: bytes, slots: KeySlotFile) -> None:
        self.slots = slots
        self._bind(create_store_engine(files.db_path(self.folder), master_key), master_key)

    def _rekey_on_server(self, drop: tuple[str, ...]) -> None:
        """On a server the store is not encrypted with the master key; what is sealed under it
        (secret settings, pairing secrets) is re-sealed, and the new key sealed to the slots
        that stay, in one locked transaction: a crash leaves the old key or the new, whole."""
        new_key = new_master_key()
        new_sealer = Sealer(new_key, self.workspace_id)
        old_sealer = self.sealer
        assert old_sealer is not None
        with self.unit() as session:
            conn = session.connection()
            current = server_slots.load(conn, self.slots.path, self.engine)
            new_slots = current.rekeyed(self._master_key, new_key, drop=drop)
            for key in SECRET_SETTINGS:
                row = session.get(Setting, key)
                if row is not None and row.value is not None:
                    row.value = new_sealer.seal(key, old_sealer.open(key, row.value))
            for provider in session.scalars(
                select(Provider).where(Provider.pairing_secret.is_not(None))
            ):
                name = f"pairing:{provider.id}"
                secret = old_sealer.open_bytes(name, provider.pairing_secret)
                provider.pairing_secret = new_sealer.seal_bytes(name, secret)
            known = server_slots.write(conn, new_slots, current.known)
        bound = server_slots.bind(new_slots, self.engine, known)
        KeySlotFile.save(bound)
        self.slots = bound
        self._bind(self.engine, new_key)
        _refresh_remembered(self.workspace_id, self.user.username, bound, drop, new_key)

    def seal_secret(self, name: str, value: bytes) -> bytes:
        """``value`` as it is stored: sealed on a server, as it is in an encrypted file."""
        return value if self.sealer is None else self.sealer.seal_bytes(name, value)

    def open_secret(self, name: str, stored: bytes) -> bytes:
        return stored if self.sealer is None else self.sealer.open_bytes(name, stored)

    @property
    def master_key(self) -> bytes:
        return self._master_key

    @property
    def workspace_id(self) -> str:
        return self.slots.workspace_id

    def setting(self, key: str, default: str | None = None) -> str | None:
        if key not in self._settings_cache:
            with self.read() as session:
                row = session.get(Setting, key)
            value = None if row is None else row.value
            if value is not None and self.sealer is not None and key in SECRET_SETTINGS:
                value = self.sealer.open(key, value)
            # a missing setting is remembered too (``kind`` is absent in older workspaces):
            # the window asks on its own thread, which must not read the store
            self._settings_cache[key] = value
        value = self._settings_cache[key]
        return default if value is None else value

    def set_setting(self, session: OrmSession, key: str, value: str) -> None:
        if key == LINKAGE_KEY and self.kind != "provider":
            raise WorkspaceError(
                "This workspace is not a provider's: it never holds the partnership's linkage "
                "key (the custodian issues it to providers only). Nothing was stored."
            )
        if self.sealer is not None and key in SECRET_SETTINGS:
            value = self.sealer.seal(key, value)
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
        self._settings_cache.pop(key, None)

    @property
    def kind(self) -> str:
        return self.setting("kind", "provider") or "provider"

    def require(self, action: str) -> None:
        roles.require(self.user.role, action)

    def own_provider(self) -> Provider:
        with self.read() as session:
            provider = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
        if provider is None:
            raise WorkspaceError("This workspace has no provider record; restore it from a backup.")
        return provider


def _migrate_with_backup(folder: Path, engine: Engine) -> None:
    """Upgrade an older store after one encrypted backup per migration (not per attempt).

    A store from a newer release is refused before anything is written.
    """
    current = migrate.require_known(engine)
    head = migrate.head_revision()
    if current == head:
        return
    from vrp_desktop.services import backup  # local: avoids an import cycle

    target = files.backups_dir(folder) / f"pre-migration-{current or 'empty'}-to-{head}.vrpbackup"
    if not target.is_file():
        backup.write_backup_files(engine, files.keyslots_path(folder), target)
    migrate.upgrade(engine)


def _remembered_key(slots: KeySlotFile, master_key: bytes) -> bytes:
    if not slots.verify_master_key(master_key):
        raise WrongPassphrase(
            "The key remembered on this device no longer opens this workspace (it was "
            "restored or re-keyed). Sign in with your passphrase."
        )
    return master_key


def _load_slots_in_force(folder: Path) -> tuple[KeySlotFile, bytes | None]:
    """The slots an unlock must open: a pending re-key's when one is under way."""
    slots = _load_slots(folder)
    pending = rekeying.load_pending(folder)
    if pending is None:
        return slots, None
    return pending


def _finish_pending(
    folder: Path, slots: KeySlotFile, pending: bytes | None, master_key: bytes
) -> KeySlotFile:
    if pending is None:
        return slots
    return rekeying.complete_pending(folder, slots, pending, master_key)


def _refresh_remembered(
    workspace_id: str, current: str, slots: KeySlotFile, drop: tuple[str, ...], new_key: bytes
) -> None:
    """Forget keys remembered on this device for the old key; keep the current user's, renewed."""
    from vrp_desktop.crypto import remember

    with contextlib.suppress(VrpError):
        had_current = remember.recall(workspace_id, current) is not None
        for name in {*drop, *slots.usernames()}:
            remember.forget(workspace_id, name)
        if had_current and current.casefold() not in {d.casefold() for d in drop}:
            remember.remember(workspace_id, current, new_key)


def _load_slots(folder: Path) -> KeySlotFile:
    if not folder.is_dir():
        raise WorkspaceError(
            f"No workspace folder at {folder}. Check the path, or create one with 'vrp init'."
        )
    if not files.keyslots_path(folder).is_file():
        raise WorkspaceError(
            f"{folder} is not a VRP workspace (no {files.KEYSLOTS_NAME}). Check the path, or "
            "restore the workspace from a backup."
        )
    return KeySlotFile.load(files.keyslots_path(folder))


def usernames(folder: Path) -> list[str]:
    """Users who can unlock this workspace (read from the key slots, no passphrase needed)."""
    return _load_slots_in_force(Path(folder))[0].usernames()
