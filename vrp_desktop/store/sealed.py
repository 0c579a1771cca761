"""Secrets kept in a store that is not itself encrypted (a coordinator on PostgreSQL).

A SQLCipher workspace is encrypted as a whole, so its secrets (the VRP's age identity and
signing key, the linkage key, pairing secrets) sit in ordinary columns. On a server they are
sealed first: AES-256-GCM under a key derived (HKDF-SHA256) from the workspace's master key,
which only the key slots give, with the workspace id and the setting's name as associated
data, so a sealed value cannot be moved to another setting or another workspace. The server
(and its backups, and its DBA) hold only ciphertext.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vrp_desktop.errors import WorkspaceError

PREFIX = "sealed:v1:"
#: settings that are secret: sealed on a server store
SECRET_SETTINGS = frozenset({"linkage_key", "sync.vrp_identity", "sync.vrp_signing_private"})
_INFO = b"vrp-desktop sealed values v1"
STALE_KEY = (
    "A secret in the coordinator's database does not open with your key: the workspace key "
    "was changed by another analyst since you signed in. Sign in again."
)


class Sealer:
    """Seals and opens values under one workspace's master key."""

    def __init__(self, master_key: bytes, workspace_id: str) -> None:
        self._aead = AESGCM(HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(master_key))
        self._workspace = workspace_id

    def _aad(self, name: str) -> bytes:
        return f"{self._workspace}\x00{name}".encode()

    def seal_bytes(self, name: str, value: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, value, self._aad(name))

    def open_bytes(self, name: str, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], self._aad(name))
        except (InvalidTag, ValueError):
            raise WorkspaceError(STALE_KEY) from None

    def seal(self, name: str, value: str) -> str:
        raw = self.seal_bytes(name, value.encode("utf-8"))
        return PREFIX + base64.b64encode(raw).decode("ascii")

    def open(self, name: str, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise WorkspaceError(
                f"The secret setting {name!r} is stored unsealed on the coordinator's server. "
                "Restore the database from the server's backup."
            )
        return self.open_bytes(name, base64.b64decode(stored[len(PREFIX) :])).decode("utf-8")
