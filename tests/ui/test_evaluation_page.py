"""The Evaluation page: charts for the chosen period and unit, each with its one-line
explanation, no small number drawn, and Save writing the workbook and the PDF."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import openpyxl
import pytest

from tests.ui.conftest import wait_idle

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/eval13")


@pytest.fixture
def page(unlocked_ctx, qtbot):
    from ui.pages.evaluation import EvaluationPage
    from vrp_desktop.services import demo

    demo.generate(
        unlocked_ctx.ws,
        participants=160,
        sessions=900,
        seed=3,
        end=dt.datetime.combine(dt.date.today(), dt.time(18)),
    )
    widget = EvaluationPage(unlocked_ctx)
    qtbot.addWidget(widget)
    widget.resize(1366 - 190, 768 - 40)
    widget.show()
    qtbot.waitUntil(lambda: widget.pack is not None, timeout=120_000)  # a loaded CI machine
    return widget


def _labels(chart) -> list[str]:
    from PySide6.QtCharts import QBarCategoryAxis, QCategoryAxis

    out: list[str] = []
    for axis in chart.axes():
        if isinstance(axis, QBarCategoryAxis):
            out += axis.categories()
        elif isinstance(axis, QCategoryAxis):
            out += axis.categoriesLabels()
    return out


def test_charts_for_each_unit_without_small_numbers(page, qtbot):
    from PySide6.QtCharts import QAbstractBarSeries

    assert page.unit.count() >= 5  # everyone, the types, the interventions
    for index in range(page.unit.count()):
        page.unit.setCurrentIndex(index)
        for name, card in page.cards.items():
            chart = card.view.chart()
            assert chart.title(), name
            assert card.explanation.text() and "\n" not in card.explanation.text()
            for series in chart.series():
                if isinstance(series, QAbstractBarSeries) and name == "funnel":
                    values = [s.at(i) for s in series.barSets() for i in range(s.count())]
                    assert not [v for v in values if 0 < v < 5], values
            for label in _labels(chart):
                if ": " in label and name == "funnel":
                    # Qt draws a category as HTML: a raw "<5" was taken for a tag and vanished
                    assert "<" not in label, label
                    shown = html.unescape(label).rsplit(": ", 1)[1].replace(",", "")
                    assert shown in ("<5", "[c]", "n/a") or int(shown) == 0 or int(shown) >= 5


def test_readable_at_small_screens_and_screenshots(page, qtbot):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 720), (1366, 768)):
        page.resize(width - 190, height - 40)
        qtbot.wait(200)  # the charts are drawn again for the new size
        assert page.minimumSizeHint().width() <= width - 190  # fits beside the navigation
        assert page.width() == width - 190
        for card in page.cards.values():
            assert card.view.height() >= 270
            assert card.view.width() >= 450, (width, card.view.width())
        page.grab().save(str(SHOTS / f"evaluation-{width}x{height}.png"))
    assert (SHOTS / "evaluation-1366x768.png").stat().st_size > 10_000


def test_save_writes_workbook_and_pdf(page, qtbot, tmp_path):
    out = tmp_path / "pack.xlsx"
    page.save_to(out, with_pdf=True)
    qtbot.waitUntil(lambda: "Saved" in page.status.text(), timeout=60000)
    wb = openpyxl.load_workbook(out)
    assert {"Cover", "Attrition", "Change", "Notes", "Sources"} <= set(wb.sheetnames)
    pdf = tmp_path / "pack.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and os.stat(pdf).st_mode & 0o077 == 0
    wait_idle(qtbot, page.ctx)


def test_in_the_navigation(main_window, qtbot):
    from ui.pages.evaluation import EvaluationPage

    main_window.navigate("evaluation", "")
    assert isinstance(main_window.page("evaluation"), EvaluationPage)
    assert main_window.current_page_name() == "evaluation"


def test_page_module_does_not_load_scipy():
    """scipy takes seconds to load: it is loaded on the store thread, never by the window."""
    import subprocess
    import sys

    code = "import sys, ui.pages.evaluation, ui.evaluation_pdf; print('scipy' in sys.modules)"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr


def test_population_card_says_where_figures_come_from_then_draws_ratios(page, qtbot):
    import json

    from vrp_desktop.reference import population

    card = page.cards["population"]
    assert "import the VRP's pack" in card.view.chart().title()
    figures = {"gender": {"female": 4900, "male": 5100}}
    body = {
        "format": population.FORMAT,
        "kind": population.KIND,
        "vrp_id": "x",
        "version": 1,
        "issued_at": "2026-11-28T00:00:00Z",
        "title": "Residents 10-24",
        "source": "test",
        "base": "10-24",
        "tables": figures,
        "signature": "AA==",
    }  # fmt: skip  (installed as Sync's "Import VRP pack" stores it; install is tested there)

    def store(ws):
        with ws.unit() as session:
            ws.set_setting(session, population.SETTING, json.dumps(body))

    page.ctx.run_op(store, changes=("settings",))
    page.dimension.setCurrentIndex(page.dimension.findData("Gender"))
    qtbot.waitUntil(lambda: "against the population" in card.view.chart().title(), timeout=30000)
    labels = _labels(card.view.chart())
    assert any(label.startswith("Female") for label in labels)
    assert any(label.startswith("Male") for label in labels)
    assert not any(label.startswith("Non-binary") for label in labels)  # no population figure


def test_a_hidden_funnel_count_is_drawn_as_its_mark(qtbot):
    """Qt draws a category label as HTML: "Exit: <5" came out as "Exit:" with nothing after
    it, in the window and the PDF. What Qt draws is what this reads (``QTextDocument``)."""
    from PySide6.QtGui import QTextDocument

    from tests.evaluation.helpers import cohort, make_pack
    from ui.evaluation_charts import funnel_chart

    records, prov, interventions = cohort(30, 2)  # small: some stages hold 1 to 4 people
    pack = make_pack(records, prov, interventions)
    rows = pack.tables["funnel"].rows
    unit = next((row[0], row[1]) for row in rows if "<5" in row)
    drawn = []
    for label in _labels(funnel_chart(pack, unit)):
        document = QTextDocument()
        document.setHtml(label)
        drawn.append(document.toPlainText())
    assert any(text.endswith(": <5") for text in drawn), drawn
