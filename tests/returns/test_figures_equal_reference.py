"""The optimised figures (temporary tables of the quarter, covering and partial indexes) equal
the straightforward ones (``reference_aggregate``: every group-by over the source tables), for
every figure of every sheet, in provider and partnership workspaces."""

from __future__ import annotations

import dataclasses
import math

import pytest
from sqlalchemy import text

from tests.returns import reference_aggregate
from tests.returns.test_partnership import Q as PARTNERSHIP_Q
from tests.returns.test_partnership import coordinator  # noqa: F401 (a fixture)
from vrp_desktop.returns import aggregate, report
from vrp_desktop.returns.quarters import parse_quarter
from vrp_desktop.services import frameworks as fw_service


def _figures(ws, module, quarter) -> dict:
    measures = list(fw_service.builtin_catalog().measures())
    source = report.source_for(ws, quarter)
    with ws.engine.connect() as conn:
        figures = module.figures(conn, source, quarter, measures)
        conn.rollback()
    return dataclasses.asdict(figures)


def _assert_same(got, want, path="figures") -> None:
    """Equal, value for value; means may differ only in the last bits of a float (the rows
    are summed in another order)."""
    if isinstance(want, dict):
        if "row_keys" not in want:  # what a row counts, for disclosure control: not a figure
            got = {k: v for k, v in got.items() if k != "row_keys"}
        assert got.keys() == want.keys(), path
        for key in want:
            _assert_same(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), path
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{path}[{k}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-12), (
            path,
            got,
            want,
        )
    else:
        assert got == want, (path, got, want)


@pytest.mark.parametrize("label", ["2026-27 Q1", "2026-27 Q2", "2026-27 Q3", "2027-28 Q1"])
def test_provider_figures_equal_the_straightforward_queries(demo_ws, label):
    quarter = parse_quarter(label)
    want = _figures(demo_ws, reference_aggregate, quarter)
    got = _figures(demo_ws, aggregate, quarter)
    _assert_same(got, want)
    if label == "2026-27 Q2":
        assert want["reach"][0]["grand"] > 20 and want["outcomes"]


def test_sent_only_figures_equal_the_straightforward_queries(demo_ws):
    """A provider's return of only what it sent (what the partnership return counts): the
    register of a session not sent (a draft with an error) is left out with its session."""
    from vrp_desktop.returns.source import provider_source

    quarter = parse_quarter("2026-27 Q2")
    measures = list(fw_service.builtin_catalog().measures())
    source = provider_source(quarter, sent_only=True)
    with demo_ws.engine.connect() as conn:
        # half the records went to the VRP (rolled back at the end: the workspace is shared)
        for table in ("intervention", "participant", "enrolment", "session", "outcome_response"):
            conn.execute(text(f"UPDATE {table} SET sync_state = 'sent' WHERE rowid % 2 = 0"))
        drafts = conn.execute(
            text(
                "SELECT count(*) FROM attendance_by_start AS r JOIN session AS s "
                "ON s.id = r.session_id WHERE s.sync_state NOT IN ('queued', 'sent', "
                "'accepted') AND r.starts_at >= '2026-07-01' AND r.starts_at < '2026-10-01'"
            )
        ).scalar()
        want = dataclasses.asdict(reference_aggregate.figures(conn, source, quarter, measures))
        got = dataclasses.asdict(aggregate.figures(conn, source, quarter, measures))
        conn.rollback()
    assert drafts > 0  # registers not sent are there to be left out
    assert want["delivery"][0]["grand"] > 0  # and some were sent
    _assert_same(got, want)


def test_figures_equal_after_absences_errors_and_warnings(demo_ws):
    """Marks some attendees absent and some records with errors and open warnings (then puts
    everything back), so every branch of the fast path is compared."""
    quarter = parse_quarter("2026-27 Q2")
    findings = (
        '[{"field": "mode", "severity": "error", "message": "x"}, '
        '{"field": "notes", "severity": "warning", "message": "y"}]'
    )
    changes = [
        "UPDATE attendance SET status = 'absent' WHERE rowid % 7 = 0",
        "UPDATE attendance SET status = 'late' WHERE rowid % 11 = 0",
        "UPDATE session SET duration_minutes = NULL WHERE rowid % 9 = 0",
        "UPDATE session SET status = 'cancelled' WHERE rowid % 13 = 0",
    ] + [
        f"UPDATE {table} SET findings = :f, warning_reason = NULL, sync_state = 'accepted' "
        "WHERE rowid % 5 = 0"
        for table in ("session", "enrolment", "participant")
    ]
    with demo_ws.engine.connect() as conn:
        tx = conn.begin()
        for change in changes:
            conn.execute(text(change), {"f": findings} if ":f" in change else {})
        measures = list(fw_service.builtin_catalog().measures())
        source = report.source_for(demo_ws, quarter)
        want = dataclasses.asdict(reference_aggregate.figures(conn, source, quarter, measures))
        got = dataclasses.asdict(aggregate.figures(conn, source, quarter, measures))
        tx.rollback()
    _assert_same(got, want)
    assert any(g["grand"] for g in want["quality"] if g["breakdown"] == "With errors to fix")


def test_partnership_figures_equal_the_straightforward_queries(coordinator):  # noqa: F811
    want = _figures(coordinator, reference_aggregate, PARTNERSHIP_Q)
    got = _figures(coordinator, aggregate, PARTNERSHIP_Q)
    _assert_same(got, want)
    assert want["reach"][0]["grand"] > 0
