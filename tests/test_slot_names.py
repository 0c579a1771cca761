"""The unlock screen's quick reader of user names agrees with the key-slot file's own reader,
and leaves anything unusual to it (so a damaged file is explained the same way)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vrp_desktop.crypto import keyslots, slot_names
from vrp_desktop.crypto.keyslots import FILE_NAME, KeySlotFile, new_master_key
from vrp_desktop.errors import WorkspaceError


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VRP_FAST_KDF", "1")
    monkeypatch.setenv("VRP_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    key = new_master_key()
    where = tmp_path / "ws" / FILE_NAME
    slots, _code = KeySlotFile.create(
        where, workspace_id="ws-1", master_key=key, username="Zoë", passphrase="maple river candle"
    )
    slots.add_user(key, "bob", "orbit velvet hammock crane")
    return where


def test_names_match_the_full_reader_in_slot_order(path):
    assert slot_names.usernames(path) == KeySlotFile.load(path).usernames() == ["Zoë", "bob"]


def test_constants_are_in_step_with_keyslots():
    assert slot_names.FORMAT == keyslots.FORMAT
    assert slot_names.VERSIONS == (keyslots.LEGACY_VERSION, keyslots.VERSION)
    assert slot_names.MAX_FILE_BYTES == keyslots._MAX_FILE_BYTES


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"{not json"),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "format": "other"})),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "version": 9})),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "slots": []})),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "slots": ["x"]})),
        lambda p: p.unlink(),
    ],
    ids=["not-json", "format", "newer-version", "no-slots", "slot-shape", "missing"],
)
def test_anything_unusual_is_explained_by_the_full_reader(path, damage):
    damage(path)
    with pytest.raises(WorkspaceError) as full:
        KeySlotFile.load(path)
    with pytest.raises(WorkspaceError) as quick:
        slot_names.usernames(path)
    assert str(quick.value) == str(full.value)


def test_reading_names_loads_no_key_slot_machinery(path):
    code = (
        "import sys; from vrp_desktop.crypto import slot_names; "
        f"print(slot_names.usernames({str(path)!r})); "
        "print('vrp_desktop.crypto.keyslots' in sys.modules, 'dataclasses' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['Zoë', 'bob']", "False False"]
