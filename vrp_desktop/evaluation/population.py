"""Reach against the population: is each group referred in proportion to how many live there?

Worked out only from figures the pack already shows (the Reach by group table, after
protection, and the Attrition table's count of people referred) and the VRP's published
population figures (``vrp reference publish``), so it can disclose nothing the pack does not:
anyone holding the pack and the public figures could compute the same. A group whose count is
hidden gets no ratio; neither does a unit whose count of people referred is hidden.

The representation ratio is the group's share of the people referred divided by its share of
the population (1.00: referred in proportion; 2.00: twice as often as its size suggests). Its
95% interval is the Wilson interval of the referred share divided by the population share,
which is taken as fixed (census counts, not a sample), the usual way disproportionality ratios
with census denominators are reported. Shares are of the people whose group was recorded when
the number not recorded is shown; when that number is hidden, of everyone referred (the table's
explanation says so), so the hidden number cannot be worked back.
"""

from __future__ import annotations

from typing import Any

from vrp_desktop import codes
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.inequality import wilson
from vrp_desktop.evaluation.tables import COUNT, SHARE, Pack, Table
from vrp_desktop.reference.population import EVALUATION_DIMENSION, PopulationPack
from vrp_desktop.returns.aggregate import NOT_RECORDED

KEY = "reach_population"
RATIO = "0.00"


def _codes_by_label(dimension: str) -> dict[str, str] | None:
    table = {
        "ethnic_group": codes.ETHNIC_GROUPS,
        "ethnicity": codes.ETHNICITIES,
        "gender": codes.GENDERS,
    }.get(dimension)
    return None if table is None else {label: code for code, label in table.items()}


def _dimension_key(name: str) -> str | None:
    if name in EVALUATION_DIMENSION:
        return EVALUATION_DIMENSION[name]
    return "area" if name.lower().startswith("area") else None


def table(reference: PopulationPack) -> Table:
    return Table(
        KEY,
        "Reach against the population",
        "Each group's share of the people referred beside its share of the population "
        f"({reference.base}; {reference.source}, version {reference.version}). A ratio "
        "above 1 means the group was referred more often than its size suggests, below 1 "
        "less often; the interval is 95%.",
        [
            "Level",
            "Unit",
            "Dimension",
            "Group",
            "Referred",
            "Share of referred",
            "Population",
            "Population share",
            "Representation ratio",
            "Ratio CI low",
            "Ratio CI high",
        ],
        ["", "", "", "", COUNT, SHARE, COUNT, SHARE, RATIO, RATIO, RATIO],
    )


def _shown_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def compare(pack: Pack, reference: PopulationPack | None) -> None:
    """Add the Reach against the population table to ``pack`` (nothing without figures)."""
    if reference is None or "reach_gaps" not in pack.tables:
        return
    reach = pack.tables["reach_gaps"]
    funnel = pack.tables["funnel"]
    out = table(reference)
    col = {name: reach.column(name) for name in ("Dimension", "Group", "Referred")}
    for level, unit in pack.units:
        funnel_rows = funnel.rows_for(level, unit)
        shown_all = funnel_rows[0][funnel.column("Referred")] if funnel_rows else None
        referred_all = _shown_int(shown_all)
        by_dimension: dict[str, list[list[Any]]] = {}
        for row in reach.rows_for(level, unit):
            by_dimension.setdefault(row[col["Dimension"]], []).append(row)
        for name, rows in by_dimension.items():
            key = _dimension_key(name)
            shares = reference.shares(key) if key else {}
            if not shares:
                continue
            populations = reference.tables[key]
            labels = _codes_by_label(key)
            missing = [r[col["Referred"]] for r in rows if r[col["Group"]] == NOT_RECORDED]
            denominator = referred_all
            if denominator is not None and missing:
                not_recorded = _shown_int(missing[0])
                if not_recorded is not None:
                    denominator -= not_recorded
            for row in rows:
                group = row[col["Group"]]
                code = group if labels is None else labels.get(group)
                if code not in shares:
                    continue
                k = row[col["Referred"]]
                values: list[Any] = [None] * 4
                if protect.is_hidden(k) or protect.is_hidden(shown_all):
                    values = [protect.HIDDEN] * 4
                elif _shown_int(k) is not None and denominator:
                    low, high = wilson(k, denominator)
                    p = shares[code]
                    values = [k / denominator, (k / denominator) / p, low / p, high / p]
                share, *ratio = values
                out.rows.append(
                    [level, unit, name, group, k, share, populations[code], shares[code], *ratio]
                )
    pack.tables[KEY] = out
    pack.notes.append(
        (
            "Reach against the population",
            "The representation ratio is a group's share of the people referred divided by its "
            "share of the population in the VRP's published figures ("
            + reference.describe()
            + f"; who is counted: {reference.base}). Its 95% interval is the Wilson interval of "
            "the referred share divided by the population share, taken as fixed. Shares are of "
            "the people whose group was recorded, unless that number is hidden, then of "
            "everyone referred. It is worked out only from figures shown in this pack and the "
            "published population figures, so it reveals nothing else. A group whose count is "
            "hidden has no ratio.",
        )
    )
    pack.sources.append(
        [
            "Population figures",
            reference.title,
            "Population base",
            f"{reference.base} (version {reference.version})",
            reference.source,
        ]
    )
