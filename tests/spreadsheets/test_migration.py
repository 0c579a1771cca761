"""Migrating a provider's own register: each framework's own words, every problem of a row at
once, updates to people and enrolments already there (with a preview), and .csv files."""

from __future__ import annotations

import datetime as dt

import openpyxl
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.spreadsheets.helpers import HEADERS, filled_template, headings, person, snapshot
from vrp_desktop.cli import main
from vrp_desktop.spreadsheets.importer import import_xlsx, imported_summary
from vrp_desktop.spreadsheets.template import COLUMNS, write_template

SELF = {"Referral source": "Self-referral"}


def test_self_referral_and_each_frameworks_own_labels_import(workspace, tmp_path):
    rows = [
        person(0, Intervention="Friday Football", **SELF),  # its own label is "... or walk-in"
        person(1, Intervention="Trusted Mentors", **SELF),
        person(2, Intervention="A&E Navigators", **SELF),
        person(3, Intervention="Detached Team", **SELF),
        person(
            4, Intervention="Friday Football", **{"Referral source": "self-referral OR walk-in"}
        ),
        person(5, Intervention="A&E Navigators", **{"Referral source": "Police (other)"}),
        person(6, Intervention="A&E Navigators", **{"Referral source": "hospital_ed"}),
        person(7, Intervention="A&E Navigators", **{"Referral source": "Police custody"}),
        person(
            8,
            Intervention="A&E Navigators",
            **{"Referral source": "Hospital  Emergency Department"},
        ),
    ]
    path = filled_template(tmp_path / "r.xlsx", rows)
    result = import_xlsx(workspace, path)
    assert result.bad == [], [b.message() for b in result.bad]
    assert result.imported["participants"] == 9
    with workspace.engine.connect() as conn:
        got = sorted(
            conn.execute(
                text(
                    "SELECT i.name, e.referral_source FROM enrolment e JOIN intervention i "
                    "ON i.id = e.intervention_id"
                )
            ).all()
        )
    assert got.count(("A&E Navigators", "custody")) == 1
    assert got.count(("A&E Navigators", "hospital_ed")) == 2
    assert got.count(("A&E Navigators", "police")) == 1
    assert sum(source == "self" for _, source in got) == 5


def test_every_problem_of_a_row_at_once_in_plain_words(workspace, tmp_path):
    rows = [
        person(
            0,
            Intervention="Trusted Mentors",
            Gender="Boy",
            **{
                "Referral source": "Hospital emergency department",  # A&E's, not mentoring's
                "Date of birth": "31/02/2011",
                "Consent date": None,  # consent given needs a date
                "Referral date": None,  # required
                "End date": dt.date(2026, 2, 1),  # needs an exit reason
            },
        ),
    ]
    result = import_xlsx(workspace, filled_template(tmp_path / "r.xlsx", rows), dry_run=True)
    (bad,) = result.bad
    text_ = " | ".join(bad.reasons)
    assert "Date of birth is not a date" in text_
    assert "Gender 'Boy' is not one of the choices" in text_
    assert "is on the list, but is not allowed for 'Trusted Mentors'" in text_
    assert "Consent date" in text_ and "Referral date" in text_ and "Exit reason" in text_
    assert len(bad.reasons) == 6, bad.reasons
    for raw in ("_id", "referral_date", "consent_date", "exit_reason", "date_of_birth"):
        assert raw not in text_


def test_an_other_exit_with_its_detail_imports(workspace, tmp_path):
    base = {"End date": dt.date(2026, 3, 1), "Exit reason": "Other reason"}
    rows = [person(0, **base, **{"Exit detail": "Family moved abroad"}), person(1, **base)]
    result = import_xlsx(workspace, filled_template(tmp_path / "r.xlsx", rows))
    assert result.imported["enrolments"] == 1
    assert [b.row for b in result.bad] == [3]
    assert "Exit detail" in result.bad[0].reasons[0]
    with workspace.engine.connect() as conn:
        assert conn.execute(text("SELECT exit_reason, exit_detail FROM enrolment")).one() == (
            "other",
            "Family moved abroad",
        )


