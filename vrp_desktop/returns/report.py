"""The return as sheets of typed values: figures with suppression applied, ready to preview
(in the window) or write (``workbook``). Nothing unsuppressed leaves this module."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from vrp_desktop import __version__
from vrp_desktop.errors import VrpError
from vrp_desktop.returns import aggregate
from vrp_desktop.returns.aggregate import Figures, Grid
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.returns.source import Source, provider_source
from vrp_desktop.returns.suppression import (
    DEFAULT_THRESHOLD,
    SECONDARY_MARK,
    primary_mark,
    suppress,
)

Progress = Callable[[str, int, int], None]
Value = int | float | str | dt.date | dt.datetime | None


@dataclasses.dataclass
class Row:
    values: list[Value]
    #: "data", "total", "section" (a heading inside a sheet) or "text"
    kind: str = "data"
    #: number format for the numeric values of this row
    number_format: str = "#,##0"
    #: per-column number formats (column index from 0) that override ``number_format``
    formats: dict[int, str] = dataclasses.field(default_factory=dict)

    def format_of(self, column: int) -> str:
        return self.formats.get(column, self.number_format)


@dataclasses.dataclass
class SheetData:
    name: str
    title: str
    header: list[str] | None
    rows: list[Row]
    #: columns that label a row (frozen with the header)
    label_columns: int = 0


@dataclasses.dataclass
class ReturnData:
    title: str
    subject: str
    quarter: Quarter
    threshold: int
    made_at: dt.datetime
    kind: str
    sheets: list[SheetData]

    def sheet(self, name: str) -> SheetData:
        return next(s for s in self.sheets if s.name == name)


def _check_threshold(threshold: int) -> int:
    if not isinstance(threshold, int) or threshold < 1 or threshold > 100:
        raise VrpError(
            "The suppression threshold must be a whole number from 1 to 100 (the usual rule "
            "is 5: counts of 1 to 4 are shown as <5). 1 switches suppression off."
        )
    return threshold


def _grid_rows(grid: Grid, threshold: int) -> list[Row]:
    hidden = (
        suppress(grid.cells, grid.row_totals, grid.col_totals, grid.grand, threshold=threshold)
        if grid.people
        else None
    )
    n_r, n_c = len(grid.rows), len(grid.cols)

    def shown(i: int, j: int, value: float) -> Value:
        if hidden is not None:
            mark = hidden.mark((i, j), threshold)
            if mark:
                return mark
        return (
            int(value)
            if float(value).is_integer() and grid.number_format.startswith("#")
            else value
        )

    rows = []
    for i, label in enumerate(grid.rows):
        values = [shown(i, j, v) for j, v in enumerate(grid.cells[i])]
        rows.append(
            Row(
                [grid.measure, grid.breakdown, label, *values, shown(i, n_c, grid.row_totals[i])],
                number_format=grid.number_format,
            )
        )
    totals = [shown(n_r, j, v) for j, v in enumerate(grid.col_totals)]
    rows.append(
        Row(
            [grid.measure, grid.breakdown, "Total", *totals, shown(n_r, n_c, grid.grand)],
            kind="total",
            number_format=grid.number_format,
        )
    )
    return rows


def _matrix_sheet(name: str, title: str, figures: Figures, grids: list[Grid], threshold: int):
    header = ["Measure", "Breakdown", "Category", *[lbl for _, lbl in figures.splits], "Total"]
    rows: list[Row] = []
    for grid in grids:
        rows += _grid_rows(grid, threshold)
    return SheetData(name, title, header, rows, label_columns=3)


def _quality_sheet(figures: Figures) -> SheetData:
    header = ["Records", "Check", *[lbl for _, lbl in figures.splits], "Total"]
    rows = []
    for grid in figures.quality:
        values: list[Value] = [
            int(v) if grid.number_format == "#,##0" else v for v in grid.cells[0]
        ]
        total = grid.grand if grid.number_format != "#,##0" else int(grid.grand)
        rows.append(
            Row([grid.measure, grid.breakdown, *values, total], number_format=grid.number_format)
        )
    return SheetData("Data quality", "Data quality", header, rows, label_columns=2)


def _outcome_sheet(figures: Figures, threshold: int) -> SheetData:
    header = [
        "Measure",
        "Score",
        "Better when",
        figures.split_name,
        "People with baseline and exit",
        "Mean at baseline",
        "Mean at exit",
        "Mean change",
        "Share improved",
    ]
    rows: list[Row] = []
    groups: dict[tuple[str, str], list[aggregate.OutcomeRow]] = {}
    for o in figures.outcomes:
        groups.setdefault((o.measure_id, o.score_id), []).append(o)
    formats = {4: "#,##0", 5: "0.00", 6: "0.00", 7: "+0.00;-0.00;0.00", 8: "0.0%"}
    for parts in groups.values():
        *splits, total = parts
        hidden = suppress([[o.people for o in splits]], [total.people], threshold=threshold)
        n_c = len(splits)
        for j, o in enumerate(parts):
            if j < n_c and o.people == 0:
                continue  # a split with nobody paired shows nothing (its zero is no secret)
            # a one-row table: the total row repeats the row, so either position may be hidden
            mark = hidden.mark((0, j), threshold) or hidden.mark((1, j), threshold)
            means: list[Value] = (
                [SECONDARY_MARK] * 4
                if mark
                else [o.mean_baseline, o.mean_exit, o.mean_change, o.share_improved]
            )
            better = {"lower": "Lower", "higher": "Higher"}.get(o.better or "", "")
            rows.append(
                Row(
                    [o.measure, o.score, better, o.split, mark or o.people, *means],
                    kind="total" if j == n_c else "data",
                    formats=formats,
                )
            )
    if not rows:
        rows.append(
            Row(
                ["No young person had both a baseline and an exit questionnaire in this quarter."],
                kind="text",
            )
        )
    return SheetData("Outcomes", "Outcomes", header, rows, label_columns=4)


def _cover(figures: Figures, title: str, threshold: int, made_at: dt.datetime) -> SheetData:
    q = figures.quarter
    who = "; ".join(f"{p['name']} [{p['code']}]" for p in figures.providers)
    rows = [
        Row(["Return", title], kind="text"),
        Row(["Providers" if figures.kind == "partnership" else "Provider", who], kind="text"),
        Row(["Period", q.label], kind="text"),
        Row(["Period starts", q.start], kind="text"),
        Row(["Period ends", q.end], kind="text"),
        Row(["Made on", made_at], kind="text"),
        Row(["Software", f"VRP Desktop {__version__}"], kind="text"),
        Row(
            [
                "Small numbers",
                f"counts of 1 to {threshold - 1} are shown as {primary_mark(threshold)}"
                if threshold > 1
                else "not suppressed (threshold 1)",
            ],
            kind="text",
        ),
        Row(["Batches included", len(figures.batches)], kind="text"),
    ]
    if figures.batches:
        rows.append(Row(["Batch", "Provider", "Status", "Made", "Records"], kind="section"))
        for b in figures.batches:
            rows.append(
                Row(
                    [
                        b["id"],
                        b.get("provider", ""),
                        b.get("status", ""),
                        b.get("created_at"),
                        b.get("records"),
                    ],
                    kind="data",
                )
            )
    elif figures.kind == "provider":
        rows.append(
            Row(
                [
                    "",
                    "None yet: the figures are everything recorded in this workspace for the "
                    "period, whether or not it has been sent.",
                ],
                kind="text",
            )
        )
    return SheetData("Cover", title, None, rows, label_columns=1)


def _rule(threshold: int) -> str:
    if threshold <= 1:
        return "not suppressed (threshold 1)"
    return f"counts of 1 to {threshold - 1} are shown as {primary_mark(threshold)}"


def _notes(figures: Figures, threshold: int) -> SheetData:
    split = figures.split_name.lower()
    lines = [
        (
            "Period",
            f"The UK financial quarter {figures.quarter.label}: "
            f"{figures.quarter.start:%d %B %Y} to {figures.quarter.end:%d %B %Y}.",
        ),
        (
            "People reached",
            "Unique young people who attended (attended, late or left early) a "
            "delivered session in the quarter, or whose enrolment was open at any time in it. A "
            "person is counted once by their pseudonymous reference, so someone in two "
            f"interventions is one person in a total; the {split} columns can add up to more than "
            "the Total column for that reason. Without a pseudonym (name or date of birth "
            "missing) a person is counted by their record.",
        ),
        ("New referrals", "Unique young people with a referral date in the quarter."),
        ("Age band", figures.age_note),
        (
            "Ethnicity",
            "ONS 2021 Census classification: 5 groups (plus Not stated) and 19 categories.",
        ),
        (
            "Referral source, tier, setting",
            "From the enrolment open in the quarter and the intervention it belongs to.",
        ),
        (
            "Sessions and hours",
            "Delivered sessions starting in the quarter; hours are the "
            "sessions' recorded durations. Attendances count people present (attended, late or "
            "left early); contact hours are attendees × duration.",
        ),
        (
            "Outcomes",
            "For each young person and questionnaire: the latest exit questionnaire "
            "completed in the quarter, paired with the latest baseline on or before it. Change is "
            "exit minus baseline. 'Share improved' counts a change in the better direction "
            "(lower is better for SDQ difficulties, higher for SDQ prosocial, SWEMWBS and "
            "confidence); no change is not improvement.",
        ),
        (
            "Data quality",
            "Completeness of each field the return reads, records with errors "
            "still to fix, warnings saved without a reason, and records the VRP has not yet "
            "accepted, for the records in the quarter's figures.",
        ),
        (
            "Suppression",
            (
                f"Counts of people from 1 to {threshold - 1} are shown as "
                f"{primary_mark(threshold)}. Where a row or column total would let a reader work "
                f"out a hidden count, further counts are hidden too and shown as {SECONDARY_MARK}; "
                "totals are computed from the full figures first and are hidden where needed. "
                f"Means for a hidden count of people are shown as {SECONDARY_MARK}. Zero is shown. "
                "Session, hour and data-quality figures are not counts of people and are not "
                "suppressed."
            )
            if threshold > 1
            else "No suppression was applied (threshold 1): do not publish this workbook.",
        ),
    ]
    return SheetData(
        "Notes",
        "Notes",
        ["Item", "Definition"],
        [Row([a, b], kind="text") for a, b in lines],
        label_columns=1,
    )


def build(
    ws,
    quarter: Quarter,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    source: Source | None = None,
) -> ReturnData:
    """The return for ``quarter``: the provider's own (or a coordinator's partnership return
    when the workspace is a coordinator's)."""
    ws.require("export_return")
    threshold = _check_threshold(threshold)
    if source is None:
        source = source_for(ws, quarter)
    from vrp_desktop.services import frameworks as fw_service

    measures = list(fw_service.builtin_catalog().measures())
    with ws.engine.connect() as conn:
        figures = aggregate.figures(conn, source, quarter, measures, progress)
        conn.rollback()
    made_at = dt.datetime.now().replace(microsecond=0)
    if figures.kind == "partnership":
        title = f"Partnership quarterly return {quarter.label}"
    else:
        title = f"Quarterly return {quarter.label}"
    subject = "; ".join(p["name"] for p in figures.providers)
    sheets = [
        _cover(figures, title, threshold, made_at),
        _matrix_sheet(
            "Reach", "Reach: people reached and new referrals", figures, figures.reach, threshold
        ),
        _matrix_sheet(
            "Delivery",
            "Delivery: sessions, hours and attendances",
            figures,
            figures.delivery,
            threshold,
        ),
        _outcome_sheet(figures, threshold),
        _quality_sheet(figures),
        _notes(figures, threshold),
    ]
    return ReturnData(title, subject, quarter, threshold, made_at, figures.kind, sheets)


def source_for(ws, quarter: Quarter) -> Source:
    if ws.kind == "coordinator":
        from vrp_desktop.returns.partnership import partnership_source

        return partnership_source(quarter)
    return provider_source(quarter)


def describe(data: ReturnData) -> dict[str, Any]:
    return {
        "title": data.title,
        "period": data.quarter.label,
        "sheets": [s.name for s in data.sheets],
    }
