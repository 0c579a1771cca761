"""Every page and main dialog of the screenshot tool, built in the light and the dark palette at
1280x720 (the smallest laptop screen we support), checked for what a person would trip over:
a page that scrolls sideways, a label cut off, a button out of reach. Building both palettes in
one run also guards the crash the tool used to hit when the palette changed under a live wizard.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QDialog,
    QLabel,
    QWidget,
)

from tools import screenshots

pytestmark = pytest.mark.gui

SIZE = (1280, 720)


def _shown(widget: QWidget, top: QWidget) -> bool:
    return widget.isVisibleTo(top) and widget.width() > 0 and widget.height() > 0


def _cut_labels(top: QWidget) -> list[str]:
    """Labels on one line whose text is wider than the label: the end is cut off."""
    cut = []
    for label in top.findChildren(QLabel):
        if not _shown(label, top) or label.wordWrap() or not label.text():
            continue
        if label.textFormat() != label.textFormat().PlainText and "<" in label.text():
            needed = label.sizeHint().width()
        else:
            needed = label.fontMetrics().horizontalAdvance(label.text().replace("&", ""))
            needed += 2 * label.margin() + 2 * label.frameWidth()
        if needed > label.contentsRect().width() + 2 * label.frameWidth() + 2:
            cut.append(f"label {label.text()[:40]!r} needs {needed}px, has {label.width()}px")
    return cut


def _sideways(top: QWidget) -> list[str]:
    """Scrolling areas that scroll sideways (a page must fit across a 1280-pixel screen)."""
    found = []
    for area in top.findChildren(QAbstractScrollArea):
        if not _shown(area, top):
            continue
        bar = area.horizontalScrollBar()
        if bar.isVisible() and bar.maximum() > 0:
            name = area.objectName() or area.accessibleName() or type(area).__name__
            found.append(f"{name} scrolls sideways by {bar.maximum()}px")
    return found


def _scrolled(widget: QWidget, top: QWidget) -> bool:
    """Inside a scrolling area (reached by scrolling, so it may lie beyond the screen)."""
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _out_of_reach(top: QWidget) -> list[str]:
    """Buttons not wholly inside the window (or dialog) on this screen size, and not in a
    scrolling area either: nothing brings them into view."""
    outside = []
    inside = top.rect()
    for button in top.findChildren(QAbstractButton):
        if not _shown(button, top) or button.window() is not top or _scrolled(button, top):
            continue
        corner = button.mapTo(top, QPoint(0, 0))
        rect = button.rect().translated(corner)
        if not inside.contains(rect):
            outside.append(f"button {button.text()!r} at {rect.getRect()} outside {SIZE}")
    return outside


def test_every_page_fits_1280x720_in_both_palettes(qapp, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VRP_STATE_DIR", str(tmp_path / "state"))  # the tool moves it per pass
    folders = screenshots.make_folders(tmp_path / "workspaces", participants=24, sessions=80)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()

    started = [time.perf_counter()]
    timings: list[str] = []

    def check(name: str, palette: str, size, target: QWidget, _window) -> None:
        now = time.perf_counter()
        timings.append(f"{palette} {name} {now - started[0]:.1f}s")
        started[0] = now
        seen.add((name, palette))
        found = _cut_labels(target) + _out_of_reach(target)
        if not isinstance(target, QDialog) or target.parent() is None:
            found += _sideways(target)
        if isinstance(target, QDialog):
            hint = target.minimumSizeHint()
            if hint.width() > size[0] or hint.height() > size[1] - screenshots.PANEL:
                found.append(f"needs at least {hint.width()}x{hint.height()}")
        problems.extend(f"{palette} {name}: {p}" for p in found)

    app = QApplication.instance()
    sheet, palette = app.styleSheet(), app.palette()
    try:
        for _ in screenshots.shoot(app, folders, tmp_path, None, sizes=(SIZE,), check=check):
            pass
    finally:  # the tests after this one see the application as they always have
        app.setStyleSheet(sheet)
        app.setPalette(palette)

    print("\n".join(timings))  # where the time goes, with -s
    names = {shot.name for shot in screenshots.SHOTS}
    assert seen == {(n, p) for n in names for p in screenshots.PALETTES}  # all built, no crash
    assert not problems, "\n".join(problems)


def test_the_checks_see_a_cut_label_a_sideways_scroll_and_a_button_off_screen(qtbot):
    """The checks above can fail: each finds the fault it is there for."""
    from PySide6.QtWidgets import QPushButton, QTableWidget

    page = QWidget()
    qtbot.addWidget(page)
    page.resize(*SIZE)
    label = QLabel("Strengths and Difficulties Questionnaire (self-report, 11-17)", page)
    label.setGeometry(10, 10, 120, 20)
    table = QTableWidget(3, 30, page)
    table.setObjectName("wide_table")
    table.setGeometry(10, 40, 300, 200)
    button = QPushButton("Save session", page)
    button.setGeometry(1250, 700, 120, 30)
    page.show()
    qtbot.waitExposed(page)
    assert _cut_labels(page) and "Strengths" in _cut_labels(page)[0]
    wide = table.horizontalScrollBar().maximum()
    assert _sideways(page) == [f"wide_table scrolls sideways by {wide}px"]
    assert _out_of_reach(page) and "Save session" in _out_of_reach(page)[0]
    label.setWordWrap(True)
    label.setFixedSize(120, 80)
    table.setColumnCount(2)
    button.move(1100, 600)
    qtbot.wait(10)
    assert _cut_labels(page) == [] and _sideways(page) == [] and _out_of_reach(page) == []