def test_updates_by_name_or_reference_with_a_preview(workspace, tmp_path, capsys, monkeypatch):
    first = filled_template(tmp_path / "first.xlsx", [person(0), person(1)])
    assert import_xlsx(workspace, first).imported["participants"] == 2
    with workspace.engine.connect() as conn:
        ref = conn.execute(
            text("SELECT reference FROM participant WHERE first_name = :n"),
            {"n": person(1)["First name"]},
        ).scalar()
    leaving = {"End date": dt.date(2026, 3, 2), "Exit reason": "Completed the programme"}
    update_by_name = person(0, **leaving)
    update_by_ref = {h: None for h in HEADERS} | {
        "Reference": ref.lower(),
        "Intervention": "Trusted Mentors",
        "Start date": dt.date(2026, 1, 10),
        "Gender": "Prefer not to say",
    }
    second = filled_template(
        tmp_path / "second.xlsx",
        [update_by_name, update_by_ref, person(2), person(0, Intervention="Detached Team")],
    )
    before, raw = snapshot(workspace), second.read_bytes()
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    args = ["import", "xlsx", str(workspace.folder), str(second), "--dry-run"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert snapshot(workspace) == before and second.read_bytes() == raw
    assert "Row 2: update enrolment" in out and "End date (blank) → 02/03/2026" in out
    assert "Exit reason (blank) → Completed the programme" in out
    assert f"Row 3: update young person ({ref})" in out
    assert "Gender Female → Prefer not to say" in out
    assert "Row 4: new young person and enrolment" in out
    assert "Row 5: new enrolment" in out
    assert "2 rows add records, 2 rows update records already there, 0 rows change nothing" in out
    assert "Amara" not in out
    assert main(args[:-1]) == 0
    out = capsys.readouterr().out
    assert (
        "Imported 1 young person and 2 enrolments, and updated 1 young person and 1 "
        "enrolment, in one step." in out
    ), out
    after = snapshot(workspace)
    assert after["participant"] == before["participant"] + 1
    assert after["enrolment"] == before["enrolment"] + 2
    assert after["audit_event"] == before["audit_event"] + 1
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT end_date, exit_reason, version FROM enrolment WHERE end_date IS NOT NULL")
        ).all()
        gender = conn.execute(
            text("SELECT gender, version FROM participant WHERE reference = :r"), {"r": ref}
        ).one()
    assert [tuple(r) for r in rows] == [("2026-03-02", "completed", 2)]
    assert tuple(gender) == ("prefer_not_to_say", 2)
    again = import_xlsx(workspace, second, dry_run=True)
    assert again.bad == [] and again.count("unchanged") == 4


def test_an_update_row_leaves_blank_what_it_does_not_change(workspace, tmp_path):
    """The Instructions say blank cells keep what is there: an exit for someone already here
    needs only who they are and the exit, not the enrolment's start date again; a new
    postcode needs no intervention at all. Someone with two enrolments is asked which."""
    first = filled_template(
        tmp_path / "first.xlsx",
        [person(0), person(1), person(2), person(2, Intervention="Detached Team")],
    )
    assert import_xlsx(workspace, first).imported["enrolments"] == 4
    refs = {}
    with workspace.engine.connect() as conn:
        for n in (0, 1, 2):
            refs[n] = conn.execute(
                text("SELECT reference FROM participant WHERE first_name = :n"),
                {"n": person(n)["First name"]},
            ).scalar()
    blank = {h: None for h in HEADERS}
    leaving = blank | {
        "Reference": refs[0],
        "End date": dt.date(2026, 3, 2),
        "Exit reason": "Completed the programme",
    }
    moved = blank | {"Reference": refs[1], "Postcode": "CV1 2AB"}
    which = blank | {
        "Reference": refs[2],
        "End date": dt.date(2026, 3, 2),
        "Exit reason": "Moved away",
    }
    second = filled_template(tmp_path / "second.xlsx", [leaving, moved, which])
    got = import_xlsx(workspace, second)
    assert [bad.row for bad in got.bad] == [4], [bad.message() for bad in got.bad]
    assert any("has 2 enrolments" in p and "Start date" in p for p in got.bad[0].reasons)
    assert got.imported.get("participants_updated") == 1
    assert got.imported.get("enrolments_updated") == 1
    with workspace.engine.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT p.reference, e.end_date, e.exit_reason FROM enrolment e "
                "JOIN participant p ON p.id = e.participant_id WHERE e.end_date IS NOT NULL"
            )
        ).all()
        district = conn.execute(
            text("SELECT postcode_district FROM participant WHERE reference = :r"),
            {"r": refs[1]},
        ).scalar()
    assert [tuple(r) for r in ended] == [(refs[0], "2026-03-02", "completed")]
    assert district == "CV1"


