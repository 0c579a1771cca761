"""Each validation rule fires when it should and stays quiet when it shouldn't."""

from datetime import date, datetime

import pytest

from vrp_desktop.frameworks import FrameworkCatalog
from vrp_desktop.validation import (
    AttendeeContext,
    Finding,
    has_errors,
    validate_enrolment,
    validate_participant,
    validate_response,
    validate_session,
)

CATALOG = FrameworkCatalog.load_builtin()
MENTORING = CATALOG.framework("mentoring")  # ages 10-18; 1:1 and group; 15-180 minutes
TODAY = date(2025, 6, 1)
NOW = datetime(2025, 6, 1, 12, 0)
SECRETS = ("Jordan", "Smith", "2010-03-15", "15 March 2010", "07700", "@example", "1 High St")


def rules_of(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.field, f.rule) for f in findings}


def assert_no_personal_data(findings: list[Finding]) -> None:
    for finding in findings:
        for secret in SECRETS:
            assert secret not in finding.message


def participant(**changes):
    record = {
        "id": "p1",
        "reference": "YP-0001",
        "first_name": "Jordan",
        "last_name": "Smith",
        "preferred_name": None,
        "date_of_birth": date(2010, 3, 15),
        "gender": "male",
        "ethnicity": "black_caribbean",
        "postcode_district": "B5",
        "consent_status": "given",
        "consent_date": date(2025, 1, 10),
        "address": "1 High St",
        "phone": "07700 900000",
        "email": "j@example.org",
    }
    record.update(changes)
    return record


def enrolment(**changes):
    record = {
        "id": "e1",
        "participant_id": "p1",
        "intervention_id": "i1",
        "referral_source": "school",
        "referral_date": date(2025, 1, 5),
        "start_date": date(2025, 1, 20),
        "end_date": None,
        "exit_reason": None,
        "exit_detail": None,
    }
    record.update(changes)
    return record


def session(**changes):
    record = {
        "id": "s1",
        "intervention_id": "i1",
        "starts_at": datetime(2025, 5, 30, 16, 0),
        "duration_minutes": 60,
        "session_type": "one_to_one",
        "mode": "in_person",
        "location_type": "community_centre",
        "staff": ["w1"],
        "activities": ["goal_setting"],
        "notes": None,
        "status": "delivered",
    }
    record.update(changes)
    return record


def attendee(ref="YP-0001", status="attended", enrolled=True, clashes=()):
    return AttendeeContext(
        participant_id=ref.lower(),
        reference=ref,
        status=status,
        enrolled=enrolled,
        clashing_session_ids=list(clashes),
    )


def response(measure_id="youth_confidence", **changes):
    record = {
        "id": "r1",
        "participant_id": "p1",
        "enrolment_id": "e1",
        "measure_id": measure_id,
        "timepoint": "baseline",
        "completed_on": date(2025, 1, 20),
        "answers": [4, 4, 3, 2, 5],
    }
    record.update(changes)
    return record


# --- participant -----------------------------------------------------------------------------


def test_valid_participant_has_no_findings():
    assert validate_participant(participant(), today=TODAY) == []


def test_participant_required_fields():
    findings = validate_participant(
        participant(
            first_name=" ",
            last_name=None,
            date_of_birth=None,
            gender=None,
            ethnicity=None,
            consent_status=None,
        ),
        today=TODAY,
    )
    assert rules_of(findings) == {
        (field, "required")
        for field in (
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "consent_status",
        )
    }
    assert has_errors(findings)
    assert_no_personal_data(findings)


def test_birth_date_today_is_fine_but_tomorrow_is_not():
    assert (
        validate_participant(participant(date_of_birth=TODAY, consent_date=TODAY), today=TODAY)
        == []
    )
    findings = validate_participant(participant(date_of_birth=date(2025, 6, 2)), today=TODAY)
    assert ("date_of_birth", "future_date") in rules_of(findings)
    assert_no_personal_data(findings)


def test_participant_code_lists():
    findings = validate_participant(
        participant(gender="robot", ethnicity="white", consent_status="maybe"), today=TODAY
    )
    assert rules_of(findings) == {
        ("gender", "code_list"),
        ("ethnicity", "code_list"),
        ("consent_status", "code_list"),
    }


