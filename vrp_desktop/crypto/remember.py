"""'Remember me on this device': the unwrapped master key kept in the OS keychain, if there is one.

An option, never a requirement. Where no usable keychain exists (headless Linux, CI, a keyring
library with only its fail or null backend) the option is off and ``availability()`` says why;
the passphrase works as always. A backend that would store secrets in a plain file is treated as
no keychain at all.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from vrp_desktop.errors import VrpError

SERVICE = "vrp-desktop"
KEY_BYTES = 32

NO_KEYCHAIN = (
    "No system keychain is available on this computer, so VRP Desktop cannot remember you here. "
    "Sign in with your passphrase each time."
)


def availability() -> tuple[bool, str]:
    """(True, where keys go) when a keychain can hold the key, else (False, why not).

    Never raises: a broken keyring set-up just means "not available".
    """
    try:
        backend = _effective_backend(keyring.get_keyring())
    except Exception as exc:
        return False, f"{NO_KEYCHAIN} (The keychain could not be opened: {type(exc).__name__}.)"
    if backend is None:
        return False, NO_KEYCHAIN
    if _is_plaintext(backend):
        return False, (
            "The only keychain found stores secrets in an unencrypted file, so VRP Desktop will "
            "not remember you on this computer. Sign in with your passphrase each time."
        )
    return True, _describe(backend)


def remember(workspace_id: str, username: str, master_key: bytes) -> None:
    """Keep ``master_key`` in the keychain for this workspace and user, or VrpError saying why."""
    if not isinstance(master_key, bytes) or len(master_key) != KEY_BYTES:
        raise ValueError(f"master_key must be {KEY_BYTES} bytes")
    usable, reason = availability()
    if not usable:
        raise VrpError(reason)
    secret = base64.b64encode(master_key).decode("ascii")
    try:
        keyring.set_password(SERVICE, _entry_name(workspace_id, username), secret)
    except keyring.errors.KeyringError as exc:
        raise VrpError(
            f"The system keychain refused to store the key ({type(exc).__name__}), so you will "
            "not be remembered on this computer. Your passphrase still works."
        ) from None


def recall(workspace_id: str, username: str) -> bytes | None:
    """The remembered key, or None (nothing remembered, no keychain, or an unusable entry).

    Callers check it with ``KeySlotFile.verify_master_key`` before use: a workspace restored
    from elsewhere may have a different key than the one remembered.
    """
    if not availability()[0]:
        return None
    try:
        secret = keyring.get_password(SERVICE, _entry_name(workspace_id, username))
    except keyring.errors.KeyringError:
        return None
    if not secret:
        return None
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def forget(workspace_id: str, username: str) -> None:
    """Remove the remembered key, if any; quietly does nothing where there is nothing to remove."""
    if not availability()[0]:
        return
    try:
        keyring.delete_password(SERVICE, _entry_name(workspace_id, username))
    except keyring.errors.PasswordDeleteError:
        return
    except keyring.errors.KeyringError as exc:
        raise VrpError(
            f"The system keychain could not remove the remembered key ({type(exc).__name__}). "
            "Remove the 'vrp-desktop' entry in your keychain app."
        ) from None


def _entry_name(workspace_id: str, username: str) -> str:
    """One entry per workspace and user; the user part ignores case, as sign-in does."""
    folded = unicodedata.normalize("NFKC", username).strip().casefold()
    return f"{workspace_id}:{folded}"


def _effective_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """The backend that would really store the key, or None when there is none."""
    if isinstance(backend, chainer.ChainerBackend):
        chained = [b for b in backend.backends if not isinstance(b, fail.Keyring | null.Keyring)]
        return chained[0] if chained else None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    return backend


def _is_plaintext(backend: KeyringBackend) -> bool:
    kind = type(backend)
    return kind.__module__.startswith("keyrings.alt") and "Plaintext" in kind.__name__


def _describe(backend: KeyringBackend) -> str:
    name = getattr(backend, "name", None) or type(backend).__name__
    return f"Remembered keys are kept in the system keychain ({name})."
