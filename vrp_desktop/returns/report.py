"""The return as sheets of typed values: figures with suppression applied, ready to preview
(in the window) or write (``workbook``). Nothing unsuppressed leaves this module."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from vrp_desktop import __version__, clock
from vrp_desktop.disclosure import SECONDARY_MARK, Rule
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.returns import aggregate, attendance
from vrp_desktop.returns.aggregate import Figures, Grid
from vrp_desktop.returns.protection import ReturnProtection, people_quality, protect_return
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.returns.source import Source, provider_source

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


def _rule_for(threshold: int | None) -> Rule:
    """The partnership's rule from the framework pack; ``threshold`` overrides its threshold
    (1 switches suppression, and rounding, off: an unpublishable working copy)."""
    from vrp_desktop.frameworks.disclosure import partnership_rule

    rule = partnership_rule()
    if threshold is None:
        return rule
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        Rule(-1)  # raises the rule's own message
    return Rule(threshold, rule.round_to if threshold > 1 else None)


def _number(value: float, number_format: str) -> Value:
    return int(value) if float(value).is_integer() and number_format.startswith("#") else value


def _grid_rows(grid: Grid, prot: ReturnProtection) -> list[Row]:
    n_r, n_c = len(grid.rows), len(grid.cols)

    def shown(i: int, j: int, value: float) -> Value:
        if grid.people:
            return prot.reach(grid, i, j)
        if value is None or isinstance(value, str):
            return value
        return _number(value, grid.number_format)

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


def _matrix_sheet(name: str, title: str, figures: Figures, grids: list[Grid], prot):
    header = ["Measure", "Breakdown", "Category", *[lbl for _, lbl in figures.splits], "Total"]
    rows: list[Row] = []
    for grid in grids:
        rows += _grid_rows(grid, prot)
    return SheetData(name, title, header, rows, label_columns=3)


def _quality_sheet(figures: Figures, prot: ReturnProtection) -> SheetData:
    """Counts of people (participants, enrolments) protected with the rest of the return;
    their completeness shares shown only where no small count can be read from them."""
    header = ["Records", "Check", *[lbl for _, lbl in figures.splits], "Total"]
    counted = {id(g) for g in people_quality(figures)}
    records = {g.measure: g for g in people_quality(figures) if g.breakdown.startswith("Records")}
    rows = []
    for grid in figures.quality:
        raw = [*grid.cells[0], grid.grand]
        values: list[Value]
        if id(grid) in counted:
            values = [prot.quality_count(grid, j) for j in range(len(raw))]
        elif grid.measure in records and grid.number_format.endswith("%"):
            base = records[grid.measure]
            denominators = [*base.cells[0], base.grand]
            values = [
                prot.share(prot.quality_count(base, j), int(denominators[j]), raw[j])
                if denominators[j]
                else raw[j]
                for j in range(len(raw))
            ]
        else:
            values = [_number(v, grid.number_format) for v in raw]
        rows.append(Row([grid.measure, grid.breakdown, *values], number_format=grid.number_format))
    return SheetData("Data quality", "Data quality", header, rows, label_columns=2)


def _outcome_sheet(figures: Figures, prot: ReturnProtection) -> SheetData:
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
        n_c = len(parts) - 1
        for j, o in enumerate(parts):
            if j < n_c and o.people == 0:
                continue  # a split with nobody paired shows nothing (its zero is no secret)
            people = prot.outcome(o, j)
            hidden = isinstance(people, str)
            means: list[Value] = (
                [SECONDARY_MARK] * 3 if hidden else [o.mean_baseline, o.mean_exit, o.mean_change]
            )
            share = prot.share(people, o.people, o.share_improved)
            better = {"lower": "Lower", "higher": "Higher"}.get(o.better or "", "")
            rows.append(
                Row(
                    [o.measure, o.score, better, o.split, people, *means, share],
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


def _cover(figures: Figures, title: str, rule: Rule, made_at: dt.datetime) -> SheetData:
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
        Row(["Small numbers", rule.describe()], kind="text"),
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


def _suppression_note(figures: Figures, rule: Rule) -> str:
    if not rule.active:
        return "No suppression was applied (threshold 1): do not publish this workbook."
    both = (
        " The partnership return is protected together with each provider's own return for "
        "the period (rebuilt from the records the providers sent): a count a provider's "
        "return shows is never hidden here, and a count it hides cannot be worked out from "
        "the two side by side."
        if figures.kind == "partnership"
        else " The partnership's return for the period is protected knowing this one, so it "
        "never hides a count this return shows."
    )
    return (
        f"The partnership's rule: {rule.describe()}. A count shown as {rule.primary_mark} is "
        f"from 1 to {rule.threshold - 1}. Further counts, shown as {SECONDARY_MARK}, are "
        "hidden so that no hidden count can be narrowed by anyone who knows the rule, using "
        "every table of this workbook together (totals, the same margin in several "
        "breakdowns, ethnic groups and their categories, data quality). Each is checked by "
        "solving, as an attacker would, for the smallest and largest value every hidden cell "
        f"can take. Where a {rule.primary_mark} could itself be narrowed, it is shown as "
        f"{SECONDARY_MARK} instead. Means and shares of a hidden count, and shares that would "
        "reveal a small count, are hidden too. Zero is shown." + both
    )


def _notes(figures: Figures, rule: Rule) -> SheetData:
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
            "person is counted once by their pseudonymous reference. Without a pseudonym (name "
            "or date of birth missing) a person is counted by their record.",
        ),
        (
            "Totals and their parts",
            "A total counts each person once, so the parts can add up to more than it, in "
            f"these ways only. (1) Someone in two {split}s is in both {split} columns and once "
            "in the Total column"
            + (
                "; someone seen by two providers likewise."
                if figures.kind == "partnership"
                else "."
            )
            + " (2) In the Total column, someone in two interventions with different tiers, "
            "settings or referral sources is in both rows of that breakdown; so is someone "
            "with two enrolments in one intervention with different referral sources, in that "
            "intervention's column too"
            + (
                "; and someone two providers recorded differently (gender, ethnicity, or a "
                "different date of birth giving another age band) is in both rows of the Total "
                "column, and in the Intervention breakdown someone in two interventions is in "
                "both rows."
                if figures.kind == "partnership"
                else "."
            )
            + " (3) Each ethnic group is the sum of its categories in the Ethnicity table, "
            "except for the reasons above. (4) In Outcomes, a person is paired once per "
            "questionnaire for the Total, under the intervention of their latest exit. "
            "(5) In Data quality, a participant enrolled in two interventions is a record in "
            f"both columns. (6) A hidden cell (<{rule.threshold} or {SECONDARY_MARK}) is "
            "missing from any sum you make"
            + (
                f"; and with rounding to {rule.round_to}, every count, totals included, is "
                "rounded on its own."
                if rule.round_to
                else "."
            )
            + " Sessions, hours, attendances and contact hours are sums and always add up.",
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
            "left early); contact hours are attendees × duration. Attendance rate: attendances "
            "as a share of every register row (present or absent) of those sessions; not shown "
            f"({SECONDARY_MARK}) where fewer than {max(rule.threshold, 1)} register rows make it.",
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
            "accepted, for the records in the quarter's figures. Counts of participants and "
            "enrolments are counts of people and are suppressed with the rest of the return; a "
            "completeness share is hidden where its denominator is, or where it would reveal "
            "a small count of people with (or without) the field.",
        ),
        ("Postcode district", quasi_rule.AREA_NOTE),
        ("Suppression", _suppression_note(figures, rule)),
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
    threshold: int | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
) -> ReturnData:
    """The return for ``quarter``: the provider's own (or a coordinator's partnership return
    when the workspace is a coordinator's), with the partnership's rule (``threshold``
    overrides its threshold)."""
    ws.require("export_return")
    rule = _rule_for(threshold)
    if source is None:
        source = source_for(ws, quarter)
    from vrp_desktop.services import frameworks as fw_service

    measures = list(fw_service.builtin_catalog().measures())
    with ws.engine.connect() as conn:
        figures = aggregate.figures(conn, source, quarter, measures, progress)
        rates = attendance.rates(conn, source, quarter, figures)
        earlier = []
        if figures.kind == "partnership" and rule.active:
            from vrp_desktop.returns.partnership import provider_cores

            earlier = provider_cores(conn, quarter, measures, rule)
        conn.rollback()
    if progress:
        progress("Protecting small numbers", 4, 6)
    prot = protect_return(figures, rule, earlier)
    made_at = clock.local_now().replace(microsecond=0)
    if figures.kind == "partnership":
        title = f"Partnership quarterly return {quarter.label}"
    else:
        title = f"Quarterly return {quarter.label}"
    subject = "; ".join(p["name"] for p in figures.providers)
    sheets = [
        _cover(figures, title, rule, made_at),
        _matrix_sheet(
            "Reach", "Reach: people reached and new referrals", figures, figures.reach, prot
        ),
        _matrix_sheet(
            "Delivery",
            "Delivery: sessions, hours, attendances and attendance rate",
            figures,
            attendance.with_rates(figures, rates, rule),
            prot,
        ),
        _outcome_sheet(figures, prot),
        _quality_sheet(figures, prot),
        _notes(figures, rule),
    ]
    return ReturnData(title, subject, quarter, rule.threshold, made_at, figures.kind, sheets)


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
