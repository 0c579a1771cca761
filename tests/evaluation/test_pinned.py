"""The whole workbook of three fixed seeded cohorts pinned to the figures the evaluation
publishes (``golden/*.json``: statistics as the first version wrote them before any speed work;
the marks re-pinned when the pack came to be protected as one release, across tables and
levels, instead of table by table; and when a correlation, its p-value and the funnel's medians
came to be hidden with the count of their people: seven figures became [c], nothing else moved).

Read back with openpyxl, every cell of every sheet (the cover's "Made" time is fixed) must be
the pinned one: strings, marks and counts exactly, figures to 1e-9 relative (a sum taken in a
different order may differ in the last bit, never more). Regenerate only for a change that
is meant to alter the published figures: ``VRP_PIN_WRITE=1 pytest tests/evaluation/test_pinned.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path

import openpyxl
import pytest

from tests.evaluation.helpers import PERIOD, catalog, cohort
from vrp_desktop.evaluation import pack as evaluation_pack
from vrp_desktop.evaluation.build import publish

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "partnership": dict(n=900, seed=1313, providers=3, kind="partnership", threshold=5),
    "provider": dict(n=250, seed=77, providers=1, kind="provider", threshold=5),
    "threshold10": dict(n=400, seed=5, providers=2, kind="partnership", threshold=10),
}


def _cell(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def workbook_values(case: dict, tmp_path: Path) -> dict[str, list[list]]:
    records, prov, interventions = cohort(case["n"], case["seed"], providers=case["providers"])
    measures, frameworks = catalog()
    pack = publish(
        records,
        kind=case["kind"],
        period=PERIOD,
        providers=prov,
        interventions=interventions,
        measures=measures,
        frameworks=frameworks,
        threshold=case["threshold"],
        workspace_name="Pinned",
        created=dt.datetime(2026, 4, 2, 9, 30),
    )
    path = evaluation_pack.save(pack, tmp_path / "pack.xlsx")
    wb = openpyxl.load_workbook(path)
    return {
        name: [[_cell(v) for v in row] for row in wb[name].iter_rows(values_only=True)]
        for name in wb.sheetnames
        if name != "Cover"  # the software version is on the cover; the rest is checked below
    } | {"Cover": [[_cell(v) for v in row] for row in wb["Cover"].iter_rows(values_only=True)
                   if row and row[0] != "Software"]}  # fmt: skip


def _same(got, want) -> bool:
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if math.isnan(want):
            return math.isnan(got)
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize("name", sorted(CASES))
def test_workbook_matches_pinned_figures(name, tmp_path):
    got = workbook_values(CASES[name], tmp_path)
    target = GOLDEN / f"{name}.json"
    if os.environ.get("VRP_PIN_WRITE"):
        target.write_text(json.dumps(got, indent=0) + "\n", encoding="utf-8")
    want = json.loads(target.read_text(encoding="utf-8"))
    assert list(got) == list(want)
    differences = []
    for sheet, rows in want.items():
        assert len(got[sheet]) == len(rows), sheet
        for i, (g_row, w_row) in enumerate(zip(got[sheet], rows, strict=True)):
            assert len(g_row) == len(w_row), (sheet, i)
            for j, (g, w) in enumerate(zip(g_row, w_row, strict=True)):
                if not _same(g, w):
                    differences.append((sheet, i + 1, j + 1, g, w))
    assert differences == []
    # the pin covers every table with many rows, marks and figures
    assert sum(len(rows) for rows in want.values()) > 500
    assert any(v == "<5" or v == "<10" for rows in want.values() for r in rows for v in r)
