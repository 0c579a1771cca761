"""The partnership return over the coordinator's imported records: by provider and in total,
a person seen by two providers counted once."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.returns.conftest import libreoffice_csv, soffice
from vrp_desktop.returns import workbook
from vrp_desktop.returns.quarters import parse_quarter
from vrp_desktop.store.models import Batch, Provider
from vrp_desktop.store.sync_models import (
    ImportedAttendance,
    ImportedEnrolment,
    ImportedIntervention,
    ImportedParticipant,
    ImportedResponse,
    ImportedSession,
)

Q = parse_quarter("2026-27 Q3")


def _held(model, provider, batch, **values):
    return model(
        provider_id=provider.id, version=1, batch_id=batch, content_sha256="0" * 64, **values
    )


@pytest.fixture
def coordinator(tmp_path, coord_database):
    """On each back-end: an encrypted file, and a PostgreSQL server (issue 14)."""
    from vrp_desktop.workspace import Workspace

    ws, _ = Workspace.create(
        tmp_path / "vrp",
        provider_code="VRP",
        provider_name="West Midlands VRP",
        username="coord",
        passphrase=PASSPHRASE,
        role="coordinator",
        kind="coordinator",
        database=coord_database,
    )
    with ws.unit() as s:
        p1 = Provider(code="P001", name="Ladywood Youth", is_self=False)
        p2 = Provider(code="P002", name="City Mentors", is_self=False)
        s.add_all([p1, p2])
        s.flush()
        for provider, batch in ((p1, "b1"), (p2, "b2")):
            s.add(
                Batch(
                    id=batch,
                    provider_id=provider.id,
                    direction="in",
                    period=Q.label,
                    status="imported",
                    record_count=10,
                )
            )
            s.add(
                _held(
                    ImportedIntervention,
                    provider,
                    batch,
                    id=f"i-{provider.code}",
                    framework_id="mentoring",
                    framework_version=1,
                    name=f"Mentoring {provider.code}",
                    tier="targeted",
                    setting="community",
                )
            )
        people = [  # (id, provider, pseudonym, gender, age band)
            ("a1", p1, "shared", "male", "14-15"),
            ("a2", p1, "only-1", "female", "16-17"),
            ("b1", p2, "shared", "male", "14-15"),
            ("b2", p2, None, "male", "10-13"),
            ("b3", p2, "only-2", "female", "18-20"),
        ]
        for pid, provider, pseudo, gender, band in people:
            batch = "b1" if provider is p1 else "b2"
            s.add(
                _held(
                    ImportedParticipant,
                    provider,
                    batch,
                    id=pid,
                    pseudonym=pseudo,
                    gender=gender,
                    age_band=band,
                    ethnicity="white_british",
                    consent_status="given",
                )
            )
            s.add(
                _held(
                    ImportedEnrolment,
                    provider,
                    batch,
                    id=f"e-{pid}",
                    participant_id=pid,
                    intervention_id=f"i-{provider.code}",
                    referral_source="school",
                    referral_date=dt.date(2026, 10, 2),
                    start_date=dt.date(2026, 10, 5),
                )
            )
        s.add(
            _held(
                ImportedSession,
                p2,
                "b2",
                id="s1",
                intervention_id="i-P002",
                starts_at=dt.datetime(2026, 11, 3, 17),
                duration_minutes=90,
                session_type="group",
                status="delivered",
                activities=[],
            )
        )
        for pid in ("b1", "b2", "b3"):
            s.add(
                _held(
                    ImportedAttendance,
                    p2,
                    "b2",
                    id=f"at-{pid}",
                    session_id="s1",
                    participant_id=pid,
                    status="attended",
                    intervention_id="i-P002",
                    session_status="delivered",
                    duration_minutes=90,
                )
            )
        for pid, base, exit_ in (("a1", 20, 14), ("b1", 18, 19)):
            provider = p1 if pid.startswith("a") else p2
            for tp, on, score in (
                ("baseline", dt.date(2026, 10, 6), base),
                ("exit", dt.date(2026, 12, 10), exit_),
            ):
                s.add(
                    _held(
                        ImportedResponse,
                        provider,
                        "b1",
                        id=f"r-{pid}-{tp}",
                        participant_id=pid,
                        enrolment_id=f"e-{pid}",
                        measure_id="sdq_s11_17",
                        timepoint=tp,
                        completed_on=on,
                        answers=[],
                        scores={"total_difficulties": score},
                    )
                )
    yield ws
    ws.close()


def _rows(sheet):
    header = [c.value for c in sheet[4]]
    return [
        dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=5, values_only=True)
    ]


def test_partnership_return_by_provider_and_in_total(coordinator, tmp_path):
    data, path = workbook.export_return(coordinator, Q, tmp_path / "p.xlsx", threshold=1)
    assert data.kind == "partnership"
    wb = openpyxl.load_workbook(path)
    assert wb.properties.category == "Partnership return"
    reach = _rows(wb["Reach"])
    total = next(
        r
        for r in reach
        if r["Measure"] == "People reached"
        and r["Breakdown"] == "Gender"
        and r["Category"] == "Total"
    )
    with coordinator.engine.connect() as conn:
        unique = conn.execute(
            text(
                "SELECT COUNT(DISTINCT COALESCE(pseudonym, 'id:' || id)) FROM imported_participant"
            )
        ).scalar_one()
    assert unique == 4
    assert total["Ladywood Youth [P001]"] == 2
    assert total["City Mentors [P002]"] == 3
    assert total["Total"] == unique  # the shared young person counts once
    by_intervention = [
        r for r in reach if r["Breakdown"] == "Intervention" and r["Measure"] == "People reached"
    ]
    assert {r["Category"] for r in by_intervention} >= {
        "Mentoring P001 [P001]",
        "Mentoring P002 [P002]",
    }
    delivery = _rows(wb["Delivery"])
    contact = next(
        r
        for r in delivery
        if r["Measure"].startswith("Contact hours")
        and r["Breakdown"] == "Session type"
        and r["Category"] == "Group"
    )
    assert contact["City Mentors [P002]"] == pytest.approx(4.5)  # 3 attendees x 90 minutes
    outcomes = [r for r in _rows(wb["Outcomes"]) if r["Score"] == "Total difficulties"]
    total_row = next(r for r in outcomes if r["Provider"] == "Total")
    assert total_row["People with baseline and exit"] == 1  # the same person at both providers
    assert total_row["Share improved"] == pytest.approx(0.5)
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(min_row=4, values_only=True)}
    assert cover["Batches included"] == 2
    assert "Ladywood Youth [P001]" in cover["Providers"]


def test_partnership_return_is_suppressed_by_default(coordinator, tmp_path):
    _, path = workbook.export_return(coordinator, Q, tmp_path / "p.xlsx")
    reach = _rows(openpyxl.load_workbook(path)["Reach"])
    values = [
        v for r in reach for k, v in r.items() if k not in ("Measure", "Breakdown", "Category")
    ]
    assert all(v == 0 or v in ("<5", "[c]") or (isinstance(v, int) and v >= 5) for v in values)


@pytest.mark.skipif(
    soffice() is None, reason="LibreOffice (Debian libreoffice-calc-nogui) is not installed"
)
def test_libreoffice_opens_the_partnership_return(coordinator, tmp_path):
    _, path = workbook.export_return(coordinator, Q, tmp_path / "p.xlsx")
    cover = libreoffice_csv(path, tmp_path / "csv")
    assert "Partnership quarterly return 2026-27 Q3" in cover
