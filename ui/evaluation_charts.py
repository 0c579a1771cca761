"""The evaluation's charts, drawn with QtCharts from a published ``Pack`` (so from protected
numbers only): the funnel, change with interval whiskers, reliable-change shares, dose bands and
inequality gaps. The Evaluation page shows them in views; the PDF renders the same charts.

A hidden value is never drawn as a small bar: its category is labelled as hidden and has no bar.
"""

from __future__ import annotations

import contextlib
import html
from collections import Counter
from collections.abc import Iterator
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QCategoryAxis,
    QChart,
    QHorizontalBarSeries,
    QHorizontalStackedBarSeries,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen

from ui.measure_names import abbreviation
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.tables import STAGES, Pack, Table

TEAL = QColor("#1F5F5B")
AMBER = QColor("#B8741A")
GREY = QColor("#8C8C8C")
RED = QColor("#A33B3B")
#: the same four on a dark chart: the light ones are too dark to see on it (a teal interval
#: line on the dark background all but vanished)
_DARK_COLOURS = {
    "teal": QColor("#5CC2B8"),
    "amber": QColor("#E8A64A"),
    "grey": QColor("#A7AFB8"),
    "red": QColor("#EE8A8A"),
}
_LIGHT_COLOURS = {"teal": TEAL, "amber": AMBER, "grey": GREY, "red": RED}
HIDDEN_NOTE = "hidden"


#: one line under each chart, saying what it shows
EXPLAIN = {
    "funnel": "People referred in the period, and how many reached each later step (a bar "
    "is missing where the number is hidden).",
    "change": "Mean change from baseline to exit on each score (dot) with its 95% interval "
    "(line); the dashed line is no change.",
    "reliable": "Share of paired people who reliably improved, did not change reliably, or "
    "reliably deteriorated (published thresholds).",
    "dose": "Mean change on the headline score (dot) with its 95% interval, by contact hours "
    "attended; more hours lower down.",
    "gaps": "Attendance rate of each group minus everyone's, in percentage points, with the "
    "gap's 95% interval.",
    "population": "Each group's share of the people referred divided by its share of the "
    "population (1 on the dashed line: in proportion), with its 95% interval.",
}


def _value(table: Table, row: list[Any], name: str) -> Any:
    return row[table.column(name)]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shown(value: Any) -> str:
    if protect.is_hidden(value):
        return str(value)
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


_THEME = {"dark": False}


def use_dark_theme(dark: bool) -> None:
    """Charts built from now on follow a dark (or light) window palette."""
    _THEME["dark"] = dark


@contextlib.contextmanager
def on_paper() -> Iterator[None]:
    """Charts built inside are light, whatever the window uses (the PDF is printed)."""
    was = _THEME["dark"]
    _THEME["dark"] = False
    try:
        yield
    finally:
        _THEME["dark"] = was


def colour(name: str) -> QColor:
    """``teal``, ``amber``, ``grey`` or ``red``, readable on the current chart theme."""
    return (_DARK_COLOURS if _THEME["dark"] else _LIGHT_COLOURS)[name]


def _chart(title: str) -> QChart:
    chart = QChart()
    # the theme first: it resets fonts and colours, which the builders then set
    chart.setTheme(
        QChart.ChartTheme.ChartThemeDark if _THEME["dark"] else QChart.ChartTheme.ChartThemeLight
    )
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    return chart


def _smaller(font: QFont) -> QFont:
    smaller = QFont(font)
    smaller.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    return smaller


ONE_LINE = 26  # characters beside a chart at 1280×720 before Qt elides a label to "…"
LONGEST_LINE = 32


def _wrapped(text: str) -> str:
    """A category label on one line, or two split where the lines come out most even (Qt draws
    ``<br>``), cut at a word only past that: Qt would elide a long name, so a reader saw
    "Asian, Asian British or Asian Wel…" and "SDQ emotional symptoms (hidd…"."""
    if len(text) <= ONE_LINE:
        return html.escape(text)
    words = text.split(" ")
    splits = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    if not splits:
        return html.escape(text[: LONGEST_LINE - 1] + "…")
    first, second = min(splits, key=lambda pair: max(len(pair[0]), len(pair[1])))
    if len(second) > LONGEST_LINE:
        second = second[: LONGEST_LINE - 1].rsplit(" ", 1)[0] + "…"
    return f"{html.escape(first)}<br>{html.escape(second)}"


def measures_of(pack: Pack, unit: tuple[str, str]) -> list[str]:
    """Measures with change figures for a unit, in pack order."""
    table = pack.tables["change"]
    seen: list[str] = []
    for row in table.rows_for(*unit):
        name = _value(table, row, "Measure")
        if name not in seen:
            seen.append(name)
    return seen


