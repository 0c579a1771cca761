"""A corrected questionnaire goes in the next batch, and the VRP ends up with the new version."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services import outcomes
from vrp_desktop.store.models import OutcomeResponse
from vrp_desktop.store.sync_models import ImportedResponse
from vrp_desktop.sync import batch_build, batch_import


def test_corrected_questionnaire_travels_in_the_next_batch(pair):
    with pair.p() as p:
        first = Path(batch_build.build_batch(p)["file"])
        with p.read() as session:
            r = session.scalars(
                select(OutcomeResponse).where(OutcomeResponse.sync_state == "sent").limit(1)
            ).one()
            rid, answers, measure_id = r.id, list(r.answers), r.measure_id
        allowed = sorted(fw_service.measure(measure_id).allowed_values)
        low, high = allowed[0], allowed[-1]
        flipped = [None if a is None else (high if a == low else low) for a in answers]
        fixed = outcomes.correct_response(p, rid, flipped, reason="answers typed on wrong rows")
        assert fixed["version"] == 2 and fixed["sync_state"] == "valid"
        second = batch_build.build_batch(p)
        assert second["counts"]["outcome_response"] == 1
        assert second["records"] == 1
    with pair.c() as c:
        batch_import.import_batch(c, first, receipt_folder=pair.root / "receipts")
        batch_import.import_batch(c, Path(second["file"]), receipt_folder=pair.root / "receipts")
        with c.read() as session:
            got = session.get(ImportedResponse, rid)
            assert got.version == 2
            assert got.scores == fixed["scores"]