def test_consent_date_needed_only_when_consent_given():
    findings = validate_participant(participant(consent_date=None), today=TODAY)
    assert rules_of(findings) == {("consent_date", "consent")}
    assert (
        validate_participant(
            participant(consent_status="not_asked", consent_date=None), today=TODAY
        )
        == []
    )


@pytest.mark.parametrize("district", ["B5", "sw1a", "M1", None, ""])
def test_postcode_district_accepted(district):
    assert validate_participant(participant(postcode_district=district), today=TODAY) == []


@pytest.mark.parametrize("district", ["B5 4TJ", "nowhere", "123"])
def test_postcode_district_rejected_without_echoing_it(district):
    findings = validate_participant(participant(postcode_district=district), today=TODAY)
    assert rules_of(findings) == {("postcode_district", "format")}
    assert all(district not in f.message for f in findings)


# --- enrolment -------------------------------------------------------------------------------


def check_enrolment(e=None, p=None, framework=MENTORING):
    return validate_enrolment(
        e or enrolment(), participant=p or participant(), framework=framework, today=TODAY
    )


def test_valid_enrolment_has_no_findings():
    assert check_enrolment() == []


def test_enrolment_codes_come_from_the_framework():
    findings = check_enrolment(enrolment(referral_source="hospital_ed"))
    assert rules_of(findings) == {("referral_source", "code_list")}
    reachable = CATALOG.framework("reachable_moment")
    assert check_enrolment(enrolment(referral_source="hospital_ed"), framework=reachable) == []


def test_end_date_needs_exit_reason_and_back():
    findings = check_enrolment(enrolment(end_date=date(2025, 5, 1)))
    assert rules_of(findings) == {("exit_reason", "required")}
    assert "Choose why the young person left" in findings[0].message
    findings = check_enrolment(enrolment(exit_reason="completed"))
    assert rules_of(findings) == {("end_date", "required")}
    assert check_enrolment(enrolment(end_date=date(2025, 5, 1), exit_reason="completed")) == []


def test_other_exit_reason_needs_detail():
    e = enrolment(end_date=date(2025, 5, 1), exit_reason="other")
    assert rules_of(check_enrolment(e)) == {("exit_detail", "required")}
    e["exit_detail"] = "Family moved to a refuge"
    assert check_enrolment(e) == []


def test_reachable_moment_transfer_needs_detail_via_one_of():
    reachable = CATALOG.framework("reachable_moment")
    e = enrolment(referral_source="custody", end_date=date(2025, 5, 1), exit_reason="transferred")
    assert rules_of(check_enrolment(e, framework=reachable)) == {("exit_detail", "required")}


def test_date_order_boundaries():
    same_day = enrolment(referral_date=date(2025, 1, 20), start_date=date(2025, 1, 20))
    assert check_enrolment(same_day) == []
    findings = check_enrolment(enrolment(referral_date=date(2025, 1, 21)))
    assert rules_of(findings) == {("start_date", "date_order")}
    ended_early = enrolment(end_date=date(2025, 1, 19), exit_reason="disengaged")
    assert rules_of(check_enrolment(ended_early)) == {("end_date", "date_order")}
    no_start = enrolment(start_date=None, end_date=date(2025, 1, 4), exit_reason="disengaged")
    assert ("end_date", "date_order") in rules_of(check_enrolment(no_start))


def test_enrolment_dates_not_in_future():
    assert check_enrolment(enrolment(start_date=TODAY)) == []
    findings = check_enrolment(enrolment(start_date=date(2025, 6, 2)))
    assert rules_of(findings) == {("start_date", "future_date")}


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (date(2020, 3, 14), False),  # 9 the day before the 10th birthday
        (date(2020, 3, 15), True),  # 10 on the birthday
        (date(2029, 3, 14), True),  # still 18 the day before turning 19
        (date(2029, 3, 15), False),  # 19 on the birthday
    ],
)
def test_age_eligibility_at_start_date(start, ok):
    e = enrolment(referral_date=start, start_date=start)
    findings = validate_enrolment(
        e, participant=participant(), framework=MENTORING, today=date(2030, 1, 1)
    )
    assert (("start_date", "age_eligibility") in rules_of(findings)) is not ok
    assert_no_personal_data(findings)
    if not ok:
        assert "ages 10 to 18" in findings[0].message


