"""The import check window: a preview of every change before Import, and every problem."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from PySide6.QtWidgets import QLabel

from tests.spreadsheets.helpers import filled_template, person, snapshot
from ui.pages.import_dialog import ImportCheckDialog
from vrp_desktop.spreadsheets.importer import import_xlsx


def test_preview_lists_updates_and_problems_before_anything_changes(workspace, qtbot, tmp_path):
    import_xlsx(workspace, filled_template(tmp_path / "a.xlsx", [person(k) for k in range(3)]))
    leaving = {"End date": dt.date(2026, 3, 2), "Exit reason": "Other reason"}
    rows = [
        person(0, **leaving, **{"Exit detail": "moved to college"}),
        person(1, Gender="Non-binary"),
        person(2),
        person(3, Intervention="A&E Navigators", **{"Referral source": "Police (other)"}),
        person(4, Gender="Boy", **{"Referral source": "Hospital emergency department"}),
    ]
    path = filled_template(tmp_path / "b.xlsx", rows)
    before = snapshot(workspace)
    result = import_xlsx(workspace, path, dry_run=True)
    assert snapshot(workspace) == before
    dialog = ImportCheckDialog(result)
    qtbot.addWidget(dialog)
    preview = dialog.preview
    assert preview.rowCount() == 3  # the unchanged row is counted, not listed
    texts = [[preview.item(i, j).text() for j in range(4)] for i in range(3)]
    assert texts[0][:3] == ["Register", "2", texts[0][2]] and "update enrolment" in texts[0][2]
    assert "Exit reason: (blank) → Other reason" in texts[0][3]
    assert "Exit detail: (blank) → (changed)" in texts[0][3]  # free text is not shown
    assert "1 row adds records, 2 rows update" in dialog.findChild(QLabel).text()
    assert "Gender: Female → Non-binary" in texts[1][3]
    assert texts[2][2] == "new young person and enrolment"
    assert dialog.table.rowCount() == 1
    problem = dialog.table.item(0, 2).text()
    assert "Gender 'Boy'" in problem and "not allowed for 'Trusted Mentors'" in problem
    assert dialog.import_button.text() == "Import 3 good rows"
    assert dialog.tabs.tabText(0) == "What will change (3)"
    shots = os.environ.get("VRP_SHOTS")
    if shots:  # screenshots for a person to look at; not part of the assertion
        Path(shots).mkdir(parents=True, exist_ok=True)
        for w, h in ((1280, 720), (1366, 768)):
            dialog.resize(min(w - 80, 1000), min(h - 120, 560))
            dialog.show()
            qtbot.wait(50)
            dialog.grab().save(str(Path(shots) / f"import-preview-{w}x{h}.png"))
            dialog.tabs.setCurrentIndex(1)
            dialog.grab().save(str(Path(shots) / f"import-problems-{w}x{h}.png"))
            dialog.tabs.setCurrentIndex(0)
