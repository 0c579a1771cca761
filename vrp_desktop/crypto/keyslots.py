"""Key slots: the workspace's master key, wrapped once per user and once for the recovery code.

Like disk encryption, the database is keyed with one random master key; ``keyslots.json`` beside
it holds that key wrapped with AES-256-GCM under a key derived by Argon2id from each user's
passphrase. The file is plaintext but holds nothing unwrapped: no passphrase, no key. Each slot's
associated data binds the workspace id, slot id, kind and username, so a slot cannot be moved to
another workspace, relabelled for another user or turned into a recovery slot. A ``key_check``
(HMAC of the master key) lets a change be refused when it is handed the wrong master key, so a
bug cannot add a slot that opens nothing.

Every change is saved at once, atomically, mode 0600.

Version 2 slots are sealed, so the master key can change without anyone's passphrase: each slot
holds an X25519 key pair whose private half is wrapped under the passphrase, and the master key
is sealed to the public half (ephemeral X25519, HKDF-SHA256, AES-256-GCM). Re-keying the
database after a user is removed seals a new master key to the remaining slots' public keys; the
removed user, who may have kept the old master key and an old copy of this file, learns nothing
about the new one. Version 1 slots (the master key wrapped directly) still open, and are
re-made as version 2 slots at their next unlock, as are slots weaker than ``kdf``'s floor.

``cryptography`` is imported where a key is wrapped or opened, not at module level: the unlock
screen reads the user names from this file before it shows, and must not wait for OpenSSL.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vrp_desktop.atomic import atomic_write_bytes
from vrp_desktop.crypto import kdf
from vrp_desktop.crypto.kdf import KdfParams
from vrp_desktop.crypto.recovery import (
    looks_like_recovery_code,
    new_recovery_code,
    normalise_recovery_code,
)
from vrp_desktop.errors import VrpError, WorkspaceError, WrongPassphrase
from vrp_desktop.ids import uuid7

FILE_NAME = "keyslots.json"
FORMAT = "vrp-desktop-keyslots"
VERSION = 2
LEGACY_VERSION = 1
MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
USER = "user"
RECOVERY = "recovery"
MAX_USERNAME = 64
_MAX_FILE_BYTES = 1024 * 1024
_PUBLIC_BYTES = 32
_SEALED_BYTES = _PUBLIC_BYTES + NONCE_BYTES + MASTER_KEY_BYTES + 16
_RESTORE = f"Restore {FILE_NAME} from a backup of this workspace"


def new_master_key() -> bytes:
    """32 random bytes from the OS: the key the database is encrypted with."""
    return secrets.token_bytes(MASTER_KEY_BYTES)


def wrong_passphrase_message(username: str) -> str:
    """The one message for a wrong passphrase and an unknown user alike."""
    return (
        f"That passphrase does not match user {username!r}. "
        "Check Caps Lock and try again, or use your recovery code."
    )


WRONG_RECOVERY_MESSAGE = (
    "That recovery code does not open this workspace. Check each group of characters against "
    "the code you wrote down at set-up, and try again."
)
NOT_A_RECOVERY_CODE_MESSAGE = (
    "That does not look like a recovery code: it has 28 letters and digits, shown in seven "
    "groups of four (for example 7KQ2-M9XA-...). Check it and try again."
)


@dataclass(frozen=True)
class KeySlot:
    """One wrapping of the master key.

    Version 2 (``public_key`` set): ``ciphertext`` is the slot's X25519 private key wrapped under
    the passphrase, and ``sealed`` the master key sealed to ``public_key``. Version 1 (legacy,
    ``public_key`` None): ``ciphertext`` is the master key itself.
    """

    id: str
    kind: str
    username: str | None
    created_at: str
    kdf: KdfParams
    nonce: bytes
    ciphertext: bytes
    public_key: bytes | None = None
    sealed: bytes | None = None

    @property
    def legacy(self) -> bool:
        return self.public_key is None


class KeySlotFile:
    """The key slots of one workspace, read from and saved to ``keyslots.json``."""

    def __init__(
        self, path: Path, workspace_id: str, slots: list[KeySlot], key_check: bytes
    ) -> None:
        self.path = Path(path)
        self.workspace_id = workspace_id
        self._slots = list(slots)
        self._key_check = key_check

    # ----- creating and loading -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        workspace_id: str,
        master_key: bytes,
        username: str,
        passphrase: str,
        params: KdfParams | None = None,
    ) -> tuple[KeySlotFile, str]:
        """Write a new key file with the first user's slot and a recovery slot.

        Returns the file and the recovery code, to be shown once. ``params`` sets the cost;
        every slot still gets a fresh salt. Refuses to overwrite an existing key file.
        """
        path = Path(path)
        if path.exists():
            raise WorkspaceError(
                f"{path} already exists; a new workspace will not overwrite another's keys."
            )
        if not isinstance(workspace_id, str) or not workspace_id:
            raise ValueError("workspace_id must be a non-empty string")
        _require_master_key(master_key)
        username = _clean_username(username)
        _strength().require_acceptable(passphrase, (username,))
        slots_file = cls(path, workspace_id, [], _key_check(master_key, workspace_id))
        base = params or kdf.default_params()
        slots_file._slots.append(
            slots_file._wrap(USER, username, passphrase, master_key, base, slot_id=None)
        )
        code = new_recovery_code()
        slots_file._slots.append(
            slots_file._wrap(
                RECOVERY, None, normalise_recovery_code(code), master_key, base, slot_id=None
            )
        )
        slots_file.save()
        return slots_file, code

    @classmethod
    def load(cls, path: Path) -> KeySlotFile:
        """Read ``keyslots.json``; anything missing or malformed is a WorkspaceError."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > _MAX_FILE_BYTES:
                raise WorkspaceError(
                    f"{path} is {size} bytes, far too large to be a key file. {_RESTORE}."
                )
            raw = path.read_bytes()
        except FileNotFoundError:
            raise WorkspaceError(
                f"The key file {FILE_NAME} is missing from {path.parent}, so this workspace "
                f"cannot be unlocked. {_RESTORE}, or choose the right workspace folder."
            ) from None
        except OSError as exc:
            raise WorkspaceError(
                f"The key file {path} could not be read ({exc.strerror or exc}). Check the "
                f"folder's permissions, or {_RESTORE[0].lower()}{_RESTORE[1:]}."
            ) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise WorkspaceError(
                f"The key file {path} is damaged (it is not valid JSON). {_RESTORE}."
            ) from None
        try:
            return cls._from_json(path, data)
        except _Shape as exc:
            raise WorkspaceError(
                f"The key file {path} is damaged or is not a VRP Desktop key file ({exc}). "
                f"{_RESTORE}."
            ) from None

    # ----- reading --------------------------------------------------------------------------

    def usernames(self) -> list[str]:
        """User names as they were given, in slot order."""
        return [slot.username for slot in self._slots if slot.kind == USER and slot.username]

    def has_user(self, name: str) -> bool:
        return self._find_user(name) is not None

    def has_recovery(self) -> bool:
        return any(slot.kind == RECOVERY for slot in self._slots)

    def verify_master_key(self, master_key: bytes) -> bool:
        """True when ``master_key`` is this workspace's key (e.g. one recalled from a keychain)."""
        if not isinstance(master_key, bytes) or len(master_key) != MASTER_KEY_BYTES:
            return False
        return hmac.compare_digest(_key_check(master_key, self.workspace_id), self._key_check)

    # ----- unlocking ------------------------------------------------------------------------

    def unlock(self, username: str, passphrase: str) -> bytes:
        """The master key, or WrongPassphrase; an unknown user looks exactly like a wrong one."""
        slot = self._find_user(username)
        if slot is None:
            # Spend the same Argon2id work, so timing does not tell which users exist.
            template = next((s.kdf for s in self._slots if s.kind == USER), None)
            kdf.derive(passphrase, kdf.with_new_salt(template or kdf.default_params()))
            raise WrongPassphrase(wrong_passphrase_message(username))
        key = self._unwrap(slot, passphrase)
        if key is None:
            raise WrongPassphrase(wrong_passphrase_message(username))
        self._refresh(slot, passphrase, key)
        return key

    def unlock_with_recovery(self, code: str) -> bytes:
        """The master key from the recovery code; case, spaces and dashes do not matter."""
        if not looks_like_recovery_code(code):
            raise WrongPassphrase(NOT_A_RECOVERY_CODE_MESSAGE)
        compact = normalise_recovery_code(code)
        for slot in self._slots:
            if slot.kind == RECOVERY:
                key = self._unwrap(slot, compact)
                if key is not None:
                    self._refresh(slot, compact, key)
                    return key
        raise WrongPassphrase(WRONG_RECOVERY_MESSAGE)

    # ----- changing -------------------------------------------------------------------------

    def add_user(self, master_key: bytes, username: str, passphrase: str) -> None:
        """Add a slot for a new user (names compare without regard to case)."""
        self._require_own_key(master_key)
        username = _clean_username(username)
        if self.has_user(username):
            raise VrpError(
                f"There is already a user called {username!r} in this workspace; "
                "choose another name."
            )
        _strength().require_acceptable(passphrase, (username,))
        self._slots.append(
            self._wrap(USER, username, passphrase, master_key, kdf.default_params(), slot_id=None)
        )
        self.save()

    def remove_user(self, username: str) -> None:
        """Remove a user's slot; the last user slot stays, so someone can always sign in."""
        slot = self._find_user(username)
        if slot is None:
            raise VrpError(f"There is no user called {username!r} in this workspace.")
        if len(self.usernames()) <= 1:
            raise VrpError(
                f"{slot.username!r} is the only user of this workspace and cannot be removed. "
                "Add another user first."
            )
        self._slots.remove(slot)
        self.save()

    def change_passphrase(self, username: str, master_key: bytes, new_passphrase: str) -> None:
        """Rewrap a user's slot under a new passphrase (and today's default cost)."""
        self._require_own_key(master_key)
        slot = self._find_user(username)
        if slot is None:
            raise VrpError(f"There is no user called {username!r} in this workspace.")
        assert slot.username is not None
        _strength().require_acceptable(new_passphrase, (slot.username,))
        new_slot = self._wrap(
            USER, slot.username, new_passphrase, master_key, kdf.default_params(), slot_id=slot.id
        )
        self._slots[self._slots.index(slot)] = new_slot
        self.save()

    def replace_recovery(self, master_key: bytes) -> str:
        """A new recovery code (returned, to show once); the old code stops working."""
        self._require_own_key(master_key)
        code = new_recovery_code()
        template = next((s.kdf for s in self._slots if s.kind == RECOVERY), None)
        new_slot = self._wrap(
            RECOVERY,
            None,
            normalise_recovery_code(code),
            master_key,
            template or kdf.default_params(),
            slot_id=None,
        )
        self._slots = [s for s in self._slots if s.kind != RECOVERY] + [new_slot]
        self.save()
        return code

    def needs_refresh(self, slot: KeySlot) -> bool:
        """True for a slot to re-make at its next unlock: legacy, or weaker than the floor."""
        return slot.legacy or (kdf.floor_enforced() and kdf.is_weak(slot.kdf))

    def slots(self) -> list[KeySlot]:
        return list(self._slots)

    def rekeyed(self, old_key: bytes, new_key: bytes, *, drop: tuple[str, ...] = ()) -> KeySlotFile:
        """A copy without ``drop``'s slots and with ``new_key`` sealed to every other slot.

        Needs no passphrase: sealing uses each slot's public key. A legacy (version 1) slot
        cannot be re-sealed, so it is refused with the names of those who must sign in once.
        """
        self._require_own_key(old_key)
        _require_master_key(new_key)
        dropped = {_fold(name) for name in drop}
        kept = [s for s in self._slots if s.username is None or _fold(s.username) not in dropped]
        if not any(s.kind == USER for s in kept):
            raise VrpError("The last user of a workspace cannot be removed. Add another first.")
        legacy = [s.username or "the recovery code" for s in kept if s.legacy]
        if legacy:
            raise VrpError(
                "The workspace key cannot be changed yet: the key slot of "
                f"{', '.join(legacy)} is in an older format. Each of them signs in once (a new "
                "recovery code replaces an old one), then try again. Nothing was changed."
            )
        new = KeySlotFile(self.path, self.workspace_id, [], _key_check(new_key, self.workspace_id))
        for slot in kept:
            assert slot.public_key is not None
            aad = new._aad(slot.id, slot.kind, slot.username, VERSION)
            new._slots.append(
                dataclasses.replace(slot, sealed=_seal(slot.public_key, new_key, aad))
            )
        return new

    def write_pending(self, path: Path, new_key: bytes, previous_key: bytes) -> None:
        """Save this (re-keyed) file to ``path`` with the key it replaces, sealed under the new
        one, so an interrupted re-key can be finished from it (``load_pending``)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._require_own_key(new_key)
        data = self._to_json()
        nonce = secrets.token_bytes(NONCE_BYTES)
        data["previous_key"] = {
            "nonce": _b64(nonce),
            "ciphertext": _b64(AESGCM(new_key).encrypt(nonce, previous_key, _PREVIOUS_AAD)),
        }
        atomic_write_bytes(Path(path), json.dumps(data, indent=2).encode("utf-8") + b"\n")

    @staticmethod
    def previous_key(pending_bytes: bytes, new_key: bytes, path: Path) -> bytes:
        """The key a pending re-key replaces, opened with the new key (``pending_bytes`` are the
        pending file as read before it was unlocked: an unlock may rewrite the file)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = json.loads(pending_bytes)["previous_key"]
            nonce = _unb64(raw["nonce"], "previous key nonce", NONCE_BYTES)
            box = _unb64(raw["ciphertext"], "previous key", MASTER_KEY_BYTES + 16)
            return AESGCM(new_key).decrypt(nonce, box, _PREVIOUS_AAD)
        except (OSError, ValueError, KeyError, TypeError, _Shape, InvalidTag):
            raise WorkspaceError(
                f"The unfinished key change in {path} is damaged. Restore the workspace from "
                "a backup."
            ) from None

    def save(self) -> None:
        """Write the file atomically (temp file, fsync, rename), readable by its owner only."""
        data = json.dumps(self._to_json(), indent=2).encode("utf-8") + b"\n"
        atomic_write_bytes(self.path, data, mode=0o600)
        if os.name == "posix":
            os.chmod(self.path, 0o600)

    # ----- internals ------------------------------------------------------------------------

    def _find_user(self, name: str) -> KeySlot | None:
        wanted = _fold(name)
        for slot in self._slots:
            if slot.kind == USER and slot.username is not None and _fold(slot.username) == wanted:
                return slot
        return None

    def _refresh(self, slot: KeySlot, secret: str, key: bytes) -> None:
        """Re-make a legacy or weak slot now that its secret is known (same id, today's cost)."""
        if not self.needs_refresh(slot):
            return
        params = kdf.default_params()
        if not kdf.floor_enforced() and not kdf.is_weak(slot.kdf):
            params = slot.kdf  # only the format changes; keep the slot's cost
        new_slot = self._wrap(slot.kind, slot.username, secret, key, params, slot_id=slot.id)
        self._slots[self._slots.index(slot)] = new_slot
        try:
            self.save()
        except OSError as exc:
            self._slots[self._slots.index(new_slot)] = slot
            if slot.legacy and not kdf.is_weak(slot.kdf):
                return  # an older format is still safe to use; it is re-made next time
            raise WorkspaceError(
                f"This key slot is protected more weakly than VRP Desktop now requires, and it "
                f"could not be strengthened because {self.path} could not be written "
                f"({exc.strerror or exc}). Make the workspace folder writable and sign in again."
            ) from None

    def _require_own_key(self, master_key: bytes) -> None:
        _require_master_key(master_key)
        if not self.verify_master_key(master_key):
            raise VrpError(
                "That key does not belong to this workspace, so no key slot was changed. "
                "Sign in to this workspace again and retry."
            )

    def _aad(
        self, slot_id: str, kind: str, username: str | None, version: int = LEGACY_VERSION
    ) -> bytes:
        bound = {
            "format": FORMAT,
            "version": version,
            "workspace_id": self.workspace_id,
            "slot_id": slot_id,
            "kind": kind,
            "username": username,
        }
        return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def _wrap(
        self,
        kind: str,
        username: str | None,
        secret: str,
        master_key: bytes,
        params: KdfParams,
        *,
        slot_id: str | None,
    ) -> KeySlot:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        params = kdf.with_new_salt(params)
        slot_id = slot_id or uuid7()
        nonce = secrets.token_bytes(NONCE_BYTES)
        wrapping_key = kdf.derive(secret, params)
        aad = self._aad(slot_id, kind, username, VERSION)
        private = X25519PrivateKey.generate()
        public_key = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        private_bytes = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        ciphertext = AESGCM(wrapping_key).encrypt(nonce, private_bytes, aad)
        return KeySlot(
            id=slot_id,
            kind=kind,
            username=username,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            kdf=params,
            nonce=nonce,
            ciphertext=ciphertext,
            public_key=public_key,
            sealed=_seal(public_key, master_key, aad),
        )

    def _unwrap(self, slot: KeySlot, secret: str) -> bytes | None:
        """The master key from one slot, or None when the secret (or the slot) is wrong."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        wrapping_key = kdf.derive(secret, slot.kdf)
        version = LEGACY_VERSION if slot.legacy else VERSION
        aad = self._aad(slot.id, slot.kind, slot.username, version)
        try:
            opened = AESGCM(wrapping_key).decrypt(slot.nonce, slot.ciphertext, aad)
        except InvalidTag:
            return None
        if slot.legacy:
            key = opened
        else:
            assert slot.public_key is not None and slot.sealed is not None
            try:
                key = _unseal(opened, slot.public_key, slot.sealed, aad)
            except (InvalidTag, ValueError):
                raise WorkspaceError(
                    f"The key file {self.path} is damaged: a slot opened but its sealed key "
                    f"does not. {_RESTORE}."
                ) from None
        if not self.verify_master_key(key):
            raise WorkspaceError(
                f"The key file {self.path} does not agree with itself (a slot opened but its key "
                f"does not match the workspace's key check). {_RESTORE}."
            )
        return key

    def _to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "workspace_id": self.workspace_id,
            "key_check": _b64(self._key_check),
            "slots": [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "username": s.username,
                    "created_at": s.created_at,
                    "kdf": {
                        "algorithm": s.kdf.algorithm,
                        "time_cost": s.kdf.time_cost,
                        "memory_kib": s.kdf.memory_kib,
                        "parallelism": s.kdf.parallelism,
                        "salt": _b64(s.kdf.salt),
                    },
                    "nonce": _b64(s.nonce),
                    "ciphertext": _b64(s.ciphertext),
                    **(
                        {}
                        if s.public_key is None or s.sealed is None
                        else {"public_key": _b64(s.public_key), "sealed": _b64(s.sealed)}
                    ),
                }
                for s in self._slots
            ],
        }

    @classmethod
    def _from_json(cls, path: Path, data: Any) -> KeySlotFile:
        if not isinstance(data, dict):
            raise _Shape("the top level is not an object")
        if data.get("format") != FORMAT:
            raise _Shape(f"'format' is not {FORMAT!r}")
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            raise WorkspaceError(
                f"The key file {path} was written by a newer version of VRP Desktop (format "
                f"version {version}). Update VRP Desktop to open this workspace."
            )
        if version not in (LEGACY_VERSION, VERSION) or isinstance(version, bool):
            raise _Shape(f"'version' is not {VERSION}")
        workspace_id = data.get("workspace_id")
        if not isinstance(workspace_id, str) or not workspace_id:
            raise _Shape("'workspace_id' is missing")
        key_check = _unb64(data.get("key_check"), "key_check", 32)
        raw_slots = data.get("slots")
        if not isinstance(raw_slots, list) or not raw_slots:
            raise _Shape("'slots' is missing or empty")
        slots = [_slot_from_json(i, raw) for i, raw in enumerate(raw_slots)]
        if version == LEGACY_VERSION and any(not s.legacy for s in slots):
            raise _Shape("a version 1 file holds a sealed slot")
        ids = [s.id for s in slots]
        if len(set(ids)) != len(ids):
            raise _Shape("two slots share an id")
        names = [_fold(s.username) for s in slots if s.username is not None]
        if len(set(names)) != len(names):
            raise _Shape("two slots share a username")
        if sum(s.kind == RECOVERY for s in slots) > 1:
            raise _Shape("there is more than one recovery slot")
        return cls(path, workspace_id, slots, key_check)


class _Shape(Exception):
    """The JSON parsed but is not shaped like a key file; the message says where."""


def _slot_from_json(index: int, raw: Any) -> KeySlot:
    where = f"slot {index + 1}"
    if not isinstance(raw, dict):
        raise _Shape(f"{where} is not an object")
    slot_id, kind, username, created_at = (
        raw.get("id"),
        raw.get("kind"),
        raw.get("username"),
        raw.get("created_at"),
    )
    if not isinstance(slot_id, str) or not slot_id:
        raise _Shape(f"{where} has no id")
    if kind not in (USER, RECOVERY):
        raise _Shape(f"{where} has an unknown kind")
    if kind == USER and (not isinstance(username, str) or not username):
        raise _Shape(f"{where} is a user slot without a username")
    if kind == RECOVERY and username is not None:
        raise _Shape(f"{where} is a recovery slot with a username")
    if not isinstance(created_at, str):
        raise _Shape(f"{where} has no created_at")
    raw_kdf = raw.get("kdf")
    if not isinstance(raw_kdf, dict):
        raise _Shape(f"{where} has no kdf parameters")
    try:
        params = KdfParams(
            algorithm=raw_kdf.get("algorithm"),
            time_cost=raw_kdf.get("time_cost"),
            memory_kib=raw_kdf.get("memory_kib"),
            parallelism=raw_kdf.get("parallelism"),
            salt=_unb64(raw_kdf.get("salt"), f"{where} salt", kdf.SALT_BYTES),
        )
    except ValueError as exc:
        raise _Shape(f"{where}: {exc}") from None
    public_key = sealed = None
    if "public_key" in raw or "sealed" in raw:
        public_key = _unb64(raw.get("public_key"), f"{where} public key", _PUBLIC_BYTES)
        sealed = _unb64(raw.get("sealed"), f"{where} sealed key", _SEALED_BYTES)
    return KeySlot(
        id=slot_id,
        kind=kind,
        username=username,
        created_at=created_at,
        kdf=params,
        nonce=_unb64(raw.get("nonce"), f"{where} nonce", NONCE_BYTES),
        ciphertext=_unb64(raw.get("ciphertext"), f"{where} ciphertext", MASTER_KEY_BYTES + 16),
        public_key=public_key,
        sealed=sealed,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise _Shape(f"{what} is missing")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Shape(f"{what} is not valid base64") from None
    if len(data) != length:
        raise _Shape(f"{what} has the wrong length")
    return data


_PREVIOUS_AAD = b"vrp-desktop previous master key"


def _seal_key(shared: bytes, ephemeral: bytes, public_key: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + public_key,
        info=b"vrp-desktop keyslot seal",
    ).derive(shared)


def _seal(public_key: bytes, master_key: bytes, aad: bytes) -> bytes:
    """``master_key`` sealed to ``public_key``: ephemeral public key, nonce, ciphertext."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = secrets.token_bytes(NONCE_BYTES)
    box = AESGCM(_seal_key(shared, ephemeral_public, public_key)).encrypt(nonce, master_key, aad)
    return ephemeral_public + nonce + box