def test_csv_in_windows_encoding_and_us_dates(workspace, tmp_path):
    header = ",".join(HEADERS)
    lines = [header]
    for n, (born, start) in enumerate(
        [("03/14/2012", "01/12/2026"), ("12/25/2011", "01/13/2026"), ("07/04/2012", "01/20/2026")]
    ):
        row = person(n, **{"Date of birth": born, "Start date": start, "Referral date": start})
        row["Consent date"] = start
        row["First name"] = f"Zoë{n}"
        lines.append(",".join("" if row[h] is None else str(row[h]) for h in HEADERS))
    path = tmp_path / "register.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    raw = path.read_bytes()
    result = import_xlsx(workspace, path)
    assert result.bad == [], [b.message() for b in result.bad]
    assert result.date_order == "month/day/year" and result.engine == "csv"
    assert result.imported["participants"] == 3 and path.read_bytes() == raw
    with workspace.engine.connect() as conn:
        born = sorted(conn.execute(text("SELECT date_of_birth FROM participant")).scalars())
        names = set(conn.execute(text("SELECT first_name FROM participant")).scalars())
    assert born == ["2011-12-25", "2012-03-14", "2012-07-04"]
    assert names == {"Zoë0", "Zoë1", "Zoë2"}


def test_template_is_true_to_the_importer(workspace, tmp_path):
    path = write_template(tmp_path / "t.xlsx", interventions=["Trusted Mentors", "A&E Navigators"])
    wb = openpyxl.load_workbook(path)
    register = wb["Register"]
    heads = [c.value for c in register[1]]
    assert "Referral date *" in heads and "Exit detail" in heads and "Reference" in heads
    required = {c.header for c in COLUMNS if c.required}
    assert required == {h.removesuffix(" *") for h in heads if h.endswith(" *")}
    col = openpyxl.utils.get_column_letter(heads.index("Intervention *") + 1)
    validations = {str(v.sqref).split(":")[0]: v for v in register.data_validations.dataValidation}
    lists = wb["Lists"]
    ref = validations[f"{col}2"].formula1.split("!")[1].replace("$", "")
    offered = [c.value for row in lists[ref] for c in row]
    assert offered == ["A&E Navigators", "Trusted Mentors"]
    referral = [c.value for c in lists[1]].index("referral") + 1
    labels = [lists.cell(r, referral).value for r in range(2, 60)]
    assert "Self-referral" in labels and "Self-referral or walk-in" in labels
    assert "Police (other)" in labels
    # an empty template with only its header is read as having no rows, not as an error
    result = import_xlsx(workspace, path, dry_run=True)
    assert result.rows_read == 0 and result.bad == []


def _sheet_rows(sheet, header: list[str], rows: list[dict]) -> None:
    heads = headings(sheet)
    for i, row in enumerate(rows, start=2):
        for key, value in row.items():
            sheet.cell(i, heads.index(key) + 1, value)
    assert all(k in heads for k in header)


