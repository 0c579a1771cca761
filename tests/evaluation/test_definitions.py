"""Definitions as data: each measure's evaluation values with their sources, checked when the
file is read; periods read as financial years or quarters, refused clearly otherwise."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from vrp_desktop.errors import FrameworkError, VrpError
from vrp_desktop.evaluation import definitions
from vrp_desktop.evaluation.period import parse_period
from vrp_desktop.frameworks.loader import load_measure_file
from vrp_desktop.paths import resource_path
from vrp_desktop.services import frameworks as fw_service


def _sdq() -> dict:
    return json.loads(resource_path("measures", "sdq_s11_17.json").read_text(encoding="utf-8"))


def test_shipped_values_and_their_sources():
    sdq = fw_service.measure("sdq_s11_17")
    total = definitions.norms(sdq, "total_difficulties")
    assert (total.reliability, total.norm_sd) == (0.80, 5.2)
    assert "Goodman" in total.reliability_source and total.high_need == ["high", "very high"]
    assert definitions.norms(sdq, "internalising").reliability is None  # not held: not shown
    swemwbs = fw_service.measure("swemwbs")
    metric = definitions.norms(swemwbs, "metric")
    assert metric.meaningful_change == 3 and "Shah" in metric.meaningful_change_source
    assert metric.reliability is None
    assert definitions.primary_score(fw_service.measure("youth_confidence")) == "confidence"
    assert definitions.strand_of("mentoring").strand == "Mentoring"
    assert definitions.strand_of("no_such_framework").strand is None


def test_bands_of_scores():
    sdq = fw_service.measure("sdq_s11_17")
    assert definitions.band_of(sdq, "total_difficulties", 18) == "high"
    assert definitions.band_of(sdq, "total_difficulties", 17.5) == "high"  # prorated: rounded
    assert definitions.band_of(sdq, "prosocial", 4) == "very low"
    assert definitions.band_of(sdq, "internalising", 9) is None  # no bands for it
    assert definitions.band_of(sdq, "total_difficulties", None) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["evaluation"].update(primary_score="nope"), "evaluation.primary_score"),
        (
            lambda d: d["evaluation"]["scores"]["conduct"].update(reliability_source=None),
            "reliability needs its source named",
        ),
        (
            lambda d: d["evaluation"]["scores"]["conduct"].update(high_need=["dreadful"]),
            "has no band 'dreadful'",
        ),
        (lambda d: d["evaluation"]["scores"]["conduct"].update(reliability=1.4), "reliability"),
        (lambda d: d["evaluation"]["scores"].update(made_up={}), "no score 'made_up'"),
    ],
)
def test_bad_evaluation_data_is_refused_with_where(tmp_path, change, message):
    data = _sdq()
    change(data)
    path = tmp_path / "sdq.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        load_measure_file(path)
    assert message in str(caught.value) and "sdq.json" in str(caught.value)


def test_periods():
    year = parse_period("2026-27")
    assert (year.start, year.end) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert parse_period("2026/2027") == year
    q = parse_period("2026-27 Q3")
    assert (q.start, q.end, q.label) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026-27 Q3")
    for bad, words in (("2026-28", "second year must follow"), ("2026Q3", "ambiguous"),
                       ("", "not a period"), ("0000-01", "between 1900"),
                       ("9999-00", "between 1900"), ("2026-27 Q5", "not a period")):  # fmt: skip
        with pytest.raises(VrpError, match=words):
            parse_period(bad)