def funnel_chart(pack: Pack, unit: tuple[str, str]) -> QChart:
    table = pack.tables["funnel"]
    chart = _chart("Attrition: referral to a paired exit")
    rows = table.rows_for(*unit)
    bars = QBarSet("People")
    bars.setColor(colour("teal"))
    labels = []
    for stage in reversed(STAGES):  # the first category is drawn at the bottom
        value = _value(table, rows[0], stage) if rows else None
        labels.append(html.escape(f"{stage}: {_shown(value)}"))  # Qt reads labels as HTML
        bars.append(_num(value) or 0)
    series = QHorizontalBarSeries()
    series.append(bars)
    chart.addSeries(series)
    y = QBarCategoryAxis()
    y.append(labels)
    x = QValueAxis()
    x.setLabelFormat("%d")
    x.setRange(0, max([*bars_values(bars), 5]) * 1.05)
    x.applyNiceNumbers()
    x.setTitleText("People")
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    series.attachAxis(y)
    chart.legend().hide()
    return chart


def bars_values(bars: QBarSet) -> list[float]:
    return [bars.at(i) for i in range(bars.count())]


def _whiskers(
    chart: QChart,
    title: str,
    items: list[tuple[str, float | None, float | None, float | None]],
    reference: float = 0.0,
) -> QChart:
    """Rows of (label, estimate, low, high) as dots with interval lines, top to bottom; the
    dashed line marks ``reference`` (no change: 0; a ratio in proportion: 1)."""
    labels = QCategoryAxis()
    labels.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    n = len(items)
    finite = [v for _, m, lo, hi in items for v in (m, lo, hi) if v is not None]
    # every value hidden: a plain -1..1 axis, not one labelled "-0.0 -0.0 0.0"
    span = max(abs(v) for v in finite) if any(finite) else 1.0
    dots = QScatterSeries()
    dots.setName("Estimate")
    dots.setColor(colour("teal"))
    dots.setMarkerSize(9)
    for k, (label, mean, low, high) in reversed(list(enumerate(items))):
        y = n - k  # first item on top; a category axis takes its labels bottom up
        labels.append(_wrapped(label), y)
        if mean is not None:
            dots.append(QPointF(mean, y))
        if low is not None and high is not None:
            line = QLineSeries()
            line.setPen(QPen(colour("teal"), 2))
            line.append(low, y)
            line.append(high, y)
            chart.addSeries(line)
    zero = QLineSeries()
    zero.setPen(QPen(colour("grey"), 1, Qt.PenStyle.DashLine))
    zero.append(reference, 0.5)
    zero.append(reference, n + 0.5)
    chart.addSeries(zero)
    chart.addSeries(dots)
    x = QValueAxis()
    if reference:  # a ratio: from nothing to past the largest, the reference in view
        x.setRange(0, max([*finite, reference]) * 1.15)
    else:
        x.setRange(-span * 1.15, span * 1.15)
    x.applyNiceNumbers()
    x.setTitleText(title)
    x.setLabelFormat("%.1f")
    labels.setRange(0.5, n + 0.5)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(labels, Qt.AlignmentFlag.AlignLeft)
    for series in chart.series():
        series.attachAxis(x)
        series.attachAxis(labels)
    chart.legend().hide()
    return chart


def change_chart(pack: Pack, unit: tuple[str, str], measure: str | None) -> QChart:
    table = pack.tables["change"]
    rows = [r for r in table.rows_for(*unit) if measure is None or r[2] == measure]
    chart = _chart(f"Change on the {abbreviation(measure) if measure else 'measures'}")
    items = []
    for row in rows:
        mean = _value(table, row, "Mean change")
        label = _value(table, row, "Score")
        if protect.is_hidden(mean):
            label += f" ({HIDDEN_NOTE.format(t=pack.threshold)})"
        items.append(
            (
                label,
                _num(mean),
                _num(_value(table, row, "95% CI low")),
                _num(_value(table, row, "95% CI high")),
            )
        )
    return _whiskers(chart, "Mean change, score points", items)