def test_age_check_skipped_without_participant():
    assert validate_enrolment(enrolment(), participant=None, framework=MENTORING, today=TODAY) == []


# --- session ---------------------------------------------------------------------------------


def check_session(s=None, attendees=None, framework=MENTORING, now=NOW):
    register = (attendee(),) if attendees is None else attendees
    return validate_session(s or session(), framework=framework, attendees=register, now=now)


def test_valid_one_to_one_has_no_findings():
    assert check_session() == []


def test_session_required_fields():
    findings = check_session(
        session(starts_at=None, duration_minutes=None, session_type=None, activities=[])
    )
    assert rules_of(findings) == {
        ("starts_at", "required"),
        ("duration_minutes", "required"),
        ("session_type", "required"),
        ("activities", "required"),
    }


def test_session_codes_come_from_the_framework():
    findings = check_session(
        session(
            session_type="outreach",
            mode="carrier_pigeon",
            location_type="moon",
            activities=["goal_setting", "boxing"],
        )
    )
    assert rules_of(findings) == {
        ("session_type", "code_list"),
        ("mode", "code_list"),
        ("location_type", "code_list"),
        ("activities", "code_list"),
    }
    assert "'boxing'" in next(f.message for f in findings if f.field == "activities")


@pytest.mark.parametrize(("minutes", "ok"), [(14, False), (15, True), (180, True), (181, False)])
def test_duration_range_edges(minutes, ok):
    findings = check_session(session(duration_minutes=minutes))
    assert (("duration_minutes", "range") in rules_of(findings)) is not ok


def test_delivered_session_cannot_be_in_the_future_but_planned_can():
    later = datetime(2025, 6, 1, 12, 1)
    assert rules_of(check_session(session(starts_at=later))) == {("starts_at", "future_session")}
    assert check_session(session(starts_at=NOW)) == []
    assert check_session(session(starts_at=later, status="planned"), attendees=()) == []


def test_group_needs_someone_attending():
    group = session(session_type="group")
    findings = check_session(group, attendees=(attendee(status="absent"),))
    assert rules_of(findings) == {("attendees", "attendance")}
    assert (
        check_session(group, attendees=(attendee(status="late"), attendee("YP-2", "absent"))) == []
    )
    assert (
        check_session(session(session_type="group", status="cancelled", notes="Snow"), attendees=())
        == []
    )


def test_one_to_one_needs_exactly_one_attending():
    two = (attendee("YP-1"), attendee("YP-2", "left_early"))
    findings = check_session(attendees=two)
    assert rules_of(findings) == {("attendees", "attendance")}
    assert "2 are marked" in findings[0].message
    assert rules_of(check_session(attendees=())) == {("attendees", "attendance")}
    assert check_session(attendees=(attendee("YP-1"), attendee("YP-2", "absent"))) == []


def test_attendance_only_for_enrolled_participants():
    findings = check_session(attendees=(attendee("YP-0042", enrolled=False),))
    assert rules_of(findings) == {("attendees", "not_enrolled")}
    assert "YP-0042" in findings[0].message
    assert has_errors(findings)


def test_every_unenrolled_attendee_is_named():
    group = session(session_type="group")
    register = (attendee("YP-1", enrolled=False), attendee("YP-2", enrolled=False))
    findings = check_session(group, attendees=register)
    assert [f.rule for f in findings] == ["not_enrolled", "not_enrolled"]
    assert "YP-1" in findings[0].message and "YP-2" in findings[1].message


def test_double_booking_is_a_warning():
    findings = check_session(attendees=(attendee(clashes=["s9"]),))
    assert rules_of(findings) == {("attendees", "double_booked")}
    assert not has_errors(findings)
    assert (
        check_session(attendees=(attendee(status="absent", clashes=["s9"]), attendee("YP-2"))) == []
    )


def test_attendee_status_code_list():
    findings = check_session(attendees=(attendee(status="asleep"),))
    assert ("attendees", "code_list") in rules_of(findings)


