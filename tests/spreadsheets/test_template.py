"""The import template: drop-down lists from the code lists, and instructions."""

from __future__ import annotations

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