def test_sessions_registers_and_questionnaires_in_one_workbook(workspace, tmp_path):
    from vrp_desktop.spreadsheets.template import build_template

    earlier = import_xlsx(workspace, filled_template(tmp_path / "a.xlsx", [person(2)]))
    assert earlier.imported["participants"] == 1
    with workspace.engine.connect() as conn:
        ref = conn.execute(text("SELECT reference FROM participant")).scalar()
    p0, p1 = person(0), person(1, **{"Start date": dt.date(2026, 1, 14)})
    wb = build_template()
    _sheet_rows(wb["Register"], [], [p0, p1])
    who0 = {k: p0[k] for k in ("First name", "Last name", "Date of birth")}
    who1 = {k: p1[k] for k in ("First name", "Last name", "Date of birth")}
    group = {
        "Intervention": "Trusted Mentors",
        "Start time": "18:00",
        "Duration (minutes)": 60,
        "Session type": "Group",
        "Mode": "in person",
        "Location type": "Community centre",
        "Activities": "Goal setting",
    }
    _sheet_rows(
        wb["Sessions"],
        ["Session", "Date"],
        [
            {
                "Session": "S1",
                "Date": dt.date(2026, 1, 15),
                "Activities": "Goal setting; conflict resolution",
                **group,
            },
            {"Session": "S2", "Date": "12/01/2026", **group, "Start time": dt.time(17, 30)},
            {"Session": "S3", "Date": dt.date(2026, 1, 16), **group, "Duration (minutes)": "a lot"},
            {"Session": "S4", "Date": dt.date(2026, 1, 12), **group, "Start time": "19:00"},
        ],
    )
    _sheet_rows(
        wb["Attendance"],
        ["Session"],
        [
            {"Session": "s1", **who0, "Attendance": "Attended"},
            {"Session": "S1", **who1, "Attendance": "absent"},
            {"Session": "S1", "Reference": ref, "Attendance": "Arrived late"},
            {"Session": "S2", **who0, "Attendance": "Attended"},
            {"Session": "S3", **who0, "Attendance": "Attended"},  # its session is refused
            {"Session": "S4", **who1, "Attendance": "Attended"},  # before they started
            {"Session": "S9", **who0, "Attendance": "Attended"},  # no such session
        ],
    )
    sdq = {f"Q{n}": n % 3 for n in range(1, 26)}
    _sheet_rows(
        wb["Questionnaires"],
        ["Questionnaire"],
        [
            {**who0, "Intervention": "Trusted Mentors", "Timepoint": "Baseline",
             "Questionnaire": "Strengths and Difficulties Questionnaire (self-report, 11-17)",
             "Completed on": dt.date(2026, 1, 12), **sdq},
            {**who1, "Intervention": "Trusted Mentors", "Timepoint": "baseline",
             "Questionnaire": "sdq_s11_17", "Completed on": dt.date(2026, 1, 15),
             **sdq, "Q3": "Strongly agree"},
            {**who1, "Intervention": "Trusted Mentors", "Timepoint": "Review",
             "Questionnaire": "SWEMWBS", "Completed on": dt.date(2026, 1, 15),
             **{f"Q{n}": 3 for n in range(1, 8)}},
        ],
    )  # fmt: skip
    path = tmp_path / "all.xlsx"
    wb.save(path)
    before, raw = snapshot(workspace), path.read_bytes()
    check = import_xlsx(workspace, path, dry_run=True)
    assert snapshot(workspace) == before and path.read_bytes() == raw
    bad = {(b.kind, b.row): " ".join(b.reasons) for b in check.bad}
    assert sorted(bad) == [
        ("Attendance", 6),
        ("Attendance", 7),
        ("Attendance", 8),
        ("Questionnaires", 3),
        ("Questionnaires", 4),
        ("Sessions", 4),
        ("Sessions", 5),
    ], (bad, [c.message() for c in check.changes])
    assert "Duration (minutes) is not a number" in bad[("Sessions", 4)]
    assert "enrolled" in bad[("Sessions", 5)]
    assert "Sessions row 4" in bad[("Attendance", 6)]
    assert "not on the Sessions sheet" in bad[("Attendance", 8)]
    assert "Q3 'Strongly agree' is not one of the answers" in bad[("Questionnaires", 3)]
    assert "is collected at: baseline, exit" in bad[("Questionnaires", 4)]
    assert check.count("new") == 5  # two people, two sessions, one questionnaire
    done = import_xlsx(workspace, path)
    assert {k: done.imported[k] for k in ("participants", "enrolments", "sessions")} == {
        "participants": 2,
        "enrolments": 2,
        "sessions": 2,
    }
    assert done.imported["attendances"] == 4 and done.imported["responses"] == 1
    assert imported_summary(done.imported) == (
        "Imported 2 young people, 2 enrolments, 2 sessions, 4 register lines and "
        "1 questionnaire in one step."
    )
    with workspace.engine.connect() as conn:
        states = conn.execute(text("SELECT sync_state, findings FROM session")).all()
        late = conn.execute(
            text(
                "SELECT a.status FROM attendance a JOIN participant p ON p.id = a.participant_id"
                " WHERE p.reference = :r"
            ),
            {"r": ref},
        ).scalar()
        scored = conn.execute(text("SELECT scores, sync_state FROM outcome_response")).one()
    assert late == "late"
    assert all(state == "valid" for state, _ in states), states
    assert scored.sync_state == "valid" and scored.scores != "{}"
    again = import_xlsx(workspace, path, dry_run=True)
    assert again.count("new") == 0 and again.count("unchanged") == 5


