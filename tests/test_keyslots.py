"""Key slots with real Argon2id and AES-GCM (cheap parameters via VRP_FAST_KDF)."""

from __future__ import annotations

import base64
import json
import os
import unicodedata
from pathlib import Path

import pytest

from vrp_desktop.crypto import kdf
from vrp_desktop.crypto.keyslots import FILE_NAME, KeySlotFile, new_master_key
from vrp_desktop.crypto.recovery import (
    looks_like_recovery_code,
    new_recovery_code,
    normalise_recovery_code,
)
from vrp_desktop.errors import VrpError, WorkspaceError, WrongPassphrase

ALICE_PASS = "maple river candle tuesday"
BOB_PASS = "orbit velvet hammock crane"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VRP_FAST_KDF", "1")
    monkeypatch.setenv("VRP_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def key() -> bytes:
    return new_master_key()


@pytest.fixture
def made(tmp_path: Path, key: bytes) -> tuple[KeySlotFile, str]:
    path = tmp_path / "ws" / FILE_NAME
    return KeySlotFile.create(
        path, workspace_id="ws-1", master_key=key, username="Alice", passphrase=ALICE_PASS
    )


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# ----- create and unlock ---------------------------------------------------------------------


def test_create_then_unlock_from_a_fresh_load(made, key):
    slots, code = made
    loaded = KeySlotFile.load(slots.path)
    assert loaded.workspace_id == "ws-1"
    assert loaded.usernames() == ["Alice"]
    assert loaded.has_user("alice") and loaded.has_user(" ALICE ")
    assert loaded.unlock("alice", ALICE_PASS) == key
    assert loaded.unlock_with_recovery(code) == key
    assert loaded.has_recovery()
    assert loaded.verify_master_key(key)
    assert not loaded.verify_master_key(new_master_key())


def test_master_key_is_32_random_bytes():
    a, b = new_master_key(), new_master_key()
    assert len(a) == 32 and a != b


def test_file_is_private_and_holds_nothing_unwrapped(made, key):
    slots, code = made
    raw = slots.path.read_bytes()
    if os.name == "posix":
        assert slots.path.stat().st_mode & 0o777 == 0o600
    for secret in (
        key,
        key.hex().encode(),
        base64.b64encode(key),
        ALICE_PASS.encode(),
        code.encode(),
        normalise_recovery_code(code).encode(),
    ):
        assert secret not in raw
    data = json.loads(raw)
    assert data["version"] == 2 and data["workspace_id"] == "ws-1"
    kinds = [(s["kind"], s["username"]) for s in data["slots"]]
    assert kinds == [("user", "Alice"), ("recovery", None)]
    for slot in data["slots"]:
        assert set(slot) == {
            *("id", "kind", "username", "created_at", "kdf", "nonce", "ciphertext"),
            *("public_key", "sealed"),
        }
        assert slot["kdf"]["algorithm"] == "argon2id"
        assert len(base64.b64decode(slot["kdf"]["salt"])) == 16
    salts = {s["kdf"]["salt"] for s in data["slots"]}
    assert len(salts) == 2


def test_create_refuses_to_overwrite(made, key):
    slots, _ = made
    with pytest.raises(WorkspaceError, match="already exists"):
        KeySlotFile.create(
            slots.path, workspace_id="ws-2", master_key=key, username="Eve", passphrase=BOB_PASS
        )


def test_create_rejects_a_weak_passphrase(tmp_path, key):
    path = tmp_path / FILE_NAME
    with pytest.raises(VrpError, match="too weak"):
        KeySlotFile.create(
            path, workspace_id="ws", master_key=key, username="Alice", passphrase="short"
        )
    with pytest.raises(VrpError, match="common"):
        KeySlotFile.create(
            path, workspace_id="ws", master_key=key, username="Alice", passphrase="Password123!"
        )
    assert not path.exists()


def test_passphrase_is_nfkc_normalised(tmp_path, key):
    composed = "café crème brûlée tuesday"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    slots, _ = KeySlotFile.create(
        tmp_path / FILE_NAME, workspace_id="ws", master_key=key, username="A", passphrase=composed
    )
    assert slots.unlock("a", decomposed) == key


# ----- wrong passphrase ----------------------------------------------------------------------


def test_wrong_passphrase_and_unknown_user_look_the_same_and_change_nothing(made):
    slots, _ = made
    before = snapshot(slots.path)
    loaded = KeySlotFile.load(slots.path)
    with pytest.raises(WrongPassphrase) as wrong:
        loaded.unlock("alice", "not the passphrase at all")
    with pytest.raises(WrongPassphrase) as unknown:
        loaded.unlock("mallory", "not the passphrase at all")
    assert type(wrong.value) is type(unknown.value)
    assert str(wrong.value).replace("'alice'", "X") == str(unknown.value).replace("'mallory'", "X")
    assert "Caps Lock" in str(wrong.value)
    assert "not the passphrase" not in str(wrong.value)
    assert snapshot(slots.path) == before
    assert sorted(p.name for p in slots.path.parent.iterdir()) == [FILE_NAME]


# ----- recovery ------------------------------------------------------------------------------


def test_recovery_code_shape():
    code = new_recovery_code()
    groups = code.split("-")
    assert len(groups) == 7 and all(len(g) == 4 for g in groups)
    assert looks_like_recovery_code(code)
    assert len(normalise_recovery_code(code)) * 5 >= 128
    assert new_recovery_code() != code
    assert normalise_recovery_code(" ab-cd oil ") == "ABCD011"
    assert not looks_like_recovery_code("hello")
    assert not looks_like_recovery_code(code[:-1] + "U")


def test_recovery_code_accepts_messy_input(made, key):
    slots, code = made
    messy = "  " + " ".join(code.lower().split("-")) + "\n"
    assert slots.unlock_with_recovery(messy) == key
    lookalikes = code.replace("0", "o").replace("1", "l")
    assert slots.unlock_with_recovery(lookalikes) == key


def test_wrong_or_malformed_recovery_code(made):
    slots, _ = made
    before = snapshot(slots.path)
    with pytest.raises(WrongPassphrase, match="does not open this workspace"):
        slots.unlock_with_recovery(new_recovery_code())
    with pytest.raises(WrongPassphrase, match="does not look like a recovery code"):
        slots.unlock_with_recovery("ALICE-PASSWORD")
    assert snapshot(slots.path) == before


def test_replace_recovery_invalidates_the_old_code(made, key):
    slots, old = made
    new = slots.replace_recovery(key)
    assert new != old
    loaded = KeySlotFile.load(slots.path)
    assert loaded.unlock_with_recovery(new) == key
    with pytest.raises(WrongPassphrase):
        loaded.unlock_with_recovery(old)
    kinds = [s["kind"] for s in json.loads(slots.path.read_text())["slots"]]
    assert kinds.count("recovery") == 1


# ----- users ---------------------------------------------------------------------------------


def test_add_remove_and_change_passphrase(made, key):
    slots, code = made
    slots.add_user(key, "Bob", BOB_PASS)
    loaded = KeySlotFile.load(slots.path)
    assert loaded.usernames() == ["Alice", "Bob"]
    assert loaded.unlock("BOB", BOB_PASS) == key
    with pytest.raises(WrongPassphrase):
        loaded.unlock("bob", ALICE_PASS)

    loaded.change_passphrase("bob", key, "lantern pebble sextant marmalade")
    reloaded = KeySlotFile.load(slots.path)
    assert reloaded.unlock("Bob", "lantern pebble sextant marmalade") == key
    with pytest.raises(WrongPassphrase):
        reloaded.unlock("Bob", BOB_PASS)
    assert reloaded.unlock("Alice", ALICE_PASS) == key

    reloaded.remove_user("alice")
    final = KeySlotFile.load(slots.path)
    assert final.usernames() == ["Bob"]
    with pytest.raises(WrongPassphrase):
        final.unlock("Alice", ALICE_PASS)
    assert final.unlock_with_recovery(code) == key


def test_duplicate_user_refused_case_insensitively(made, key):
    slots, _ = made
    with pytest.raises(VrpError, match="already a user"):
        slots.add_user(key, "ALICE", BOB_PASS)


def test_removing_the_last_user_is_refused(made):
    slots, _ = made
    before = snapshot(slots.path)
    with pytest.raises(VrpError, match="only user"):
        slots.remove_user("Alice")
    with pytest.raises(VrpError, match="no user"):
        slots.remove_user("nobody")
    assert snapshot(slots.path) == before


def test_weak_passphrases_refused_for_new_and_changed_slots(made, key):
    slots, _ = made
    with pytest.raises(VrpError, match="too weak"):
        slots.add_user(key, "Bob", "bob")
    with pytest.raises(VrpError, match="too weak"):
        slots.change_passphrase("Alice", key, "aaaaaaaaaaaaaaa")
    assert slots.usernames() == ["Alice"]


def test_changes_need_this_workspaces_key(made):
    slots, _ = made
    before = snapshot(slots.path)
    stranger = new_master_key()
    with pytest.raises(VrpError, match="does not belong"):
        slots.add_user(stranger, "Bob", BOB_PASS)
    with pytest.raises(VrpError, match="does not belong"):
        slots.change_passphrase("Alice", stranger, BOB_PASS)
    with pytest.raises(VrpError, match="does not belong"):
        slots.replace_recovery(stranger)
    assert snapshot(slots.path) == before


def test_bad_usernames(made, key):
    slots, _ = made
    with pytest.raises(VrpError, match="Enter a username"):
        slots.add_user(key, "   ", BOB_PASS)
    with pytest.raises(VrpError, match="control"):
        slots.add_user(key, "bob\x00", BOB_PASS)
    with pytest.raises(VrpError, match="at most"):
        slots.add_user(key, "b" * 65, BOB_PASS)


# ----- tampering -----------------------------------------------------------------------------


def test_edited_ciphertext_refuses_to_unlock(made):
    slots, _ = made

    def flip(data):
        raw = bytearray(base64.b64decode(data["slots"][0]["ciphertext"]))
        raw[0] ^= 1
        data["slots"][0]["ciphertext"] = base64.b64encode(bytes(raw)).decode()

    edit(slots.path, flip)
    with pytest.raises(WrongPassphrase):
        KeySlotFile.load(slots.path).unlock("Alice", ALICE_PASS)


def test_swapped_usernames_refuse_to_unlock(made, key):
    slots, _ = made
    slots.add_user(key, "Bob", BOB_PASS)

    def swap(data):
        a, b = data["slots"][0], data["slots"][2]
        a["username"], b["username"] = b["username"], a["username"]

    edit(slots.path, swap)
    tampered = KeySlotFile.load(slots.path)
    for user, passphrase in (("Alice", ALICE_PASS), ("Bob", BOB_PASS)):
        with pytest.raises(WrongPassphrase):
            tampered.unlock(user, passphrase)
    # Bob's passphrase on the slot now labelled "Alice" fails too: the label is bound.
    with pytest.raises(WrongPassphrase):
        tampered.unlock("Alice", BOB_PASS)


def test_changed_workspace_id_refuses_to_unlock(made):
    slots, code = made
    edit(slots.path, lambda data: data.update(workspace_id="ws-other"))
    tampered = KeySlotFile.load(slots.path)
    with pytest.raises(WrongPassphrase):
        tampered.unlock("Alice", ALICE_PASS)
    with pytest.raises(WrongPassphrase):
        tampered.unlock_with_recovery(code)


def test_user_slot_relabelled_as_recovery_refuses(made):
    slots, _ = made

    def relabel(data):
        data["slots"] = [data["slots"][0]]
        data["slots"][0].update(kind="recovery", username=None)

    edit(slots.path, relabel)
    with pytest.raises(WrongPassphrase):
        KeySlotFile.load(slots.path).unlock_with_recovery(new_recovery_code())


def test_edited_key_check_is_reported_as_damage(made):
    slots, _ = made
    edit(slots.path, lambda d: d.update(key_check=base64.b64encode(b"\0" * 32).decode()))
    with pytest.raises(WorkspaceError, match="does not agree with itself"):
        KeySlotFile.load(slots.path).unlock("Alice", ALICE_PASS)


# ----- damaged files -------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(WorkspaceError, match="missing") as err:
        KeySlotFile.load(tmp_path / FILE_NAME)
    assert "backup" in str(err.value)


def test_unreadable_file(tmp_path):
    (tmp_path / FILE_NAME).mkdir()  # a folder where the file should be: cannot be read
    with pytest.raises(WorkspaceError, match="could not be read") as err:
        KeySlotFile.load(tmp_path / FILE_NAME)
    assert "backup" in str(err.value)


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00", b"[1, 2"])
def test_non_json_file(tmp_path, content):
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    with pytest.raises(WorkspaceError, match="not valid JSON") as err:
        KeySlotFile.load(path)
    assert "Restore keyslots.json from a backup" in str(err.value)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda d: d.clear(), "format"),
        (lambda d: d.update(version="1"), "version"),
        (lambda d: d.pop("workspace_id"), "workspace_id"),
        (lambda d: d.update(slots=[]), "slots"),
        (lambda d: d.update(slots={"a": 1}), "slots"),
        (lambda d: d["slots"][0].update(kind="admin"), "kind"),
        (lambda d: d["slots"][0].update(username=None), "without a username"),
        (lambda d: d["slots"][1].update(username="x"), "recovery slot with a username"),
        (lambda d: d["slots"][0].update(nonce="@@@"), "base64"),
        (lambda d: d["slots"][0].update(ciphertext="AAAA"), "wrong length"),
        (lambda d: d["slots"][0]["kdf"].update(algorithm="scrypt"), "algorithm"),
        (lambda d: d["slots"][0]["kdf"].update(memory_kib=2**40), "memory_kib"),
        (lambda d: d["slots"][0]["kdf"].pop("salt"), "salt"),
        (lambda d: d["slots"][1].update(id=d["slots"][0]["id"]), "share an id"),
    ],
)
def test_wrong_shape_file(made, change, detail):
    slots, _ = made
    edit(slots.path, change)
    with pytest.raises(WorkspaceError, match="damaged") as err:
        KeySlotFile.load(slots.path)
    assert detail in str(err.value)
    assert "backup" in str(err.value)


