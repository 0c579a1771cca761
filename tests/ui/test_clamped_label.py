"""A framework's description under its picker: at most three lines at the dialog's width, cut at
a word, with the whole text in the tooltip, and no gap left under a short one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from ui.forms.fields import ClampedLabel

pytestmark = pytest.mark.gui

LONG = " ".join(["Specialist youth workers meet young people in hospital after violence."] * 8)


@pytest.mark.parametrize("width", [320, 440, 560])
def test_a_long_text_is_cut_at_a_word_to_three_lines(qtbot, width):
    label = ClampedLabel(3)
    qtbot.addWidget(label)
    label.resize(width, label.height())
    label.show()
    label.set_full_text(LONG)
    shown = label.text()
    assert shown.endswith("…") and len(shown) < len(LONG)
    assert LONG.startswith(shown[:-1]) and LONG[len(shown) - 1] == " "  # a whole word
    assert label.toolTip() == LONG and label.full_text() == LONG
    metrics = label.fontMetrics()
    used = metrics.boundingRect(label.contentsRect(), Qt.TextFlag.TextWordWrap, shown)
    assert used.height() <= metrics.lineSpacing() * 3
    label.resize(width * 2, label.height())  # wider: more of the text comes back
    assert len(label.text()) > len(shown) or label.text() == LONG


def test_a_short_text_is_shown_whole_and_the_height_stays(qtbot):
    label = ClampedLabel(3)
    qtbot.addWidget(label)
    label.resize(400, label.height())
    height = label.height()
    label.set_full_text("Choose the framework.")
    assert label.text() == "Choose the framework."
    assert label.height() == height == label.fontMetrics().lineSpacing() * 3 + 2
