"""Reach against the population (issue 13): each shown group's representation ratio and its
interval, checked against an independent computation (scipy's Wilson interval); nothing hidden
in the pack becomes visible through it."""

from __future__ import annotations

import openpyxl
import pytest
from scipy.stats import binomtest

from tests.evaluation.helpers import PERIOD, catalog, cohort
from vrp_desktop import codes
from vrp_desktop.evaluation import population, protect
from vrp_desktop.evaluation.build import publish
from vrp_desktop.evaluation.pack import save
from vrp_desktop.reference.population import PopulationPack, check_tables

FIGURES = {
    "ethnic_group": {"asian": 3000, "black": 1500, "mixed": 800, "white": 4200, "other": 500},
    "gender": {"female": 4900, "male": 5100},
    "age_band": {"10-13": 4000, "14-15": 2000, "16-17": 2000, "18-20": 2000},
}


def _reference() -> PopulationPack:
    return PopulationPack(
        version=3,
        title="Residents aged 10-20",
        source="illustrative figures for the tests",
        base="Residents aged 10-20",
        issued_at="2026-11-28T00:00:00Z",
        tables=check_tables(FIGURES),
    )


def _pack(n: int, seed: int, providers: int = 1):
    records, prov, interventions = cohort(n, seed, providers=providers)
    measures, frameworks = catalog()
    return publish(
        records,
        kind="partnership" if providers > 1 else "provider",
        period=PERIOD,
        providers=prov,
        interventions=interventions,
        measures=measures,
        frameworks=frameworks,
    )


def _label_to_code(dimension: str) -> dict[str, str]:
    table = {"Ethnic group": codes.ETHNIC_GROUPS, "Gender": codes.GENDERS}.get(dimension)
    if table is None:
        return {b: b for b in codes.AGE_BANDS}
    return {label: code for code, label in table.items()}


@pytest.mark.parametrize(("n", "seed", "providers"), [(600, 1, 2), (60, 2, 1), (12, 3, 1)])
def test_ratios_equal_an_independent_computation_from_shown_figures(n, seed, providers):
    pack = _pack(n, seed, providers)
    population.compare(pack, _reference())
    table = pack.tables["reach_population"]
    reach, funnel = pack.tables["reach_gaps"], pack.tables["funnel"]
    dims = {"Ethnic group": "ethnic_group", "Gender": "gender", "Age band": "age_band"}
    checked = hidden = 0
    for level, unit in pack.units:
        referred = funnel.rows_for(level, unit)[0][funnel.column("Referred")]
        reach_rows = reach.rows_for(level, unit)
        for dimension, key in dims.items():
            rows = [r for r in reach_rows if r[2] == dimension]
            not_recorded = [r[4] for r in rows if r[3] == "Not recorded"]
            denominator = referred
            if not_recorded and isinstance(not_recorded[0], int) and isinstance(referred, int):
                denominator = referred - not_recorded[0]
            shares = {c: v / sum(FIGURES[key].values()) for c, v in FIGURES[key].items()}
            mine = {r[3]: r for r in table.rows_for(level, unit) if r[2] == dimension}
            for row in rows:
                code = _label_to_code(dimension).get(row[3])
                if code not in shares:
                    assert row[3] not in mine  # no ratio for a group with no population
                    continue
                got = mine[row[3]]
                col = table.column
                assert got[col("Referred")] == row[4]  # copied, never un-hidden
                if protect.is_hidden(row[4]) or not isinstance(referred, int):
                    assert protect.is_hidden(got[col("Representation ratio")])
                    hidden += 1
                    continue
                ci = binomtest(row[4], denominator).proportion_ci(method="wilson")
                p = shares[code]
                assert got[col("Population share")] == pytest.approx(p)
                assert got[col("Share of referred")] == pytest.approx(row[4] / denominator)
                assert got[col("Representation ratio")] == pytest.approx(row[4] / denominator / p)
                assert got[col("Ratio CI low")] == pytest.approx(ci.low / p)
                assert got[col("Ratio CI high")] == pytest.approx(ci.high / p)
                checked += 1
    assert checked > 0 if n >= 60 else hidden > 0
    assert any(title == "Reach against the population" for title, _ in pack.notes)


def test_no_figures_means_no_table_and_no_sheet(tmp_path):
    pack = _pack(60, 4)
    population.compare(pack, None)
    assert "reach_population" not in pack.tables
    assert "Reach vs population" not in openpyxl.load_workbook(save(pack, tmp_path / "a.xlsx"))
    population.compare(pack, _reference())
    book = openpyxl.load_workbook(save(pack, tmp_path / "b.xlsx"), read_only=True)
    rows = list(book["Reach vs population"].iter_rows(min_row=4, values_only=True))
    assert rows[0][:4] == ("Level", "Unit", "Dimension", "Group")
    assert len(rows) - 1 == len(pack.tables["reach_population"].rows)