def _score_names(scores: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Short names for (measure, score) rows: a measure with one score by its abbreviation
    ("SWEMWBS"), the scores of one many-score measure by score alone ("Emotional symptoms"),
    and the measure's abbreviation in front only where two such measures share the chart."""
    per_measure = Counter(measure for measure, _score in scores)
    several = [m for m, count in per_measure.items() if count > 1]
    names = {}
    for measure, score in scores:
        if per_measure[measure] == 1:
            names[(measure, score)] = abbreviation(measure)
        elif len(several) == 1:
            names[(measure, score)] = score[:1].upper() + score[1:]
        else:
            names[(measure, score)] = f"{abbreviation(measure)} {score.lower()}"
    return names


def reliable_chart(pack: Pack, unit: tuple[str, str]) -> QChart:
    table = pack.tables["reliable"]
    chart = _chart("Reliable and meaningful change")
    sets = {
        "Improved": QBarSet("Improved"),
        "No reliable change": QBarSet("No reliable change"),
        "Deteriorated": QBarSet("Deteriorated"),
    }
    for bar, name in zip(sets.values(), ("teal", "grey", "red"), strict=True):
        bar.setColor(colour(name))
    labels = []
    rows = table.rows_for(*unit)
    name_of = _score_names([(_value(table, r, "Measure"), _value(table, r, "Score")) for r in rows])
    for row in reversed(rows):  # the first category is drawn at the bottom
        shares = [_value(table, row, f"{name} %") for name in sets]
        label = name_of[(_value(table, row, "Measure"), _value(table, row, "Score"))]
        if any(protect.is_hidden(s) for s in shares):
            label += f" ({HIDDEN_NOTE.format(t=pack.threshold)})"
            shares = [0, 0, 0]
        labels.append(html.escape(label))  # rows are one line apart here: no room for two
        for bar, share in zip(sets.values(), shares, strict=True):
            bar.append((_num(share) or 0) * 100)
    series = QHorizontalStackedBarSeries()
    for bar in sets.values():
        series.append(bar)
    chart.addSeries(series)
    y = QBarCategoryAxis()
    y.append(labels or ["No scores with published thresholds"])
    y.setLabelsFont(_smaller(y.labelsFont()))  # Qt elides a label to "..." when rows are tight
    x = QValueAxis()
    x.setRange(0, 100)
    x.setLabelFormat("%d%%")
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    series.attachAxis(y)
    return chart


def dose_chart(pack: Pack, unit: tuple[str, str], measure: str | None) -> QChart:
    table = pack.tables["dose"]
    rows = [
        r
        for r in table.rows_for(*unit)
        if (measure is None or r[2] == measure) and r[4] == "Contact hours"
    ]
    score = rows[0][3] if rows else "the headline score"
    name = abbreviation(measure) if measure else ""
    chart = _chart(f"Dose: change in {name} {score.lower()} by contact hours")
    items = []
    for row in rows:
        mean = _value(table, row, "Mean change")
        people = _value(table, row, "People paired")
        label = f"{_value(table, row, 'Band')} ({_shown(people)} people)"
        if protect.is_hidden(mean):
            label = f"{_value(table, row, 'Band')} ({HIDDEN_NOTE.format(t=pack.threshold)})"
        items.append(
            (
                label,
                _num(mean),
                _num(_value(table, row, "95% CI low")),
                _num(_value(table, row, "95% CI high")),
            )
        )
    return _whiskers(chart, "Mean change, score points", items)


def _by_group(
    table: Table, unit: tuple[str, str], dimension: str, columns: tuple[str, str, str], scale=1.0
) -> list[tuple[str, float | None, float | None, float | None]]:
    """(label, estimate, low, high) for each group of ``dimension``: the whiskers the gap and
    population charts draw, a hidden estimate said in its label and never drawn."""
    items = []
    for row in table.rows_for(*unit):
        if _value(table, row, "Dimension") != dimension:
            continue
        estimate = _value(table, row, columns[0])
        label = str(_value(table, row, "Group"))
        if protect.is_hidden(estimate):
            label += f" ({HIDDEN_NOTE})"
        elif estimate is None:
            label += " (none referred)"
        values = [_num(_value(table, row, name)) for name in columns]
        items.append((label, *(None if v is None else v * scale for v in values)))
    return items


def gaps_chart(pack: Pack, unit: tuple[str, str], dimension: str = "Ethnic group") -> QChart:
    chart = _chart(f"Attendance gap by {dimension.lower()}")
    columns = ("Attendance gap to whole", "Attendance gap CI low", "Attendance gap CI high")
    items = _by_group(pack.tables["reach_gaps"], unit, dimension, columns, scale=100)
    return _whiskers(chart, "Gap to everyone, % points", items)


def population_chart(pack: Pack, unit: tuple[str, str], dimension: str = "Ethnic group") -> QChart:
    """Representation ratios against the VRP's population figures, or a title saying where to
    get the figures when none are installed."""
    table = pack.tables.get("reach_population")
    if table is None:
        return _chart("No population figures yet: import the VRP's pack on the Sync page")
    chart = _chart(f"Referred against the population, by {dimension.lower()}")
    columns = ("Representation ratio", "Ratio CI low", "Ratio CI high")
    items = _by_group(table, unit, dimension, columns)
    if not items:
        chart.setTitle(f"No population figures by {dimension.lower()}")
        return chart
    return _whiskers(chart, "Share referred ÷ share of population", items, reference=1.0)


def dimensions(pack: Pack) -> list[str]:
    table = pack.tables["reach_gaps"]
    seen: list[str] = []
    for row in table.rows:
        if row[2] not in seen:
            seen.append(row[2])
    return seen
