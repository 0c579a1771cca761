"""Batches and returns share one Quarter type (issue 10, failure 14)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sync.conftest import snapshot
from vrp_desktop.errors import VrpError
from vrp_desktop.returns import report
from vrp_desktop.returns.quarters import Quarter, quarter_of
from vrp_desktop.store.models import Batch
from vrp_desktop.sync import batch_build


def _cover_batch_ids(ws, quarter: Quarter) -> set[str]:
    data = report.build(ws, quarter)
    return {
        row.values[0]
        for row in data.sheet("Cover").rows
        if row.kind == "data" and isinstance(row.values[0], str)
    }


def test_a_return_lists_the_batches_of_its_quarter(pair):
    """Issue 10 (14): batches were labelled "2026-Q4" and returns asked for "2026-27 Q3", so a
    provider's return never listed the quarter's batches."""
    with pair.p() as p:
        built = batch_build.build_batch(p)
        this_quarter = quarter_of(dt.date.today())
        with p.read() as session:
            period = session.get(Batch, built["batch_id"]).period
        assert period == this_quarter.label
        assert built["batch_id"] in _cover_batch_ids(p, this_quarter)
        assert built["batch_id"] not in _cover_batch_ids(p, this_quarter.previous())


def test_a_return_lists_batches_labelled_the_old_way(pair):
    with pair.p() as p:
        built = batch_build.build_batch(p)
        with p.unit() as session:
            session.get(Batch, built["batch_id"]).period = "2026-Q4"
        assert built["batch_id"] in _cover_batch_ids(p, Quarter(2026, 3))


def test_batch_build_takes_a_quarter_as_people_type_it(pair):
    with pair.p() as p:
        built = batch_build.build_batch(p, period="2026/27 q3")
        with p.read() as session:
            assert session.get(Batch, built["batch_id"]).period == "2026-27 Q3"


def test_batch_build_refuses_an_ambiguous_period_and_changes_nothing(pair):
    before = snapshot(pair.prov, pair.outbox)
    with pair.p() as p, pytest.raises(VrpError, match="ambiguous"):
        batch_build.build_batch(p, period="2026Q3")
    assert snapshot(pair.prov, pair.outbox) == before
