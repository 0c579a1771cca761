"""The coordinator's cheap "no error" tests never pass what the engine refuses.

``validation.compiled`` decides the common case of an import without building findings; when
it says a record is clean, the engine must agree (no error finding). It must also say clean for
ordinary good records, or the import is no faster. Records are mutated field by field with
values of every awkward kind (blanks, wrong types, codes of another framework, future dates,
aware and naive times, duplicate and blank register lines).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vrp_desktop.frameworks import FrameworkCatalog
from vrp_desktop.measures.scoring import score
from vrp_desktop.sync.import_check import _LOCAL_ONLY
from vrp_desktop.validation import compiled
from vrp_desktop.validation.engine import (
    AttendeeContext,
    validate_enrolment,
    validate_participant,
    validate_response,
    validate_session,
)

CATALOG = FrameworkCatalog.load_builtin()
FRAMEWORKS = CATALOG.frameworks()
TODAY = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
P1, P2, P3 = ("0190" + str(n) * 28 + "-0000-0000" for n in (1, 2, 3))
ALL_CODES = sorted(
    {e.code for f in FRAMEWORKS for e in [*f.activities, *f.location_types]}
    | {e.code for f in FRAMEWORKS for e in f.referral_sources}
    | {e.code for f in FRAMEWORKS for e in f.exit_reasons}
    | {t for f in FRAMEWORKS for t in f.session_types}
    | {m for f in FRAMEWORKS for m in f.modes}
)
AWKWARD = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "zzz", "B5", "B5 4TJ", "Other", "delivered", "planned", "given"]),
    st.sampled_from(ALL_CODES),
    st.integers(-5, 400),
    st.booleans(),
    st.sampled_from([dt.date(2025, 1, 20), dt.date(2025, 7, 1), dt.date(1999, 1, 1)]),
    st.sampled_from(
        [
            dt.datetime(2025, 5, 30, 16, 0),
            dt.datetime(2025, 5, 30, 16, 0, tzinfo=dt.UTC),
            dt.datetime(2025, 6, 1, 12, 9, tzinfo=dt.UTC),
            dt.datetime(2025, 6, 1, 12, 11, tzinfo=dt.UTC),
            dt.datetime(2025, 6, 2, 9, 0),
        ]
    ),
    st.lists(st.sampled_from(ALL_CODES), max_size=3),
    st.just([]),
)


def _codes(framework, name):
    return [e.code for e in getattr(framework, name)]


def good_session(fw, kind):
    return {
        "id": "s1",
        "version": 1,
        "intervention_id": "i1",
        "starts_at": dt.datetime(2025, 5, 30, 16, 0, tzinfo=dt.UTC),
        "duration_minutes": max(fw.duration_minutes.min, min(60, fw.duration_minutes.max)),
        "session_type": kind,
        "mode": fw.modes[0],
        "location_type": _codes(fw, "location_types")[0],
        "activities": _codes(fw, "activities")[:1],
        "staff_count": 1,
        "status": "delivered",
    }


def good_enrolment(fw):
    return {
        "id": "e1",
        "version": 1,
        "participant_id": P1,
        "intervention_id": "i1",
        "referral_source": _codes(fw, "referral_sources")[0],
        "referral_date": dt.date(2025, 1, 5),
        "start_date": dt.date(2025, 1, 20),
        "end_date": None,
        "exit_reason": None,
    }


def good_participant():
    return {
        "id": P1,
        "version": 1,
        "pseudonym": "a" * 32,
        "age_band": None,
        "gender": "male",
        "ethnicity": "black_caribbean",
        "postcode_district": "B5",
        "consent_status": "given",
        "consent_date": dt.date(2025, 1, 10),
    }


def session_errors(fw, s, register):
    attendees = [AttendeeContext(a["participant_id"], "x", a["status"], True) for a in register]
    found = validate_session(s, framework=fw, attendees=attendees, now=NOW)
    return [f for f in found if f.severity == "error"]


def register_lines(statuses, people):
    return [
        {"id": f"a{n}", "version": 1, "participant_id": pid, "status": status}
        for n, (status, pid) in enumerate(zip(statuses, people, strict=False))
    ]


CHANGES = st.dictionaries(
    st.sampled_from(
        [
            "starts_at",
            "duration_minutes",
            "session_type",
            "mode",
            "location_type",
            "activities",
            "status",
            "referral_source",
            "referral_date",
            "start_date",
            "end_date",
            "exit_reason",
            "gender",
            "ethnicity",
            "postcode_district",
            "consent_status",
            "consent_date",
            "timepoint",
            "completed_on",
            "measure_id",
        ]
    ),
    AWKWARD,
    max_size=4,
)
STATUSES = st.lists(
    st.one_of(st.none(), st.sampled_from(["attended", "late", "absent", "did_not_attend", "x"])),
    max_size=5,
)
PEOPLE = st.lists(st.sampled_from([P1, P2, P3]), min_size=5, max_size=5)
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_good_records_take_the_fast_path():
    for fw in FRAMEWORKS:
        checks = compiled.for_framework(fw)
        kind = fw.session_types[0]
        line = register_lines(["attended"], [P1])
        assert checks.session(good_session(fw, kind), line, NOW), fw.id
        assert not session_errors(fw, good_session(fw, kind), line)
        assert checks.enrolment(good_enrolment(fw), TODAY), fw.id
    assert compiled.participant(good_participant(), TODAY, _LOCAL_ONLY)


@FAST
@given(fw=st.sampled_from(FRAMEWORKS), changes=CHANGES, statuses=STATUSES, people=PEOPLE)
def test_a_session_called_clean_has_no_error(fw, changes, statuses, people):
    s = good_session(fw, fw.session_types[0])
    s.update({k: v for k, v in changes.items() if k in s})
    register = register_lines(statuses, people)
    if compiled.for_framework(fw).session(s, register, NOW):
        assert session_errors(fw, s, register) == []


@FAST
@given(fw=st.sampled_from(FRAMEWORKS), changes=CHANGES)
def test_an_enrolment_called_clean_has_no_error(fw, changes):
    e = good_enrolment(fw)
    e.update({k: v for k, v in changes.items() if k in e})
    if compiled.for_framework(fw).enrolment(e, TODAY):
        found = validate_enrolment(e, participant=None, framework=fw, today=TODAY)
        assert [f for f in found if f.severity == "error"] == []


@FAST
@given(changes=CHANGES)
def test_a_participant_called_clean_has_no_error(changes):
    p = good_participant()
    p.update({k: v for k, v in changes.items() if k in p})
    if compiled.participant(p, TODAY, _LOCAL_ONLY):
        found = validate_participant(p, today=TODAY)
        assert [f for f in found if f.severity == "error" and f.field not in _LOCAL_ONLY] == []


@FAST
@given(fw=st.sampled_from([f for f in FRAMEWORKS if f.measures]), changes=CHANGES)
def test_a_questionnaire_called_clean_has_no_error(fw, changes):
    measure = CATALOG.measure(fw.measures[0].measure_id)
    r = {
        "id": "r1",
        "version": 1,
        "participant_id": P1,
        "enrolment_id": "e1",
        "measure_id": measure.id,
        "timepoint": fw.measures[0].timepoints[0].timepoint,
        "completed_on": dt.date(2025, 1, 22),
        "answers": [measure.allowed_values[0] for _ in measure.items],
    }
    r.update({k: v for k, v in changes.items() if k in r})
    scored = score(measure, r["answers"])
    enrolment = {"start_date": dt.date(2025, 1, 20), "end_date": None, "referral_date": None}
    if compiled.for_framework(fw).response(r, measure, TODAY, True):
        found = validate_response(
            r, measure=measure, framework=fw, enrolment=enrolment, today=TODAY, scored=scored
        )
        assert [f for f in found if f.severity == "error"] == []


def test_what_the_engine_refuses_is_not_called_clean():
    fw = CATALOG.framework("mentoring")
    checks = compiled.for_framework(fw)
    twice = register_lines(["attended", "attended"], [P1, P1])
    assert not checks.session(good_session(fw, "group"), twice, NOW)
    blank = register_lines([None], [P1])
    assert not checks.session(good_session(fw, "one_to_one"), blank, NOW)
    late = dt.datetime(2025, 6, 1, 12, 11, tzinfo=dt.UTC)
    line = register_lines(["attended"], [P1])
    assert not checks.session({**good_session(fw, "one_to_one"), "starts_at": late}, line, NOW)
    assert not checks.session({**good_session(fw, "one_to_one"), "mode": "zzz"}, line, NOW)
    assert not checks.enrolment({**good_enrolment(fw), "start_date": dt.date(2026, 1, 1)}, TODAY)
    assert not compiled.participant(
        {**good_participant(), "postcode_district": "B5 4TJ"}, TODAY, _LOCAL_ONLY
    )
