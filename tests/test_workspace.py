"""Creating, unlocking and locking workspaces: passphrases, recovery codes, users, roles."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.errors import PermissionDenied, VrpError, WorkspaceError, WrongPassphrase
from vrp_desktop.services import users
from vrp_desktop.workspace import Workspace, usernames


def _fingerprint(folder):
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_open_with_passphrase(workspace):
    folder = workspace.folder
    workspace.close()
    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert ws.user.role == "manager"
        assert ws.own_provider().name == "Test Youth Project"


def test_wrong_passphrase_is_counted_delayed_and_changes_no_file(workspace, monkeypatch):
    folder = workspace.folder
    workspace.close()
    before = _fingerprint(folder)
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", lambda seconds: slept.append(seconds))
    attempts = []
    for _ in range(4):
        with pytest.raises(WrongPassphrase) as caught:
            Workspace.open(folder, "manager", "not the passphrase at all")
        attempts.append((caught.value.attempts, caught.value.delay_seconds))
        assert "not the passphrase" not in str(caught.value)
    assert [a for a, _ in attempts] == [1, 2, 3, 4]
    delays = [d for _, d in attempts]
    assert delays[0] == 0 and delays[-1] > delays[-2] > 0, delays
    assert _fingerprint(folder) == before
    # the right passphrase still works (after the delay) and resets the count
    Workspace.open(folder, "manager", PASSPHRASE).close()


def test_unknown_user_gets_the_same_message_as_a_wrong_passphrase(workspace):
    folder = workspace.folder
    workspace.close()
    with pytest.raises(WrongPassphrase) as unknown:
        Workspace.open(folder, "nobody", PASSPHRASE)
    with pytest.raises(WrongPassphrase) as wrong:
        Workspace.open(folder, "manager", "wrong wrong wrong")
    assert type(unknown.value) is type(wrong.value)


def test_recovery_code_opens_and_allows_a_new_passphrase(workspace):
    folder, code = workspace.folder, workspace.recovery_code
    workspace.close()
    with Workspace.open_with_recovery(folder, code.lower().replace("-", " "), "manager") as ws:
        users.change_passphrase(ws, "a brand new passphrase 42", username="manager")
    with pytest.raises(WrongPassphrase):
        Workspace.open(folder, "manager", PASSPHRASE)
    Workspace.open(folder, "manager", "a brand new passphrase 42").close()


def test_users_get_their_own_slots_and_removal_revokes(workspace):
    users.add_user(workspace, "sam", "sam's own passphrase 7", role="worker")
    assert "sam" in usernames(workspace.folder)
    folder = workspace.folder
    with Workspace.open(folder, "sam", "sam's own passphrase 7") as sam:
        assert sam.user.role == "worker"
        with pytest.raises(PermissionDenied):
            users.add_user(sam, "eve", "eve's passphrase 1234")
    users.remove_user(workspace, "sam")
    assert "sam" not in usernames(folder)
    with pytest.raises(WrongPassphrase):
        Workspace.open(folder, "sam", "sam's own passphrase 7")


def test_weak_passphrase_refused(workspace):
    with pytest.raises(VrpError):
        users.add_user(workspace, "kim", "password1")
    assert "kim" not in usernames(workspace.folder)


def test_missing_or_foreign_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match="No workspace folder"):
        Workspace.open(tmp_path / "nope", "a", "b")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkspaceError, match="not a VRP workspace"):
        Workspace.open(tmp_path / "empty", "a", "b")


def test_cannot_create_over_an_existing_workspace(workspace):
    with pytest.raises(WorkspaceError, match="already a workspace"):
        Workspace.create(
            workspace.folder,
            provider_code="X",
            provider_name="X",
            username="x",
            passphrase=PASSPHRASE,
        )


def test_remembered_key_opens_and_a_stale_key_is_refused(workspace):
    from vrp_desktop.crypto import remember

    remember.remember(workspace.workspace_id, "manager", workspace.master_key)
    key = remember.recall(workspace.workspace_id, "manager")
    folder = workspace.folder
    workspace.close()
    Workspace.open_with_key(folder, key, "manager").close()
    with pytest.raises(WrongPassphrase):
        Workspace.open_with_key(folder, bytes(32), "manager")
