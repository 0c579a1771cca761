"""The Returns page: preview the return, save it, export records, template and import."""

from __future__ import annotations

import openpyxl
import pytest
from PySide6.QtCore import Qt

from tests.spreadsheets.helpers import filled_template, person, snapshot
from tests.ui.conftest import wait_idle

pytestmark = pytest.mark.gui


@pytest.fixture
def page(unlocked_ctx, qtbot):
    from ui.pages.returns import ReturnsPage
    from vrp_desktop.services import demo

    demo.generate(unlocked_ctx.ws, participants=120, sessions=600, seed=2)
    widget = ReturnsPage(unlocked_ctx)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    wait_idle(qtbot, unlocked_ctx)
    # opening the page works nothing out: the return is built only when the person asks
    assert widget.tabs.count() == 0 and widget.data is None
    assert "press Preview" in widget.status.text()
    qtbot.keyClick(widget, "p", modifier=Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: widget.tabs.count() == 6, timeout=20000)
    return widget


def test_preview_shows_every_sheet_and_saves(page, qtbot, tmp_path):
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Cover",
        "Reach",
        "Delivery",
        "Outcomes",
        "Data quality",
        "Notes",
    ]
    reach = page.tabs.widget(1)
    assert reach.rowCount() > 20 and reach.horizontalHeaderItem(0).text() == "Measure"
    shown = {
        reach.item(i, j).text()
        for i in range(reach.rowCount())
        for j in range(3, reach.columnCount())
    }
    assert shown <= {"0", "<5", "[c]"} | {f"{n:,}" for n in range(5, 100000)}
    out = tmp_path / "return.xlsx"
    page.save_to(out)
    qtbot.waitUntil(lambda: "Saved" in page.status.text(), timeout=20000)
    assert openpyxl.load_workbook(out).sheetnames[0] == "Cover"
    page.threshold.setValue(3)
    assert not page.save_button.isEnabled()
    page.preview()
    qtbot.waitUntil(lambda: page.save_button.isEnabled(), timeout=20000)
    assert page.data.threshold == 3


def test_export_records_and_template(page, qtbot, tmp_path):
    page.export_to(tmp_path / "records.xlsx")
    qtbot.waitUntil(lambda: "Exported" in page.status.text(), timeout=20000)
    wb = openpyxl.load_workbook(tmp_path / "records.xlsx", read_only=True)
    header = next(wb["Participants"].iter_rows(values_only=True))
    assert "First name" not in header and "Pseudonym" in header
    page.save_template(tmp_path / "template.xlsx")
    qtbot.waitUntil(lambda: "Template saved" in page.status.text(), timeout=10000)
    assert (tmp_path / "template.xlsx").is_file()


def test_import_shows_bad_rows_before_importing(page, qtbot, tmp_path):
    path = filled_template(
        tmp_path / "register.xlsx",
        [person(0), person(1, Gender="Boy"), person(2)],
    )
    before = snapshot(page.ctx.ws)
    page.check_import(path)
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=20000)
    assert snapshot(page.ctx.ws) == before  # checking changed nothing
    assert page.dialog.table.rowCount() == 1
    assert "Gender" in page.dialog.table.item(0, 2).text()
    assert page.dialog.preview.rowCount() == 2
    assert "new young person" in page.dialog.preview.item(0, 2).text()
    assert page.dialog.import_button.text() == "Import 2 good rows"
    page.dialog.accept()
    qtbot.waitUntil(lambda: "Imported 2 young people" in page.status.text(), timeout=20000)
    wait_idle(qtbot, page.ctx)
    assert snapshot(page.ctx.ws)["participant"] == before["participant"] + 2
