"""Backups restore exactly, and a bad backup or key replaces nothing."""

from __future__ import annotations

import zipfile

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.errors import BackupError, WrongPassphrase
from vrp_desktop.services import backup, participants
from vrp_desktop.workspace import Workspace


def _fingerprint(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_backup_and_restore_round_trip(workspace, tmp_path):
    p = participants.create_participant(workspace, {"first_name": "Imani", "last_name": "Osei"})
    out = backup.backup(workspace, tmp_path / "monday.vrpbackup")
    participants.update_participant(workspace, p["id"], {"first_name": "Changed"})
    folder = workspace.folder
    workspace.close()
    backup.restore(out, folder, username="manager", passphrase=PASSPHRASE)
    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert participants.get_participant(ws, p["id"])["first_name"] == "Imani"
    # the replaced files were kept aside, not deleted
    assert list((folder / "backups").glob("replaced-*/workspace.db"))


def test_restore_into_a_new_folder_with_the_recovery_code(workspace, tmp_path):
    participants.create_participant(workspace, {"first_name": "Kai", "last_name": "Ward"})
    out = backup.backup(workspace, tmp_path / "b.vrpbackup")
    backup.restore(out, tmp_path / "new-laptop", recovery_code=workspace.recovery_code)
    with Workspace.open(tmp_path / "new-laptop", "manager", PASSPHRASE) as ws:
        assert participants.count_participants(ws) == 1


def test_backup_file_holds_no_plaintext(workspace, tmp_path):
    participants.create_participant(workspace, {"first_name": "Thaddeus", "last_name": "Prynne"})
    data = backup.backup(workspace, tmp_path / "b.vrpbackup").read_bytes()
    assert b"Thaddeus" not in data and b"SQLite format 3" not in data


@pytest.mark.parametrize("damage", ["flip", "truncate", "not_zip"])
def test_damaged_backup_is_refused_and_the_workspace_is_unchanged(workspace, tmp_path, damage):
    out = backup.backup(workspace, tmp_path / "b.vrpbackup")
    raw = bytearray(out.read_bytes())
    if damage == "flip":
        with zipfile.ZipFile(out) as zf:
            info = zf.getinfo("workspace.db")
        raw[info.header_offset + 200] ^= 0x01
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw = bytearray(b"this is a shopping list, not a backup")
    out.write_bytes(bytes(raw))
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    with pytest.raises(BackupError) as caught:
        backup.restore(out, folder, username="manager", passphrase=PASSPHRASE)
    assert "backup" in str(caught.value).lower()
    assert _fingerprint(folder) == before


def test_wrong_passphrase_for_restore_changes_nothing(workspace, tmp_path):
    out = backup.backup(workspace, tmp_path / "b.vrpbackup")
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    with pytest.raises(WrongPassphrase):
        backup.restore(out, folder, username="manager", passphrase="nope nope nope nope")
    assert _fingerprint(folder) == before


# ----- restore is a manager's job (issue 10, failure 7) ----------------------------------------

WORKER_PASS = "lantern pebble orchard violet"


def test_a_worker_cannot_restore_a_backup_over_the_workspace(workspace, tmp_path, monkeypatch):
    from vrp_desktop.cli import main
    from vrp_desktop.errors import PermissionDenied
    from vrp_desktop.services import users

    users.add_user(workspace, "wren", WORKER_PASS, role="worker")
    out = backup.backup(workspace, tmp_path / "old.vrpbackup")
    participants.create_participant(workspace, {"first_name": "Later", "last_name": "Record"})
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    with pytest.raises(PermissionDenied, match="manager"):
        backup.restore(out, folder, username="wren", passphrase=WORKER_PASS)
    assert _fingerprint(folder) == before

    monkeypatch.setenv("VRP_PASSPHRASE", WORKER_PASS)
    assert main(["restore", str(out), str(folder), "--user", "wren"]) == 4
    assert _fingerprint(folder) == before

    # a manager still can
    backup.restore(out, folder, username="manager", passphrase=PASSPHRASE)
    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert participants.count_participants(ws) == 0


def test_a_manager_removed_since_cannot_roll_the_workspace_back(workspace, tmp_path):
    from vrp_desktop.errors import PermissionDenied
    from vrp_desktop.services import users

    users.add_user(workspace, "kit", WORKER_PASS, role="manager")
    out = backup.backup(workspace, tmp_path / "old.vrpbackup")
    users.remove_user(workspace, "kit")
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    with pytest.raises(PermissionDenied, match="as it is now"):
        backup.restore(out, folder, username="kit", passphrase=WORKER_PASS)
    assert _fingerprint(folder) == before
    # the backup itself is theirs to open elsewhere: it holds only what they could already see
    backup.restore(out, tmp_path / "elsewhere", username="kit", passphrase=WORKER_PASS)


def test_a_manager_demoted_since_cannot_restore_an_old_backup(workspace, tmp_path):
    """The role that counts is today's, not the one the backup remembers."""
    from vrp_desktop.errors import PermissionDenied
    from vrp_desktop.services import users

    users.add_user(workspace, "kit", WORKER_PASS, role="manager")
    out = backup.backup(workspace, tmp_path / "old.vrpbackup")
    users.remove_user(workspace, "kit")
    users.add_user(workspace, "kit", WORKER_PASS, role="worker")  # back, as a worker
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    with pytest.raises(PermissionDenied, match=r"[Ww]orker"):
        backup.restore(out, folder, username="kit", passphrase=WORKER_PASS)
    assert _fingerprint(folder) == before
    # into a new, empty folder the backup's own role check stands (looking inside is allowed)
    backup.restore(out, tmp_path / "look", username="kit", passphrase=WORKER_PASS)