def _unseal(private_bytes: bytes, public_key: bytes, sealed: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    private = X25519PrivateKey.from_private_bytes(private_bytes)
    ephemeral_public = sealed[:_PUBLIC_BYTES]
    nonce = sealed[_PUBLIC_BYTES : _PUBLIC_BYTES + NONCE_BYTES]
    box = sealed[_PUBLIC_BYTES + NONCE_BYTES :]
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    return AESGCM(_seal_key(shared, ephemeral_public, public_key)).decrypt(nonce, box, aad)


def _key_check(master_key: bytes, workspace_id: str) -> bytes:
    message = b"vrp-desktop key check\x00" + workspace_id.encode("utf-8")
    return hmac.new(master_key, message, hashlib.sha256).digest()


def _require_master_key(master_key: bytes) -> None:
    if not isinstance(master_key, bytes) or len(master_key) != MASTER_KEY_BYTES:
        raise ValueError(f"master_key must be {MASTER_KEY_BYTES} bytes")


def _fold(name: str) -> str:
    """Comparison form of a username: NFKC, case-folded, outer spaces ignored."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _clean_username(name: str) -> str:
    """A username as given (outer spaces trimmed), or VrpError saying what to change."""
    if not isinstance(name, str) or not name.strip():
        raise VrpError("Enter a username.")
    name = name.strip()
    if len(name) > MAX_USERNAME:
        raise VrpError(f"Usernames can be at most {MAX_USERNAME} characters; choose a shorter one.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise VrpError("Usernames cannot contain control or invisible characters.")
    return name


def _strength():
    """The passphrase checker, loaded when a passphrase is set (its word lists cost start-up
    time, and the unlock screen reads the key slot file before it paints)."""
    from vrp_desktop.crypto import strength

    return strength
