"""'Remember me' through keyring, with a real in-memory backend and with keyring's fail backend."""

from __future__ import annotations

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from vrp_desktop.crypto import remember
from vrp_desktop.crypto.keyslots import new_master_key
from vrp_desktop.errors import VrpError


class MemoryKeyring(KeyringBackend):
    """A working keychain that lives in a dict (priority below zero: never auto-selected)."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


class LockedKeyring(MemoryKeyring):
    """A keychain that is present but refuses to store (e.g. the user cancelled unlocking)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


class EmptyChainer(chainer.ChainerBackend):
    """keyring's chainer on a machine with no real backends."""

    priority = -1
    backends = ()


class MemoryChainer(chainer.ChainerBackend):
    priority = -1
    backends = (MemoryKeyring(),)


@pytest.fixture
def use_backend():
    previous = keyring.get_keyring()

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


def test_round_trip_with_a_working_keychain(use_backend):
    backend = use_backend(MemoryKeyring())
    usable, reason = remember.availability()
    assert usable and "MemoryKeyring" in reason
    key = new_master_key()
    assert remember.recall("ws-1", "Alice") is None
    remember.remember("ws-1", "Alice", key)
    assert remember.recall("ws-1", "alice") == key
    assert remember.recall("ws-2", "alice") is None
    assert remember.recall("ws-1", "bob") is None
    ((service, _),) = backend.entries
    assert service == "vrp-desktop"
    remember.forget("ws-1", "ALICE")
    assert remember.recall("ws-1", "Alice") is None
    remember.forget("ws-1", "Alice")  # nothing left: quietly fine


def test_a_damaged_entry_is_not_a_key(use_backend):
    backend = use_backend(MemoryKeyring())
    backend.set_password("vrp-desktop", "ws-1:alice", "not base64!")
    assert remember.recall("ws-1", "alice") is None
    backend.set_password("vrp-desktop", "ws-1:alice", "AAAA")
    assert remember.recall("ws-1", "alice") is None


def test_fail_backend_is_unavailable_with_a_reason(use_backend):
    use_backend(fail.Keyring())
    usable, reason = remember.availability()
    assert not usable
    assert "No system keychain" in reason and "passphrase" in reason
    with pytest.raises(VrpError) as err:
        remember.remember("ws-1", "alice", new_master_key())
    assert str(err.value) == reason
    assert remember.recall("ws-1", "alice") is None
    remember.forget("ws-1", "alice")


@pytest.mark.parametrize("backend", [null.Keyring(), EmptyChainer()])
def test_null_and_empty_chainer_are_unavailable(use_backend, backend):
    use_backend(backend)
    usable, reason = remember.availability()
    assert not usable and reason


def test_chainer_with_a_real_backend_is_available(use_backend):
    use_backend(MemoryChainer())
    usable, _ = remember.availability()
    assert usable
    key = new_master_key()
    remember.remember("ws-1", "alice", key)
    assert remember.recall("ws-1", "alice") == key


def test_availability_never_raises(use_backend, monkeypatch):
    def broken():
        raise RuntimeError("dbus went away")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    usable, reason = remember.availability()
    assert not usable and "could not be opened" in reason


def test_a_refusing_keychain_becomes_a_vrp_error(use_backend):
    use_backend(LockedKeyring())
    with pytest.raises(VrpError, match="refused to store"):
        remember.remember("ws-1", "alice", new_master_key())


def test_only_whole_keys_are_remembered(use_backend):
    use_backend(MemoryKeyring())
    with pytest.raises(ValueError):
        remember.remember("ws-1", "alice", b"short")
