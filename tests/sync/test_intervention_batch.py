"""What an intervention sends to the VRP: the shared fields of its newest version, never the
lead worker's name or the usual day and time (local planning aids)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyrage

from vrp_desktop.services import interventions
from vrp_desktop.sync import batch_build, coordinator, manifest


def _interventions_in(pair, path: str) -> dict[str, dict]:
    with pair.c() as c:
        identity = coordinator.identity(c)
    plain = pyrage.decrypt(Path(path).read_bytes(), [identity])
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        text = zf.read(manifest.MEMBERS["intervention"]).decode()
    return {r["id"]: r for r in map(json.loads, text.splitlines())}


def test_edits_and_closing_travel_and_the_lead_worker_never_does(pair):
    with pair.p() as p:
        made = interventions.create_intervention(
            p, name="Tuesday boxing", framework_id="sports_diversion", setting="sports_venue",
            delivery="group", usual_weekday="tue", usual_time="17:30", usual_minutes=60,
            usual_location_type="boxing_gym", lead_staff="Marguerite Okonkwo",
        )  # fmt: skip
        first = batch_build.build_batch(p)
    sent = _interventions_in(pair, first["file"])[made["id"]]
    assert set(sent) == set(manifest.FIELDS["intervention"])
    assert "Okonkwo" not in json.dumps(sent)

    with pair.p() as p:
        assert interventions.get_intervention(p, made["id"])["sync_state"] == "sent"
        interventions.edit_intervention(p, made["id"], {"name": "Tuesday boxing club"})
        interventions.close_intervention(p, made["id"], reason="Hall closed")
        second = batch_build.build_batch(p)
    again = _interventions_in(pair, second["file"])[made["id"]]
    assert again["version"] == 3 and again["name"] == "Tuesday boxing club"
    assert again["active"] is False