def test_a_refused_register_row_is_named_by_the_rows_that_need_it(workspace, tmp_path):
    """One mistake on the Register sheet should read as one mistake: the person's register
    lines say their Register row was not imported, not that nobody of that name exists."""
    from vrp_desktop.spreadsheets.template import build_template

    bad = person(0, Gender="Boy")
    wb = build_template()
    _sheet_rows(wb["Register"], [], [bad])
    who = {k: bad[k] for k in ("First name", "Last name", "Date of birth")}
    _sheet_rows(
        wb["Sessions"],
        ["Session", "Date"],
        [
            {"Session": "S1", "Date": dt.date(2026, 1, 15), "Intervention": "Trusted Mentors",
             "Start time": "18:00", "Duration (minutes)": 60, "Session type": "Group",
             "Mode": "in person", "Location type": "Community centre"},
        ],
    )  # fmt: skip
    _sheet_rows(wb["Attendance"], ["Session"], [{"Session": "S1", **who, "Attendance": "Attended"}])
    path = tmp_path / "one-mistake.xlsx"
    wb.save(path)
    check = import_xlsx(workspace, path, dry_run=True)
    reasons = {(b.kind, b.row): " ".join(b.reasons) for b in check.bad}
    assert "Gender 'Boy'" in reasons[("", 2)]
    assert "Their row on the Register sheet (row 2) was not imported" in reasons[("Attendance", 2)]
    assert "Nobody with this name" not in " ".join(reasons.values())


def test_the_instructions_say_when_a_conditional_column_is_required(tmp_path):
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    said = {row[0]: row[1] for row in wb["Instructions"].iter_rows(values_only=True) if row[0]}
    assert said["Consent date"] == "Required when consent was given."
    assert said["Exit reason"] == "Required with an end date."


def test_cli_template_from_a_workspace_lists_its_interventions(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "t.xlsx"
    assert main(["import", "template", str(workspace.folder), "--out", str(out)]) == 0
    lists = openpyxl.load_workbook(out)["Lists"]
    column = [c.value for c in lists[1]].index("intervention") + 1
    names = [lists.cell(r, column).value for r in range(2, 7)]
    assert names == ["A&E Navigators", "Detached Team", "Friday Football", "Trusted Mentors", None]


def test_one_change_in_two_rows_is_made_once_and_capitals_change_nothing(workspace, tmp_path):
    import_xlsx(workspace, filled_template(tmp_path / "a.xlsx", [person(0)]))
    same = {"Gender": "Male"}
    rows = [
        person(0, **same),
        person(0, Intervention="Detached Team", **same),
        person(
            0,
            Intervention="A&E Navigators",
            **{"Last name": "  MENSAH ", "Referral source": "police (OTHER)"},
        ),
        person(0, Intervention="Friday Football", Gender="Other"),
    ]
    result = import_xlsx(workspace, filled_template(tmp_path / "b.xlsx", rows), dry_run=True)
    assert [b.row for b in result.bad] == [5], [b.message() for b in result.bad]
    assert "Row 2 changes this young person's details differently" in result.bad[0].message()
    assert [c.what.split(" (")[0] for c in result.changes] == [
        "update young person",
        "new enrolment",
        "new enrolment",
    ]
    assert result.changes[0].fields == [("Gender", "Female", "Male")]


def test_csv_with_semicolons_and_utf16_tabs(workspace, tmp_path):
    rows = [person(0), person(1, **{"Date of birth": "25/12/2011"})]
    for name, sep, encoding in (("semi.csv", ";", "utf-8-sig"), ("tabs.txt", "\t", "utf-16")):
        lines = [sep.join(HEADERS)]
        for row in rows:
            cells = []
            for h in HEADERS:
                value = row[h]
                if isinstance(value, dt.date):
                    value = value.strftime("%d/%m/%Y")
                cells.append("" if value is None else str(value))
            lines.append(sep.join(cells))
        path = tmp_path / name
        path.write_bytes("\r\n".join(lines).encode(encoding))
        result = import_xlsx(workspace, path, dry_run=True)
        assert result.bad == [] and result.good_rows == 2, [b.message() for b in result.bad]
        assert result.date_order == "day/month/year"


def test_the_summary_names_only_what_an_import_added():
    """A file of sessions alone is not "0 young people and 0 enrolments"."""
    sessions_only = {"participants": 0, "enrolments": 0, "sessions": 3, "attendances": 36}
    assert (
        imported_summary(sessions_only) == "Imported 3 sessions and 36 register lines in one step."
    )
    assert imported_summary({"participants": 1}) == "Imported 1 young person in one step."
    assert imported_summary({}) == imported_summary(None) == "Nothing was imported."
    updates = {"participants_updated": 1, "enrolments_updated": 3}
    assert imported_summary(updates) == "Updated 1 young person and 3 enrolments in one step."
