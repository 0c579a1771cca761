"""The audit chain is anchored, keeps reasons out, and cannot fork (issue 10, failure 10)."""

from __future__ import annotations

import json
import threading
import zipfile

from sqlalchemy import select

from tests.conftest import PASSPHRASE
from vrp_desktop.services import audit, backup, participants
from vrp_desktop.store.models import AuditEvent
from vrp_desktop.workspace import Workspace

REASON = "asked by Amir Khan's mother on 2 April"


def _events(ws) -> list[AuditEvent]:
    with ws.read() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _cut_tail(ws, n: int, *, rewind_setting: bool = False) -> None:
    """What a person with the key could do: delete the last ``n`` events outside the app."""
    with ws.engine.begin() as conn:
        last = conn.exec_driver_sql("SELECT max(seq) FROM audit_event").scalar_one()
        conn.exec_driver_sql(f"DELETE FROM audit_event WHERE seq > {last - n}")
        if rewind_setting:
            seq, digest = conn.exec_driver_sql(
                "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
            ).one()
            conn.exec_driver_sql(
                "UPDATE setting SET value = ? WHERE key = ?",
                (json.dumps({"seq": seq, "hash": digest}), audit.HEAD_SETTING),
            )


def test_cutting_the_last_events_an_erasure_among_them_is_reported(workspace, monkeypatch, capsys):
    from vrp_desktop.cli import main

    p = participants.create_participant(workspace, {"first_name": "Ife", "last_name": "Ola"})
    participants.erase_participant(workspace, p["id"], confirm=p["reference"], reason=REASON)
    with workspace.read() as s:
        assert audit.verify(s).ok
    _cut_tail(workspace, 2)
    with workspace.read() as s:
        report = audit.verify(s)
    assert not report.ok and "cut short" in report.message()
    folder = workspace.folder
    workspace.close()
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["audit", "verify", str(folder)]) == 5
    assert "cut short" in capsys.readouterr().err


def test_a_backup_anchor_catches_a_cut_that_also_rewound_the_setting(
    workspace, tmp_path, monkeypatch, capsys
):
    from vrp_desktop.cli import main

    for i in range(3):
        participants.create_participant(workspace, {"first_name": f"P{i}", "last_name": "X"})
    out = backup.backup(workspace, tmp_path / "b.vrpbackup")
    with workspace.read() as s:
        head = audit.head(s)
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["audit_head"]["seq"] in (head.seq, head.seq - 1)  # the backup event follows
    _cut_tail(workspace, 3, rewind_setting=True)
    with workspace.read() as s:
        assert audit.verify(s).ok  # nothing inside the store can tell...
        anchor = audit.Head.from_value(backup.audit_anchor(out))
        assert not audit.verify(s, (anchor,)).ok  # ...but the backup remembers
    folder = workspace.folder
    workspace.close()
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["audit", "verify", str(folder), "--anchor", str(out)]) == 5
    assert "cut short" in capsys.readouterr().err


def test_free_text_reasons_stay_out_of_the_chain(workspace):
    p = participants.create_participant(workspace, {"first_name": "Ife", "last_name": "Ola"})
    participants.erase_participant(workspace, p["id"], confirm=p["reference"], reason=REASON)
    erase = next(e for e in _events(workspace) if e.action == "participant.erase")
    assert erase.reason == audit.REASON_GIVEN
    for event in _events(workspace):
        assert "Amir" not in json.dumps([event.reason, event.before, event.after], default=str)
    with workspace.read() as s:
        assert audit.verify(s).ok


def test_two_writers_cannot_fork_the_chain(workspace):
    folder = workspace.folder
    other = Workspace.open(folder, "manager", PASSPHRASE)
    start = len(_events(workspace))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(ws, tag: str) -> None:
        try:
            barrier.wait()
            for i in range(25):
                with ws.unit() as session:
                    audit.append(session, "manager", "test.write", "workspace", f"{tag}{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(workspace, "a")),
        threading.Thread(target=write, args=(other, "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    events = _events(workspace)
    assert len(events) == start + 50
    assert len({e.prev_hash for e in events}) == len(events), "two events share a parent"
    with workspace.read() as s:
        assert audit.verify(s).ok


def test_reasons_words_are_kept_beside_the_chain_and_erased_with_the_person(
    workspace, capsys, monkeypatch
):
    from vrp_desktop.cli import main
    from vrp_desktop.services import users

    gone = participants.create_participant(workspace, {"first_name": "Ife", "last_name": "Ola"})
    stays = participants.create_participant(workspace, {"first_name": "Kai", "last_name": "Lee"})
    participants.update_participant(workspace, gone["id"], {"preferred_name": "I"}, reason=REASON)
    participants.update_participant(
        workspace, stays["id"], {"preferred_name": "K"}, reason="typo in the preferred name"
    )
    with workspace.read() as s:
        about_gone = audit.events(s, entity_id=gone["id"])
    assert [e["reason"] for e in about_gone if e["reason"]] == [REASON]  # readable by a manager

    participants.erase_participant(
        workspace, gone["id"], confirm=gone["reference"], reason="erasure request from " + REASON
    )
    with workspace.read() as s:
        found = audit.events(s, limit=1000)
        assert audit.verify(s).ok  # the chain never held the words, so nothing in it changed
    words = json.dumps([e["reason"] for e in found])
    assert "Amir" not in words  # neither the earlier reason nor the erasure's own survives
    assert "typo in the preferred name" in words  # other people's reasons stay
    erased = [e for e in found if e["entity_id"] == gone["id"] and e["reason"]]
    assert erased and all(e["reason"] == "(erased)" for e in erased)

    folder = workspace.folder
    users.add_user(workspace, "wren", "a worker passphrase of words", role="worker")
    workspace.close()
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["audit", "log", str(folder), "--user", "manager", "--record", stays["id"]]) == 0
    assert "reason: typo in the preferred name" in capsys.readouterr().out
    monkeypatch.setenv("VRP_PASSPHRASE", "a worker passphrase of words")
    assert main(["audit", "log", str(folder), "--user", "wren"]) == 4