def test_top_level_not_an_object(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_text("[]")
    with pytest.raises(WorkspaceError, match="not an object"):
        KeySlotFile.load(path)


def test_newer_version_asks_for_an_update(made):
    slots, _ = made
    edit(slots.path, lambda d: d.update(version=3))
    with pytest.raises(WorkspaceError, match="newer version"):
        KeySlotFile.load(slots.path)


# ----- KDF profiles --------------------------------------------------------------------------


def test_kdf_profiles(monkeypatch):
    assert kdf.default_params().memory_kib == kdf.FAST["memory_kib"]
    monkeypatch.delenv("VRP_FAST_KDF")
    strong = kdf.default_params()
    assert (strong.time_cost, strong.memory_kib, strong.parallelism) == (3, 128 * 1024, 2)
    assert kdf.default_params().salt != strong.salt
    assert len(kdf.derive("x", strong)) == 32
    with pytest.raises(ValueError):
        kdf.KdfParams("argon2id", 0, 8192, 1, b"0" * 16)


def test_strong_slot_opens_with_fast_kdf_set(tmp_path, monkeypatch, key):
    monkeypatch.delenv("VRP_FAST_KDF")
    path = tmp_path / FILE_NAME
    KeySlotFile.create(
        path, workspace_id="ws", master_key=key, username="Alice", passphrase=ALICE_PASS
    )
    assert json.loads(path.read_text())["slots"][0]["kdf"]["memory_kib"] == 128 * 1024
    monkeypatch.setenv("VRP_FAST_KDF", "1")
    slots = KeySlotFile.load(path)
    assert slots.unlock("alice", ALICE_PASS) == key
    # A slot added now is cheap, and both kinds live side by side.
    slots.add_user(key, "Bob", BOB_PASS)
    monkeypatch.delenv("VRP_FAST_KDF")
    reloaded = KeySlotFile.load(path)
    assert reloaded.unlock("bob", BOB_PASS) == key
    assert reloaded.unlock("alice", ALICE_PASS) == key


# ----- the strength floor (issue 10, failure 11) ---------------------------------------------


def test_fast_kdf_is_never_honoured_in_a_frozen_bundle(monkeypatch):
    import sys

    assert kdf.default_params().memory_kib == kdf.FAST["memory_kib"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    params = kdf.default_params()
    assert (params.time_cost, params.memory_kib) == (3, 128 * 1024)
    assert kdf.floor_enforced()


def test_fast_kdf_is_never_honoured_outside_the_test_suite(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["VRP_FAST_KDF"] = "1"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from vrp_desktop.crypto import kdf; "
            "print(kdf.default_params().memory_kib, kdf.floor_enforced())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    assert out == [str(128 * 1024), "True"]


def test_a_weak_slot_is_re_made_at_the_floor_when_it_next_unlocks(made, key, monkeypatch):
    import sys

    slots, code = made
    assert kdf.is_weak(slots.slots()[0].kdf)
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as installed: the floor applies
    loaded = KeySlotFile.load(slots.path)
    assert loaded.unlock("alice", ALICE_PASS) == key
    on_disk = json.loads(slots.path.read_text())["slots"]
    assert (on_disk[0]["kdf"]["time_cost"], on_disk[0]["kdf"]["memory_kib"]) == (3, 128 * 1024)
    assert on_disk[1]["kdf"]["memory_kib"] == kdf.FAST["memory_kib"]  # not opened yet
    assert loaded.unlock_with_recovery(code) == key
    on_disk = json.loads(slots.path.read_text())["slots"]
    assert not any(
        kdf.is_weak(
            kdf.KdfParams(
                salt=b"0" * 16,
                **{k: s["kdf"][k] for k in ("algorithm", "time_cost", "memory_kib", "parallelism")},
            )
        )
        for s in on_disk
    )
    assert KeySlotFile.load(slots.path).unlock("alice", ALICE_PASS) == key


def test_a_weak_slot_that_cannot_be_strengthened_is_refused_clearly(made, key, monkeypatch):
    import sys

    slots, _ = made
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    loaded = KeySlotFile.load(slots.path)
    before = slots.path.read_bytes()

    def unwritable(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("vrp_desktop.crypto.keyslots.atomic_write_bytes", unwritable)
    with pytest.raises(WorkspaceError, match="more weakly than VRP Desktop now requires"):
        loaded.unlock("alice", ALICE_PASS)
    assert slots.path.read_bytes() == before


# ----- version 1 (legacy) files still open, and are upgraded --------------------------------


def _legacy_file(path: Path, key: bytes) -> None:
    """A version 1 key file as the first release wrote it: the master key wrapped directly."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vrp_desktop.crypto import keyslots

    shell = KeySlotFile(path, "ws-1", [], keyslots._key_check(key, "ws-1"))
    params = kdf.default_params()
    nonce = os.urandom(12)
    box = AESGCM(kdf.derive(ALICE_PASS, params)).encrypt(
        nonce, key, shell._aad("slot-1", "user", "Alice", 1)
    )
    data = {
        "format": keyslots.FORMAT,
        "version": 1,
        "workspace_id": "ws-1",
        "key_check": base64.b64encode(keyslots._key_check(key, "ws-1")).decode(),
        "slots": [
            {
                "id": "slot-1",
                "kind": "user",
                "username": "Alice",
                "created_at": "2026-01-01T00:00:00+00:00",
                "kdf": {
                    "algorithm": params.algorithm,
                    "time_cost": params.time_cost,
                    "memory_kib": params.memory_kib,
                    "parallelism": params.parallelism,
                    "salt": base64.b64encode(params.salt).decode(),
                },
                "nonce": base64.b64encode(nonce).decode(),
                "ciphertext": base64.b64encode(box).decode(),
            }
        ],
    }
    path.write_text(json.dumps(data))


def test_a_version_1_file_opens_and_its_slot_is_upgraded(tmp_path, key):
    path = tmp_path / FILE_NAME
    _legacy_file(path, key)
    slots = KeySlotFile.load(path)
    with pytest.raises(VrpError, match="older format"):
        slots.rekeyed(key, new_master_key())
    assert slots.unlock("alice", ALICE_PASS) == key
    data = json.loads(path.read_text())
    assert data["version"] == 2 and "sealed" in data["slots"][0]
    reloaded = KeySlotFile.load(path)
    assert reloaded.unlock("alice", ALICE_PASS) == key
    new_key = new_master_key()
    assert reloaded.rekeyed(key, new_key).unlock("alice", ALICE_PASS) == new_key
