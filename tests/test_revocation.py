"""Removing a user (or using the recovery code) changes the workspace key (issue 10, failure 9)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.crypto import remember
from vrp_desktop.crypto.keyslots import KeySlotFile, new_master_key
from vrp_desktop.errors import WrongPassphrase
from vrp_desktop.services import participants, users
from vrp_desktop.store import files
from vrp_desktop.store import rekey as rekeying
from vrp_desktop.workspace import Workspace, usernames

SAM = "sam's own passphrase 7"


@pytest.fixture
def with_sam(workspace, tmp_path):
    users.add_user(workspace, "sam", SAM, role="worker")
    participants.create_participant(workspace, {"first_name": "Noor", "last_name": "Haddad"})
    old_slots = tmp_path / "old-keyslots.json"
    shutil.copy(files.keyslots_path(workspace.folder), old_slots)
    return workspace, old_slots


def test_a_removed_users_passphrase_against_an_old_key_file_opens_nothing(with_sam):
    ws, old_slots = with_sam
    old_key = KeySlotFile.load(old_slots).unlock("sam", SAM)
    assert rekeying.opens(files.db_path(ws.folder), old_key)

    message = users.remove_user(ws, "sam")

    assert "Backups made before now still open" in message
    assert not rekeying.opens(files.db_path(ws.folder), old_key)
    assert ws.master_key != old_key
    assert "sam" not in usernames(ws.folder)
    # the workspace still works for everyone else, in this handle and after reopening
    assert participants.count_participants(ws) == 1
    folder = ws.folder
    ws.close()
    with Workspace.open(folder, "manager", PASSPHRASE) as again:
        assert participants.count_participants(again) == 1
    with pytest.raises(WrongPassphrase):
        Workspace.open(folder, "sam", SAM)
    assert not files.pending_keyslots_path(folder).exists()


def test_removal_forgets_the_removed_users_remembered_key(with_sam):
    ws, _ = with_sam
    remember.remember(ws.workspace_id, "sam", ws.master_key)
    remember.remember(ws.workspace_id, "manager", ws.master_key)
    users.remove_user(ws, "sam")
    assert remember.recall(ws.workspace_id, "sam") is None
    # the remover's own remembered key follows the new key
    assert remember.recall(ws.workspace_id, "manager") == ws.master_key


def test_cli_says_older_backups_still_open_with_older_passphrases(with_sam, monkeypatch, capsys):
    from vrp_desktop.cli import main

    ws, _ = with_sam
    folder = ws.folder
    ws.close()
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["user", "remove", str(folder), "sam", "--user", "manager"]) == 0
    out = capsys.readouterr().out
    assert "key was changed" in out and "Backups made before now still open" in out


def _crash_after(ws, step: str) -> bytes:
    """Run a removal of sam up to ``step`` and stop there, as a kill would; the old key."""
    from sqlalchemy import update

    from vrp_desktop.store.models import User

    old_key = ws.master_key
    with ws.unit() as session:
        session.execute(update(User).where(User.username == "sam").values(active=False))
    if step == "commit":
        return old_key
    new_key = new_master_key()
    new_slots = ws.slots.rekeyed(old_key, new_key, drop=("sam",))
    ws.engine.dispose()
    rekeying.begin(ws.folder, new_slots, new_key, old_key)
    if step == "pending":
        return old_key
    rekeying.rekey_database(files.db_path(ws.folder), old_key, new_key)
    assert step == "rekey"
    return old_key


@pytest.mark.parametrize("step", ["commit", "pending", "rekey"])
def test_a_removal_killed_at_any_step_is_finished_at_the_next_open(with_sam, step):
    ws, _ = with_sam
    folder = ws.folder
    old_key = _crash_after(ws, step)
    ws.engine.dispose()
    # the removed user is refused at once, even though keyslots.json may still hold their slot
    if step != "commit":
        with pytest.raises(WrongPassphrase):
            Workspace.open(folder, "sam", SAM)
    with Workspace.open(folder, "manager", PASSPHRASE) as again:
        assert participants.count_participants(again) == 1
        assert again.master_key != old_key
    assert not files.pending_keyslots_path(folder).exists()
    assert "sam" not in usernames(folder)
    assert not rekeying.opens(files.db_path(folder), old_key)
    with pytest.raises(WrongPassphrase):
        Workspace.open(folder, "sam", SAM)


def test_using_the_recovery_code_changes_the_key(workspace):
    folder, code = workspace.folder, workspace.recovery_code
    old_key = workspace.master_key
    workspace.close()
    with Workspace.open_with_recovery(folder, code, "manager") as ws:
        assert ws.master_key != old_key
        users.change_passphrase(ws, "a brand new passphrase 42", username="manager")
    assert not rekeying.opens(files.db_path(folder), old_key)
    # the code itself still works
    Workspace.open_with_recovery(folder, code, "manager").close()
    Workspace.open(folder, "manager", "a brand new passphrase 42").close()


def test_a_restore_sets_a_pending_rekey_aside(with_sam, tmp_path):
    from vrp_desktop.services import backup

    ws, _ = with_sam
    out = backup.backup(ws, tmp_path / "b.vrpbackup")
    folder = ws.folder
    _crash_after(ws, "pending")
    backup.restore(out, folder, username="manager", passphrase=PASSPHRASE)
    assert not files.pending_keyslots_path(folder).exists()
    with Workspace.open(folder, "sam", SAM) as sam:  # the backup predates the removal
        assert sam.user.role == "worker"


# ----- key slots are written after the transaction commits (issue 10, failure 12) -------------


def test_a_new_users_slot_is_written_only_after_their_row_commits(workspace, monkeypatch):
    from sqlalchemy import select

    from vrp_desktop.store.models import User

    seen: list[bool] = []
    real = workspace.slots.add_user

    def spy(master_key, username, passphrase):
        with workspace.read() as s:  # another connection: sees committed rows only
            seen.append(s.scalar(select(User).where(User.username == username)) is not None)
        real(master_key, username, passphrase)

    monkeypatch.setattr(workspace.slots, "add_user", spy)
    users.add_user(workspace, "sam", SAM, role="worker")
    assert seen == [True]
    Workspace.open(workspace.folder, "sam", SAM).close()


def test_a_slot_write_lost_after_the_commit_is_completed_by_adding_again(workspace, monkeypatch):
    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(workspace.slots, "add_user", disk_full)
        with pytest.raises(OSError):
            users.add_user(workspace, "sam", SAM, role="worker")
    assert "sam" not in usernames(workspace.folder)
    users.add_user(workspace, "sam", SAM, role="worker")
    with Workspace.open(workspace.folder, "sam", SAM) as sam:
        assert sam.user.role == "worker"


def test_a_failed_unit_writes_no_slot(workspace, monkeypatch):
    from vrp_desktop.services import audit

    before = files.keyslots_path(workspace.folder).read_bytes()

    def broken(*_a, **_k):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError):
        users.add_user(workspace, "sam", SAM, role="worker")
    with pytest.raises(RuntimeError):
        users.change_passphrase(workspace, "a brand new passphrase 42", username="manager")
    assert files.keyslots_path(workspace.folder).read_bytes() == before
