"""Issue 10, order-independent coordinator: every arrival order of a provider's batches (with
edits, an erasure, a deletion, and a batch that never arrives) ends in the same store."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.sync.conftest import copy_coordinator
from vrp_desktop.services import enrolments, outcomes, participants, sessions
from vrp_desktop.store.models import Attendance, OutcomeResponse, Participant, Session
from vrp_desktop.sync import batch_build, batch_import
from vrp_desktop.workspace import Workspace

#: the coordinator's holdings, compared row for row (when a row was written is not content)
TABLES = {
    "imported_intervention": "*",
    "imported_participant": "*",
    "imported_enrolment": "*",
    "imported_session": "*",
    "imported_attendance": "*",
    "imported_response": "*",
    "imported_tombstone": "*",
    "imported_pending": "provider_id, entity, record_id, version, batch_id, content_sha256, "
    "record, waiting_for",
}


def canonical_dump(folder: Path) -> dict[str, list[tuple]]:
    """Every row of the coordinator's holdings, sorted: equal dumps, equal stores."""
    with Workspace.open(folder, "coord", PASSPHRASE) as c, c.read() as s:
        conn = s.connection()
        return {
            table: sorted(
                tuple(row) for row in conn.exec_driver_sql(f"SELECT {columns} FROM {table}")
            )
            for table, columns in TABLES.items()
        }


def _group_attendee(p) -> tuple[str, str, str]:
    """(session id, participant id, reference) of a group session and one on its register."""
    with p.read() as s:
        sid, pid = s.execute(
            select(Attendance.session_id, Attendance.participant_id)
            .join(Session, Session.id == Attendance.session_id)
            .where(Session.session_type == "group", Session.sync_state != "draft")
            .limit(1)
        ).one()
        return sid, pid, s.get(Participant, pid).reference


def _scenario(pair) -> list[Path]:
    """Four batches: everything; edits (a new person with their own session too); an erasure
    and a deleted questionnaire; more edits."""
    files = []
    with pair.p() as p:
        files.append(Path(batch_build.build_batch(p)["file"]))
        session_id, erased, reference = _group_attendee(p)
        with p.read() as s:
            edited = s.scalar(
                select(Participant.id).where(
                    Participant.sync_state != "draft", Participant.id != erased
                )
            )
            intervention = s.get(Session, session_id).intervention_id
            response = s.scalar(
                select(OutcomeResponse.id).where(OutcomeResponse.participant_id != erased)
            )
        # 2: edits, and a new young person with an enrolment and a one-to-one session
        participants.update_participant(p, edited, {"gender": "female"})
        sessions.update_session(p, session_id, {"duration_minutes": 75})
        newcomer = participants.create_participant(
            p,
            {
                "first_name": "Nia", "last_name": "Brookes", "date_of_birth": "2010-03-04",
                "gender": "female", "ethnicity": "white_british", "consent_status": "given",
                "consent_date": "2026-01-10", "postcode": "B5 4TJ",
            },
        )  # fmt: skip
        start = dt.date.today() - dt.timedelta(days=20)
        enrolments.enrol(
            p,
            newcomer["id"],
            intervention,
            {"referral_source": "school", "referral_date": start, "start_date": start},
        )
        sessions.log_session(
            p,
            intervention,
            {
                "starts_at": dt.datetime.combine(start + dt.timedelta(days=5), dt.time(17)),
                "duration_minutes": 60, "session_type": "one_to_one", "mode": "in_person",
            },
            [newcomer["id"]],
        )  # fmt: skip
        files.append(Path(batch_build.build_batch(p)["file"]))
        # 3: an erasure and a deleted questionnaire
        participants.erase_participant(p, erased, confirm=reference, reason="asked")
        outcomes.delete_response(p, response, reason="entered twice")
        files.append(Path(batch_build.build_batch(p)["file"]))
        # 4: more edits, the same records again
        participants.update_participant(p, edited, {"ethnicity": "not_stated"})
        sessions.update_session(p, session_id, {"duration_minutes": 80})
        files.append(Path(batch_build.build_batch(p)["file"]))
    return files


def _import_all(clean: Path, work: Path, files: list[Path]) -> dict[str, list[tuple]]:
    copy_coordinator(clean, work)
    with Workspace.open(work, "coord", PASSPHRASE) as c:
        for path in files:
            report = batch_import.import_batch(c, path, receipt_folder=work.parent / "receipts")
            assert report.counts["rejected"] == 0, report.rejected
    return canonical_dump(work)


def test_every_arrival_order_ends_in_the_same_store(pair, tmp_path):
    files = _scenario(pair)
    clean = tmp_path / "clean-coordinator"
    copy_coordinator(pair.coord, clean)
    work = tmp_path / "coordinator"
    reference: dict[int | None, dict[str, list[tuple]]] = {}

    def expected(gap: int | None) -> dict[str, list[tuple]]:
        if gap not in reference:
            reference[gap] = _import_all(clean, work, [f for i, f in enumerate(files) if i != gap])
        return reference[gap]

    everything = expected(None)
    assert not everything["imported_pending"]
    assert everything["imported_tombstone"]
    # the one order that loses most on main: the erasure first
    assert _import_all(clean, work, [files[2], files[0], files[1], files[3]]) == everything

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        order=st.permutations(range(len(files))),
        gap=st.sampled_from([None, *range(len(files))]),
    )
    def same_store(order: list[int], gap: int | None) -> None:
        arrived = [files[i] for i in order if i != gap]
        assert _import_all(clean, work, arrived) == expected(gap)

    same_store()
    # without the first batch, what refers to its records waits instead of being lost
    assert expected(0)["imported_pending"]


def test_importing_a_batch_again_changes_nothing(pair, tmp_path):
    files = _scenario(pair)
    with pair.c() as c:
        for path in files:
            batch_import.import_batch(c, path, receipt_folder=tmp_path)
    before = canonical_dump(pair.coord)
    for path in itertools.islice(files, 2):
        copy = tmp_path / f"again-{path.name}"
        shutil.copy(path, copy)
        with pair.c() as c:
            try:
                batch_import.import_batch(c, copy, receipt_folder=tmp_path)
            except batch_import.SyncError as exc:
                assert "already imported" in str(exc)
    assert canonical_dump(pair.coord) == before
