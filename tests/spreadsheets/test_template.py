"""The import template: drop-down lists from the code lists, and instructions."""

from __future__ import annotations

import datetime as dt

import openpyxl

from vrp_desktop import codes
from vrp_desktop.cli import main
from vrp_desktop.spreadsheets.template import write_template


def test_template_has_drop_downs_from_the_code_lists(tmp_path):
    path = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Instructions",
        "Register",
        "Sessions",
        "Attendance",
        "Questionnaires",
        "Lists",
    ]
    assert wb["Lists"].sheet_state == "hidden"
    register = wb["Register"]
    assert register["A1"].value == "First name *"
    assert register.freeze_panes == "A2"
    validations = {str(v.sqref).split(":")[0]: v for v in register.data_validations.dataValidation}
    gender = validations["E2"]
    assert gender.type == "list" and gender.formula1 == "'Lists'!$A$2:$A$7"
    lists = wb["Lists"]
    column = [c.value for c in lists["A"]][1:]
    assert column[: len(codes.GENDERS)] == list(codes.GENDERS.values())
    ethnicity = [c.value for c in lists["B"] if c.value][1:]
    assert len(ethnicity) == 20 and "White: Irish" in ethnicity
    assert any("dry-run" in (c.value or "") for c in wb["Instructions"]["A"])


def test_template_for_one_framework_has_its_referral_sources(tmp_path):
    path = write_template(tmp_path / "t.xlsx", "mentoring")
    lists = openpyxl.load_workbook(path)["Lists"]
    header = [c.value for c in lists[1]]
    referral = [
        c.value
        for c in lists[openpyxl.utils.get_column_letter(header.index("referral") + 1)]
        if c.value
    ][1:]
    assert "Youth offending team" in referral
    assert lists.cell(2, header.index("framework") + 1).value == "mentoring"


def test_cli_template_and_unknown_framework(tmp_path, capsys):
    assert main(["import", "template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "t.xlsx").is_file()
    assert (
        main(["import", "template", "--out", str(tmp_path / "u.xlsx"), "--framework", "nope"]) == 1
    )
    assert "mentoring" in capsys.readouterr().err
    assert not (tmp_path / "u.xlsx").exists()


def _sessions_headings(path) -> list[str]:
    return [c.value for c in openpyxl.load_workbook(path)["Sessions"][1]]


def test_sessions_sheet_marks_what_the_frameworks_require(tmp_path, workspace):
    """Activities are required for mentoring sessions but not for detached work: the heading
    says so before a row is refused for it."""
    assert "Activities *" in _sessions_headings(write_template(tmp_path / "m.xlsx", "mentoring"))
    assert "Activities" in _sessions_headings(
        write_template(tmp_path / "d.xlsx", "detached_outreach")
    )
    every = write_template(tmp_path / "all.xlsx")
    assert "Activities (*)" in _sessions_headings(every)
    guide = [c.value or "" for c in openpyxl.load_workbook(every)["Instructions"]["A"]]
    said = next(line for line in guide if "(*)" in line)
    assert "Activities, for Trusted-adult mentoring" in said
    assert "Detached" not in said

    # the marked heading is still the Activities column to the importer
    from tests.spreadsheets.helpers import person
    from tests.spreadsheets.test_migration import _sheet_rows
    from vrp_desktop.spreadsheets.importer import import_xlsx

    wb = openpyxl.load_workbook(every)
    session = {
        "Session": "S1", "Intervention": "Trusted Mentors", "Date": dt.date(2026, 1, 15),
        "Start time": "18:00", "Duration (minutes)": 60, "Session type": "Group",
        "Mode": "in person", "Location type": "Community centre",
    }  # fmt: skip
    young = person(0)
    _sheet_rows(wb["Register"], [], [young])
    who = {k: young[k] for k in ("First name", "Last name", "Date of birth")}
    _sheet_rows(wb["Attendance"], [], [{"Session": "S1", **who, "Attendance": "Attended"}])
    _sheet_rows(wb["Sessions"], [], [session])
    wb.save(tmp_path / "no-activities.xlsx")
    refused = import_xlsx(workspace, tmp_path / "no-activities.xlsx", dry_run=True)
    assert [b.message() for b in refused.bad] == [
        "Sessions row 2: Activities: Enter the activities.",
        "Attendance row 2: its session (Sessions row 2) has problems",
    ]
    _sheet_rows(wb["Sessions"], [], [{**session, "Activities": "Goal setting"}])
    wb.save(tmp_path / "with-activities.xlsx")
    taken = import_xlsx(workspace, tmp_path / "with-activities.xlsx")
    assert taken.imported is not None, [b.message() for b in taken.bad]
    assert taken.imported["sessions"] == 1


def test_a_workspace_template_names_the_interventions_that_need_a_column(tmp_path, workspace):
    from vrp_desktop.services import interventions
    from vrp_desktop.spreadsheets.template import write_workspace_template

    mixed = write_workspace_template(workspace, tmp_path / "mixed.xlsx")
    assert "Activities (*)" in _sessions_headings(mixed)
    guide = [c.value or "" for c in openpyxl.load_workbook(mixed)["Instructions"]["A"]]
    said = next(line for line in guide if "(*)" in line)
    assert said.endswith("Activities, for A&E Navigators, Friday Football and Trusted Mentors.")

    # once the detached team is closed, every open intervention needs activities
    detached = next(
        i for i in interventions.list_interventions(workspace) if i["name"] == "Detached Team"
    )
    interventions.close_intervention(workspace, detached["id"])
    assert "Activities *" in _sessions_headings(
        write_workspace_template(workspace, tmp_path / "all-need.xlsx")
    )