def test_cancelled_session_needs_a_note():
    findings = check_session(session(status="cancelled"), attendees=())
    assert rules_of(findings) == {("notes", "required")}


# --- responses -------------------------------------------------------------------------------


def check_response(r=None, measure_id="youth_confidence", e=None, framework=MENTORING):
    return validate_response(
        r or response(measure_id),
        measure=CATALOG.measure(measure_id),
        framework=framework,
        enrolment=enrolment() if e is None else e,
        today=TODAY,
    )


def test_valid_response_has_no_findings():
    assert check_response() == []


def test_measure_must_belong_to_the_framework():
    outreach = CATALOG.framework("detached_outreach")
    r = response("swemwbs", answers=[3] * 7)
    findings = check_response(r, "swemwbs", framework=outreach)
    assert ("measure_id", "code_list") in rules_of(findings)


def test_timepoint_must_be_allowed_for_the_measure():
    r = response("swemwbs", timepoint="review", answers=[3] * 7)
    findings = check_response(r, "swemwbs")
    assert rules_of(findings) == {("timepoint", "code_list")}


def test_completed_on_not_in_future():
    findings = check_response(response(completed_on=date(2025, 6, 2)))
    assert ("completed_on", "future_date") in rules_of(findings)


@pytest.mark.parametrize(
    ("completed", "ok"),
    [
        (date(2025, 1, 5), False),
        (date(2025, 1, 6), True),
        (date(2025, 2, 17), True),
        (date(2025, 2, 18), False),
    ],
)
def test_baseline_window_edges(completed, ok):
    # mentoring baseline: 14 days before to 28 days after the start date (20 January 2025)
    findings = check_response(response(completed_on=completed))
    assert (("completed_on", "timepoint_window") in rules_of(findings)) is not ok
    assert not has_errors(findings)
    if not ok:
        assert "6 January 2025 to 17 February 2025" in findings[0].message


@pytest.mark.parametrize(
    ("completed", "ok"),
    [
        (date(2025, 4, 2), False),
        (date(2025, 4, 3), True),
        (date(2025, 5, 15), True),
        (date(2025, 5, 16), False),
    ],
)
def test_exit_window_is_relative_to_end_date(completed, ok):
    e = enrolment(end_date=date(2025, 5, 1), exit_reason="completed")
    findings = check_response(response(timepoint="exit", completed_on=completed), e=e)
    assert (("completed_on", "timepoint_window") in rules_of(findings)) is not ok


def test_exit_without_end_date_warns():
    findings = check_response(response(timepoint="exit", completed_on=date(2025, 5, 1)))
    assert rules_of(findings) == {("completed_on", "timepoint_window")}
    assert "end date" in findings[0].message


def test_answer_count_and_range_are_errors():
    findings = check_response(response(answers=[4, 4, 3, 2]))
    assert rules_of(findings) == {("answers", "range")}
    assert "5 questions but 4 answers" in findings[0].message
    findings = check_response(response(answers=[4, 4, 3, 2, 6]))
    assert rules_of(findings) == {("answers", "range")}
    assert has_errors(findings)


def test_too_many_blanks_is_a_warning():
    assert check_response(response(answers=[4, 4, None, 2, 5])) == []
    findings = check_response(response(answers=[4, None, None, 2, 5]))
    assert rules_of(findings) == {("answers", "missing_items")}
    assert not has_errors(findings)
    sdq = [1] * 25
    for number in (3, 8, 13):
        sdq[number - 1] = None
    findings = check_response(response("sdq_s11_17", answers=sdq), "sdq_s11_17")
    assert rules_of(findings) == {("answers", "missing_items")}
    assert (
        "Emotional symptoms" in findings[0].message and "Total difficulties" in findings[0].message
    )


def test_response_required_fields():
    findings = check_response(response(timepoint=None, completed_on=None, answers=None))
    assert {
        ("timepoint", "required"),
        ("completed_on", "required"),
        ("answers", "required"),
    } <= rules_of(findings)


def test_has_errors():
    assert not has_errors([])
    assert not has_errors([Finding("warning", "x", "m", "r")])
    assert has_errors([Finding("warning", "x", "m", "r"), Finding("error", "y", "m", "r")])
