"""The evaluation's SQL over a coordinator's imported records, with exact small data: the
cohort, dose from rosters (absences count for nothing), pairs (earliest baseline, latest exit
on or after it), exit reasons, one person seen by two providers counted once in the total."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import PASSPHRASE
from vrp_desktop.evaluation import data
from vrp_desktop.evaluation.build import build, source_for
from vrp_desktop.evaluation.period import parse_period
from vrp_desktop.store.models import Batch, Provider
from vrp_desktop.store.sync_models import (
    ImportedAttendance,
    ImportedEnrolment,
    ImportedIntervention,
    ImportedParticipant,
    ImportedResponse,
    ImportedSession,
)

PERIOD = parse_period("2026-27")


def _held(model, provider, **values):
    return model(
        provider_id=provider.id, version=1, batch_id="b", content_sha256="0" * 64, **values
    )


@pytest.fixture
def coordinator(tmp_path, coord_database):
    """On each back-end: an encrypted file, and a PostgreSQL server (issue 14)."""
    from vrp_desktop.workspace import Workspace

    ws, _ = Workspace.create(
        tmp_path / "vrp",
        provider_code="VRP",
        provider_name="West Midlands VRP",
        username="coord",
        passphrase=PASSPHRASE,
        role="coordinator",
        kind="coordinator",
        database=coord_database,
    )
    with ws.unit() as s:
        p1 = Provider(code="P001", name="Ladywood Youth", is_self=False)
        p2 = Provider(code="P002", name="City Mentors", is_self=False)
        s.add_all([p1, p2])
        s.flush()
        s.add(
            Batch(
                id="b",
                provider_id=p1.id,
                direction="in",
                period="2026-27 Q3",
                status="imported",
                record_count=1,
            )
        )
        for p in (p1, p2):
            s.add(
                _held(
                    ImportedIntervention,
                    p,
                    id=f"i-{p.code}",
                    framework_id="mentoring",
                    framework_version=1,
                    name=f"Mentoring {p.code}",
                    tier="targeted",
                    setting="community",
                )
            )
        people = [  # id, provider, pseudonym, referral date (None: start date counts)
            ("a1", p1, "shared", dt.date(2026, 5, 1)),
            ("a2", p1, "only-a2", None),
            ("b1", p2, "shared", dt.date(2026, 6, 1)),
            ("old", p2, "only-old", dt.date(2026, 3, 31)),  # referred before the period
        ]
        for pid, p, pseudo, referred in people:
            s.add(
                _held(
                    ImportedParticipant,
                    p,
                    id=pid,
                    pseudonym=pseudo,
                    gender="male",
                    age_band="14-15",
                    ethnicity="black_african",
                    consent_status="given",
                )
            )
            s.add(
                _held(
                    ImportedEnrolment,
                    p,
                    id=f"e-{pid}",
                    participant_id=pid,
                    intervention_id=f"i-{p.code}",
                    referral_source="school",
                    referral_date=referred,
                    start_date=dt.date(2026, 6, 10),
                    end_date=dt.date(2026, 12, 1) if pid == "a1" else None,
                    exit_reason="completed" if pid == "a1" else None,
                )
            )
        # a1's roster: two delivered sessions attended (60 + 90 min), one absent, one planned
        for sid, minutes, status, attendance in (
            ("s1", 60, "delivered", "attended"),
            ("s2", 90, "delivered", "late"),
            ("s3", 120, "delivered", "absent"),
            ("s4", 45, "planned", "attended"),
        ):
            s.add(
                _held(
                    ImportedSession,
                    p1,
                    id=sid,
                    intervention_id="i-P001",
                    starts_at=dt.datetime(2026, 7, 1, 17),
                    duration_minutes=minutes,
                    session_type="group",
                    status=status,
                    activities=[],
                )
            )
            s.add(
                _held(
                    ImportedAttendance,
                    p1,
                    id=f"at-{sid}",
                    session_id=sid,
                    participant_id="a1",
                    status=attendance,
                    # as the importer writes a line: with its session's
                    intervention_id="i-P001",
                    session_status=status,
                    duration_minutes=minutes,
                )
            )
        for rid, pid, p, tp, on, total in (
            ("r1", "a1", p1, "baseline", dt.date(2026, 6, 12), 20),
            ("r2", "a1", p1, "baseline", dt.date(2026, 6, 20), 30),  # later baseline: not used
            ("r3", "a1", p1, "exit", dt.date(2026, 9, 1), 16),
            ("r4", "a1", p1, "exit", dt.date(2026, 11, 30), 12),  # latest exit: used
            ("r5", "b1", p2, "exit", dt.date(2026, 5, 1), 10),  # exit before any baseline
        ):
            s.add(
                _held(
                    ImportedResponse,
                    p,
                    id=rid,
                    participant_id=pid,
                    enrolment_id=f"e-{pid}",
                    measure_id="sdq_s11_17",
                    timepoint=tp,
                    completed_on=on,
                    answers=[],
                    scores={"total_difficulties": total},
                )
            )
    yield ws
    ws.close()


def test_cohort_dose_and_pairs(coordinator):
    src = source_for(coordinator, PERIOD)
    with coordinator.engine.connect() as conn:
        records = {r.participant_id: r for r in data.read(conn, src, PERIOD)}
    assert sorted(records) == ["a1", "a2", "b1"]  # "old" was referred before the period
    a1 = records["a1"]
    assert (a1.sessions_rostered, a1.sessions_attended, a1.hours) == (3, 2, 2.5)
    assert a1.exit_reason == "completed"
    pair = a1.pairs["sdq_s11_17"]
    assert (pair.base["total_difficulties"], pair.exit["total_difficulties"]) == (20, 12)
    assert (pair.base_on, pair.exit_on) == (dt.date(2026, 6, 12), dt.date(2026, 11, 30))
    assert (pair.sessions, pair.hours) == (2, 2.5)
    assert records["b1"].pairs == {} and records["b1"].exits == {"sdq_s11_17"}
    assert records["a2"].sessions_rostered == 0


def test_a_period_nobody_was_referred_in_reads_as_an_empty_cohort(coordinator):
    from vrp_desktop.evaluation.period import parse_period

    empty = parse_period("2019-20")
    src = source_for(coordinator, empty)
    with coordinator.engine.connect() as conn:
        assert data.read(conn, src, empty) == []


def test_partnership_units_and_person_counted_once(coordinator):
    pack = build(coordinator, PERIOD, threshold=1)
    assert pack.kind == "partnership"
    assert ("Provider", "Ladywood Youth [P001]") in pack.units
    assert ("Intervention", "Mentoring P002 [P002]") in pack.units
    funnel = {(r[0], r[1]): r for r in pack.tables["funnel"].rows}
    table = pack.tables["funnel"]
    referred = table.column("Referred")
    assert funnel[("All", "Partnership")][referred] == 2  # "shared" is one person
    assert funnel[("Provider", "Ladywood Youth [P001]")][referred] == 2
    assert funnel[("Provider", "City Mentors [P002]")][referred] == 1
    assert funnel[("All", "Partnership")][table.column("Attended at least once")] == 1
    assert funnel[("Intervention type", "Trusted-adult mentoring")][2] == "Mentoring"
    exits = pack.tables["exits"].rows_for("All", "Partnership")
    assert {r[2]: r[3] for r in exits} == {"Completed the programme": 1, "Still enrolled": 1}
    change = pack.tables["change"]
    total = next(r for r in change.rows_for("All", "Partnership") if r[3] == "Total difficulties")
    assert total[change.column("Mean change")] == -8
    assert total[change.column("People paired")] == 1


def test_missing_published_values_mean_not_shown(coordinator):
    pack = build(coordinator, PERIOD, threshold=1)
    methods = {(r[3], r[4]) for r in pack.tables["reliable"].rows}
    # SDQ internalising has no published reliability held: no reliable-change row for it
    assert ("Internalising", "Reliable change (Jacobson-Truax)") not in methods
    assert ("Total difficulties", "Reliable change (Jacobson-Truax)") in methods


def test_a_worker_may_not_build(coordinator, tmp_path):
    from vrp_desktop.errors import PermissionDenied
    from vrp_desktop.services import users
    from vrp_desktop.workspace import Workspace

    users.add_user(coordinator, "sam", "another long passphrase 1", role="worker")
    worker = Workspace.open(coordinator.folder, "sam", "another long passphrase 1")
    try:
        with pytest.raises(PermissionDenied):
            build(worker, PERIOD)
    finally:
        worker.close()


def test_scores_parsed_together_read_as_each_on_its_own():
    """The pairs' scores are parsed as one JSON array; whatever the texts hold, each reads as
    it would alone (not a dict: no scores), and a text that is not one JSON value is refused
    as it would be alone, never split into two questionnaires' scores."""
    import numpy as np

    from vrp_desktop.evaluation.cohort import score_arrays

    texts = ['{"total": 12, "emotional": 3}', None, "[1, 2]", "null", '{"total": 7.5}', "{}"]
    got = data._all_scores(texts)
    assert got == [{"total": 12, "emotional": 3}, {}, {}, {}, {"total": 7.5}, {}]
    assert data._all_scores(["{}", {"total": 4}]) == [{}, {"total": 4}]  # PostgreSQL's dicts
    with pytest.raises(ValueError):
        data._all_scores(['{"total": 1}, {"total": 2}', '{"total": 3}'])
    arrays = score_arrays(got, np.array([4, 0, 1, 2, 3, 5]), 6)
    assert set(arrays) == {"total", "emotional"}
    assert arrays["total"][4] == 12 and arrays["total"][3] == 7.5 and arrays["emotional"][4] == 3
    assert np.isnan(arrays["total"][[0, 1, 2, 5]]).all()
