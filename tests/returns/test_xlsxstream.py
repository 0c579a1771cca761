"""The streamed workbook's styles and sheet settings, read back by openpyxl and LibreOffice."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from tests.returns.conftest import libreoffice_csv, soffice
from vrp_desktop.returns import xlsxstream
from vrp_desktop.returns.xlsxstyles import HEADER, Style

MARK = Style(color="8A4B00", horizontal="right")


def _book(path, *, sheet_name="Figures's [1]"):
    with path.open("wb") as handle:
        book = xlsxstream.Workbook(
            handle,
            title="Pack",
            subject="Year 2026-27",
            creator="VRP Desktop test",
            description="Small numbers suppressed.",
            created=dt.datetime(2026, 4, 2, 9, 30),
        )
        share = book.style(Style(number_format="0.0%"))
        assert book.style(Style(number_format="0.0%")) == share  # registered once
        assert book.style(Style()) == 0  # the plain style is no style
        sheet = book.sheet(sheet_name, [20, 12, 12], freeze=(4, 2), landscape=True)
        sheet.append(["Title"], [xlsxstream.TITLE_STYLE])
        sheet.append([])
        sheet.append([])
        sheet.styled_row(["Unit", "Share", "Mean"], book.style(HEADER))
        mean = book.style(Style(number_format="0.00", bold=True))
        mark = book.style(MARK)
        sheet.append(["All", 0.25, 1.234], [0, share, mean])
        sheet.append(["Small", "[c]", 3.0000000000000004], [0, mark, mean])
        sheet.append(["On", dt.date(2026, 4, 1), 10.0])
        sheet.auto_filter(4, 3, 7)
        sheet.close()
        plain = book.sheet("Plain", [10])
        plain.append(["x"], height=45)
        plain.close()
        book.close()
    return path


def test_styles_and_settings_read_back(tmp_path):
    wb = openpyxl.load_workbook(_book(tmp_path / "s.xlsx"))
    sheet = wb.worksheets[0]
    assert wb.sheetnames == ["Figures's _1_", "Plain"]
    assert sheet.freeze_panes == "C5" and wb["Plain"].freeze_panes == "A2"
    assert wb["Plain"].row_dimensions[1].height == 45 and sheet.row_dimensions[5].height is None
    assert sheet.auto_filter.ref == "A4:C7" and not wb["Plain"].auto_filter.ref
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToHeight == 0
    assert sheet.page_setup.paperSize == 9  # A4, not US Letter
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["A1"].font.sz == 14 and sheet["A1"].font.color.rgb == "FF1F5F5B"
    assert sheet["A4"].fill.fgColor.rgb == "FF1F5F5B" and sheet["A4"].font.color.rgb == "FFFFFFFF"
    assert sheet["B5"].number_format == "0.0%" and sheet["B5"].value == 0.25
    assert sheet["C5"].number_format == "0.00" and sheet["C5"].font.b
    assert sheet["B6"].value == "[c]" and sheet["B6"].alignment.horizontal == "right"
    assert sheet["B6"].font.color.rgb == "FF8A4B00"
    # 16 significant digits, a whole number as one: what openpyxl wrote before this writer
    assert sheet["C6"].value == 3 and sheet["C7"].value == 10
    assert (
        sheet["B7"].value == dt.datetime(2026, 4, 1) and sheet["B7"].number_format == "dd/mm/yyyy"
    )
    props = wb.properties
    assert (props.title, props.subject, props.creator) == (
        "Pack",
        "Year 2026-27",
        "VRP Desktop test",
    )
    assert props.description == "Small numbers suppressed."
    assert props.created == dt.datetime(2026, 4, 2, 9, 30)


def test_filter_name_points_at_the_filtered_range(tmp_path):
    import zipfile

    with zipfile.ZipFile(_book(tmp_path / "s.xlsx")) as z:
        workbook = z.read("xl/workbook.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert (
        '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        "'Figures''s _1_'!$A$4:$C$7</definedName>" in workbook
    )
    assert '<numFmt numFmtId="167" formatCode="0.0%"/>' in styles  # after the three fixed
    assert 'formatCode="0.00"' not in styles  # a format every spreadsheet knows by number
    assert styles.count("<xf ") == 1 + 9  # the cell style, then six fixed and three added


@pytest.mark.skipif(not soffice(), reason="LibreOffice is not installed")
def test_libreoffice_reads_the_styled_sheet(tmp_path):
    text = libreoffice_csv(_book(tmp_path / "s.xlsx"), tmp_path / "lo", sheet=1)
    # raw values (the helper asks for contents, not as shown), a share still as a percentage
    assert "Unit,Share,Mean\nAll,25%,1.234\nSmall,[c],3\nOn,04/01/2026,10\n" in text
