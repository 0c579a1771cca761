"""Owner-only files and no plaintext temp files outside the destination (issue 10, failure 12)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.services import backup, participants
from vrp_desktop.store import files
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_workspace_files_are_owner_only(workspace, tmp_path):
    os.umask(0o022)
    participants.create_participant(workspace, {"first_name": "Ife", "last_name": "Adeyemi"})
    folder = workspace.folder
    assert _mode(folder) == 0o700
    for path in files.sidecar_paths(folder):
        if path.exists():
            assert _mode(path) == 0o600, path.name
    assert _mode(files.keyslots_path(folder)) == 0o600
    out = backup.backup(workspace, folder / "backups" / "b.vrpbackup")
    assert _mode(out) == 0o600
    assert _mode(out.parent) == 0o700


def test_an_old_workspace_is_tightened_when_it_opens(workspace):
    folder = workspace.folder
    workspace.close()
    os.chmod(folder, 0o755)
    os.chmod(files.db_path(folder), 0o644)
    os.chmod(files.keyslots_path(folder), 0o644)
    with Workspace.open(folder, "manager", PASSPHRASE):
        assert _mode(folder) == 0o700
        assert _mode(files.db_path(folder)) == 0o600
        assert _mode(files.keyslots_path(folder)) == 0o600


def test_an_identity_export_over_an_existing_file_is_owner_only(workspace, tmp_path):
    from vrp_desktop.returns.export import export_records

    participants.create_participant(workspace, {"first_name": "Ife", "last_name": "Adeyemi"})
    out = tmp_path / "out" / "ids.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"old")
    os.chmod(out, 0o644)
    export_records(workspace, out, with_identifiers=True)
    assert _mode(out) == 0o600


def test_export_parts_stay_beside_the_destination_and_go_on_failure(tmp_path, monkeypatch):
    from vrp_desktop.returns.export import write_rows

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    dest = tmp_path / "dest"
    dest.mkdir()
    seen: list[list[str]] = []

    def rows():
        for i in range(3000):
            if i == 2500:
                seen.append(sorted(p.name for p in dest.iterdir()))
                assert list(system_tmp.iterdir()) == []
            yield (f"Name {i}", i)

    write_rows(dest / "a.xlsx", [("People", ["Name", "N"], rows(), 3000)], title="t")
    # only the destination's own (owner-only) temporary file, nothing else, while writing
    assert len(seen[0]) == 1 and seen[0][0].startswith(".a.xlsx.")
    assert sorted(p.name for p in dest.iterdir()) == ["a.xlsx"]
    assert list(system_tmp.iterdir()) == []

    def failing():
        yield ("Name", 1)
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        write_rows(dest / "b.xlsx", [("People", ["Name", "N"], failing(), 2)], title="t")
    assert sorted(p.name for p in dest.iterdir()) == ["a.xlsx"]
    assert list(system_tmp.iterdir()) == []


def test_session_drafts_hold_no_staff_free_text(tmp_path):
    from ui.forms.session_draft import load_draft, save_draft

    path = tmp_path / "draft.json"
    save_draft(
        path,
        {"intervention_id": "i1", "staff": "Sam Jones (mentor)", "notes": "x", "register": []},
    )
    assert b"Sam Jones" not in path.read_bytes()
    path.write_text('{"staff": "Sam Jones", "intervention_id": "i1"}')
    assert "staff" not in (load_draft(path) or {})
    assert _mode(path) == 0o600
