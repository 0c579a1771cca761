"""The quarterly return, read back with openpyxl and checked against SQL written here."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import text

from tests.returns.conftest import libreoffice_csv, soffice
from vrp_desktop.returns import report, workbook
from vrp_desktop.returns.quarters import parse_quarter

Q = parse_quarter("2026-27 Q2")  # July to September 2026, inside the demo data
HEADER_ROW = 4

REACHED = """
    SELECT {cols} FROM participant p
    JOIN (
        SELECT a.participant_id AS pid, s.intervention_id AS iid
        FROM attendance a JOIN session s ON s.id = a.session_id
        WHERE s.status = 'delivered' AND a.status IN ('attended', 'late', 'left_early')
          AND s.starts_at >= :lo AND s.starts_at < :hi
        UNION
        SELECT e.participant_id, e.intervention_id FROM enrolment e
        WHERE e.start_date <= :qe AND (e.end_date IS NULL OR e.end_date >= :qs)
    ) r ON r.pid = p.id
    JOIN intervention i ON i.id = r.iid
    WHERE p.erased_at IS NULL {group}
"""


def _params():
    return {
        "lo": "2026-07-01 00:00:00",
        "hi": "2026-10-01 00:00:00",
        "qs": "2026-07-01",
        "qe": "2026-09-30",
    }


def _sql(ws, query, **extra):
    with ws.engine.connect() as conn:
        return conn.execute(text(query), {**_params(), **extra}).all()


def _table(sheet):
    """Rows under the header as dicts keyed by header."""
    header = [c.value for c in sheet[HEADER_ROW]]
    rows = []
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        rows.append(dict(zip(header, row, strict=False)))
    return header, rows


@pytest.fixture(scope="module")
def unsuppressed(demo_ws, tmp_path_factory):
    path = tmp_path_factory.mktemp("ret") / "return.xlsx"
    data, written = workbook.export_return(demo_ws, Q, path, threshold=1)
    return openpyxl.load_workbook(written), data, written


def test_sheets_cover_and_properties(unsuppressed):
    wb, _, _ = unsuppressed
    assert wb.sheetnames == ["Cover", "Reach", "Delivery", "Outcomes", "Data quality", "Notes"]
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(min_row=HEADER_ROW, values_only=True)}
    assert cover["Provider"] == "Test Youth Project [P001]"
    assert cover["Period"] == "2026-27 Q2"
    assert cover["Period starts"] == dt.datetime(2026, 7, 1)  # a real date cell
    assert wb["Cover"]["B7"].is_date and wb["Cover"]["B7"].number_format == "dd/mm/yyyy"
    assert isinstance(cover["Made on"], dt.datetime)
    assert cover["Software"].startswith("VRP Desktop ")
    assert cover["Batches included"] == 0
    assert wb.properties.title == "Quarterly return 2026-27 Q2"
    assert wb.properties.creator.startswith("VRP Desktop")
    assert "vrp_header" in wb.named_styles and "vrp_number" in wb.named_styles
    for name in ("Reach", "Delivery", "Outcomes", "Data quality"):
        assert wb[name].freeze_panes is not None
        assert wb[name].column_dimensions["A"].width >= 8


def test_people_reached_matches_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    header, rows = _table(wb["Reach"])
    total = _sql(
        demo_ws,
        REACHED.format(cols="COUNT(DISTINCT COALESCE(p.pseudonym, 'id:' || p.id))", group=""),
    )[0][0]
    assert total > 20
    row = next(
        r
        for r in rows
        if r["Measure"] == "People reached"
        and r["Breakdown"] == "Gender"
        and r["Category"] == "Total"
    )
    assert row["Total"] == total
    # by gender and intervention
    by = _sql(
        demo_ws,
        REACHED.format(
            cols="p.gender, i.name, COUNT(DISTINCT COALESCE(p.pseudonym, 'id:' || p.id))",
            group="GROUP BY p.gender, i.name",
        ),
    )
    labels = {
        "male": "Male",
        "female": "Female",
        "non_binary": "Non-binary",
        "prefer_not_to_say": "Prefer not to say",
        "not_known": "Not known",
    }
    checked = 0
    for gender, intervention, n in by:
        row = next(
            r
            for r in rows
            if r["Measure"] == "People reached"
            and r["Breakdown"] == "Gender"
            and r["Category"] == labels[gender]
        )
        assert row[intervention] == n
        checked += 1
    assert checked >= 4
    for row in rows:  # numbers are numbers
        for key in header[3:]:
            assert isinstance(row[key], (int, float)), (row, key)


def test_ethnic_groups_and_categories_match_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    _, rows = _table(wb["Reach"])
    categories = [
        r for r in rows if r["Measure"] == "People reached" and r["Breakdown"] == "Ethnicity"
    ]
    groups = [
        r for r in rows if r["Measure"] == "People reached" and r["Breakdown"] == "Ethnic group"
    ]
    assert len(categories) == 20 + 2  # 19 categories and Not stated, Not recorded, Total
    assert len(groups) == 6 + 2
    white = _sql(
        demo_ws,
        REACHED.format(
            cols="COUNT(DISTINCT COALESCE(p.pseudonym, 'id:' || p.id))",
            group="AND p.ethnicity LIKE 'white%'",
        ),
    )[0][0]
    assert next(r for r in groups if r["Category"] == "White")["Total"] == white


def test_new_referrals_match_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    _, rows = _table(wb["Reach"])
    n = _sql(
        demo_ws,
        "SELECT COUNT(DISTINCT COALESCE(p.pseudonym, 'id:' || p.id)) FROM enrolment e "
        "JOIN participant p ON p.id = e.participant_id "
        "WHERE e.referral_date BETWEEN :qs AND :qe",
    )[0][0]
    row = next(
        r
        for r in rows
        if r["Measure"] == "New referrals"
        and r["Breakdown"] == "Referral source"
        and r["Category"] == "Total"
    )
    assert row["Total"] == n > 0


def test_delivery_matches_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    _, rows = _table(wb["Delivery"])
    sessions, minutes = _sql(
        demo_ws,
        "SELECT COUNT(*), SUM(duration_minutes) FROM session WHERE status = 'delivered' "
        "AND starts_at >= :lo AND starts_at < :hi",
    )[0]
    contact = _sql(
        demo_ws,
        "SELECT SUM(s.duration_minutes) FROM attendance a JOIN session s ON s.id = a.session_id "
        "WHERE s.status = 'delivered' AND a.status IN ('attended', 'late', 'left_early') "
        "AND s.starts_at >= :lo AND s.starts_at < :hi",
    )[0][0]
    total = {r["Measure"]: r["Total"] for r in rows if r["Category"] == "Total"}
    assert total["Sessions delivered"] == sessions > 0
    assert total["Hours delivered"] == pytest.approx(minutes / 60)
    assert total["Contact hours (attendees × duration)"] == pytest.approx(contact / 60)
    group = _sql(
        demo_ws,
        "SELECT COUNT(*) FROM attendance a JOIN session s ON s.id = a.session_id "
        "WHERE s.status = 'delivered' AND a.status IN ('attended', 'late', 'left_early') "
        "AND s.session_type = 'group' AND s.starts_at >= :lo AND s.starts_at < :hi",
    )[0][0]
    row = next(r for r in rows if r["Measure"] == "Attendances" and r["Category"] == "Group")
    assert row["Total"] == group


def test_outcomes_match_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    _, rows = _table(wb["Outcomes"])
    pairs = _sql(
        demo_ws,
        """
        SELECT x.participant_id,
               json_extract(x.scores, '$.total_difficulties') - json_extract(
                 (SELECT b.scores FROM outcome_response b
                  WHERE b.participant_id = x.participant_id AND b.measure_id = x.measure_id
                    AND b.timepoint = 'baseline' AND b.completed_on <= x.completed_on
                  ORDER BY b.completed_on DESC, b.id DESC LIMIT 1), '$.total_difficulties')
        FROM outcome_response x
        WHERE x.measure_id = 'sdq_s11_17' AND x.timepoint = 'exit'
          AND x.completed_on BETWEEN :qs AND :qe
        """,
    )
    changes = [c for _, c in pairs if c is not None]
    row = next(
        r for r in rows if r["Score"] == "Total difficulties" and r["Intervention"] == "Total"
    )
    assert row["People with baseline and exit"] == len(changes) > 0
    assert row["Mean change"] == pytest.approx(sum(changes) / len(changes))
    assert row["Share improved"] == pytest.approx(sum(c < 0 for c in changes) / len(changes))
    assert row["Better when"] == "Lower"


def test_data_quality_matches_sql(unsuppressed, demo_ws):
    wb, _, _ = unsuppressed
    _, rows = _table(wb["Data quality"])
    sessions = _sql(
        demo_ws,
        "SELECT COUNT(*), SUM(sync_state != 'accepted') FROM session "
        "WHERE starts_at >= :lo AND starts_at < :hi",
    )[0]
    got = {(r["Records"], r["Check"]): r["Total"] for r in rows}
    assert got[("Sessions", "Records in the quarter")] == sessions[0]
    assert got[("Sessions", "Not yet accepted by the VRP")] == sessions[1]
    assert 0 <= got[("Participants", "Gender: complete")] <= 1


def test_default_suppression_hides_small_counts(demo_ws, tmp_path):
    _, path = workbook.export_return(demo_ws, Q, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    header, rows = _table(wb["Reach"])
    marks = 0
    for row in rows:
        for key in header[3:]:
            value = row[key]
            if isinstance(value, str):
                assert value in ("<5", "[c]")
                marks += 1
            else:
                assert value == 0 or value >= 5
    assert marks > 0
    assert "1 to 4" in wb["Notes"]["B14"].value or any(
        "<5" in (r[1] or "") for r in wb["Notes"].iter_rows(values_only=True)
    )


def test_one_person_in_two_interventions_counts_once(workspace, interventions_by_framework):
    from vrp_desktop.services import enrolments, participants

    person = participants.create_participant(
        workspace,
        {
            "first_name": "Sam",
            "last_name": "Okafor",
            "date_of_birth": "2011-03-04",
            "gender": "male",
            "ethnicity": "black_african",
            "consent_status": "given",
            "consent_date": "2026-07-01",
        },
    )
    for fw in ("mentoring", "sports_diversion"):
        enrolments.enrol(
            workspace,
            person["id"],
            interventions_by_framework[fw]["id"],
            {
                "referral_source": "school",
                "referral_date": "2026-07-02",
                "start_date": "2026-07-03",
            },
        )
    data = report.build(workspace, Q, threshold=1)
    reach = data.sheet("Reach")
    total = next(r for r in reach.rows if r.values[:3] == ["People reached", "Gender", "Total"])
    assert total.values[-1] == 1
    male = next(r for r in reach.rows if r.values[:3] == ["People reached", "Gender", "Male"])
    assert sorted(male.values[3:-1]) == [0, 0, 1, 1]
    assert male.values[-1] == 1


def test_a_worker_cannot_export_a_return(demo_ws, tmp_path):
    from vrp_desktop.errors import PermissionDenied
    from vrp_desktop.workspace import SignedInUser

    original = demo_ws.user
    demo_ws.user = SignedInUser("w", "Worker", "worker")
    try:
        with pytest.raises(PermissionDenied):
            workbook.export_return(demo_ws, Q, tmp_path / "r.xlsx")
    finally:
        demo_ws.user = original
    assert not (tmp_path / "r.xlsx").exists()


@pytest.mark.skipif(
    soffice() is None,
    reason="LibreOffice (Debian libreoffice-calc-nogui) "
    "is not installed: cannot prove the file opens in an independent reader",
)
def test_libreoffice_opens_the_return(unsuppressed, tmp_path):
    _, _, path = unsuppressed
    cover = libreoffice_csv(path, tmp_path / "csv", sheet=1)
    assert "Quarterly return 2026-27 Q2" in cover
    assert "Test Youth Project [P001]" in cover
    assert "2026-27 Q2" in cover
