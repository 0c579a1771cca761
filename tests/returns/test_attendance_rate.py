"""The Delivery sheet's attendance rate: attendances of every register row, as the sessions
service counts it; small registers not shown."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.returns.conftest import DEMO_END
from vrp_desktop.returns import report
from vrp_desktop.returns.attendance import RATE
from vrp_desktop.returns.quarters import parse_quarter
from vrp_desktop.services import sessions

Q = parse_quarter("2026-27 Q2")


@pytest.fixture
def demo_ws(tmp_path, monkeypatch):
    """A small workspace where a quarter of the register rows are absences."""
    from vrp_desktop.services import demo
    from vrp_desktop.workspace import Workspace

    monkeypatch.setenv("VRP_FAST_KDF", "1")
    ws, _ = Workspace.create(
        tmp_path / "ws",
        provider_code="P001",
        provider_name="Test Youth Project",
        username="manager",
        passphrase=PASSPHRASE,
    )
    demo.generate(ws, participants=60, sessions=300, seed=4, end=DEMO_END)
    with ws.unit() as s:
        s.execute(text("UPDATE attendance SET status = 'absent' WHERE rowid % 4 = 0"))
    yield ws
    ws.close()


def test_attendance_rate_is_present_of_register_rows(demo_ws):
    data = report.build(demo_ws, Q)
    rows = [r.values for r in data.sheet("Delivery").rows if r.values[0] == RATE]
    assert rows, "the Delivery sheet has an attendance rate"
    total = next(v for v in rows if v[1] == "Session type" and v[2] == "Total")[-1]
    want = sessions.attendance_rates(demo_ws, Q.start, Q.next().start)
    assert want["rows"] > want["present"] > 0  # the demo has absences
    assert abs(total - want["rate"]) < 1e-9
    header = data.sheet("Delivery").header
    for k, (iid, _) in enumerate(
        (key, label) for key, label in _splits(demo_ws)
    ):  # per intervention, the same as the service's figure for it
        per = sessions.attendance_rates(demo_ws, Q.start, Q.next().start, intervention_id=iid)
        shown = next(v for v in rows if v[2] == "Total")[3 + k]
        if per["rows"] == 0:
            assert shown is None
        elif per["rows"] < data.threshold:
            assert shown == "[c]"
        else:
            assert abs(shown - per["rate"]) < 1e-9
    assert header[-1] == "Total"


def _splits(ws):
    from vrp_desktop.returns import aggregate
    from vrp_desktop.services import frameworks

    with ws.engine.connect() as conn:
        figures = aggregate.figures(
            conn, report.source_for(ws, Q), Q, list(frameworks.builtin_catalog().measures())
        )
        conn.rollback()
    return figures.splits
