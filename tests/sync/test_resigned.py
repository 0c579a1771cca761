"""Issue 10 failures 5 and 6, issue 12 part 6: a batch correctly signed by a provider but wrong
inside. Every bad record is refused with a plain reason in the receipt, nothing of it is
stored, and no import ever ends in an unhandled exception."""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tests.conftest import PASSPHRASE
from tests.sync.conftest import snapshot
from tests.sync.resign import open_batch, resign
from vrp_desktop import cli
from vrp_desktop.ids import uuid7
from vrp_desktop.store.sync_models import ImportedParticipant, ImportedResponse
from vrp_desktop.sync import batch_build, batch_import, manifest
from vrp_desktop.sync.common import SyncError
from vrp_desktop.validation import batch_schema
from vrp_desktop.workspace import Workspace

PLANTED = "Amir Khan 2009-04-02"


@pytest.fixture
def built(pair) -> Path:
    with pair.p() as p:
        return Path(batch_build.build_batch(p)["file"])


def _stored_text(pair) -> str:
    """Every value of every table of the coordinator's store, as one text."""
    with Workspace.open(pair.coord, "coord", PASSPHRASE) as c, c.read() as s:
        conn = s.connection()
        tables = inspect(conn).get_table_names()  # on either back-end
        return "\n".join(
            repr(tuple(row)) for t in tables for row in conn.exec_driver_sql(f'SELECT * FROM "{t}"')
        )


def _import(pair, path: Path):
    with pair.c() as c:
        return batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")


def _first(records, entity: str) -> dict[str, Any]:
    return records[entity][0]


def _set(entity: str, key: str, value: Any):
    def edit(records):
        _first(records, entity)[key] = value

    return edit


def _drop(entity: str, key: str):
    def edit(records):
        del _first(records, entity)[key]

    return edit


def _replace_first(entity: str, value: Any):
    def edit(records):
        records[entity][0] = value

    return edit


CASES = {
    "age band zzz": ("participant", _set("participant", "age_band", "zzz"), "age_band"),
    "name as pseudonym": ("participant", _set("participant", "pseudonym", PLANTED), "pseudonym"),
    "pseudonym of the wrong length": (
        "participant",
        _set("participant", "pseudonym", "ab" * 20),
        "pseudonym",
    ),
    "planted name field": (
        "participant",
        _set("participant", "first_name", PLANTED),
        "never travel",
    ),
    "planted key that is itself a name": (
        "participant",
        _set("participant", PLANTED, "x"),
        "never travel",
    ),
    "missing key": ("participant", _drop("participant", "gender"), "lacks the fields gender"),
    "version as text": ("participant", _set("participant", "version", "1"), "version"),
    "huge version": ("participant", _set("participant", "version", 2**70), "version"),
    "id not an id": ("participant", _set("participant", "id", {"name": PLANTED}), "id"),
    "id that is a name": ("participant", _set("participant", "id", PLANTED), "id"),
    "date in the wrong format": (
        "participant",
        _set("participant", "consent_date", "04/02/2009"),
        "YYYY-MM-DD",
    ),
    "date that is a number": ("participant", _set("participant", "consent_date", 20090402), "date"),
    "date in year one": ("enrolment", _set("enrolment", "start_date", "0001-01-01"), "between"),
    "date that does not exist": (
        "enrolment",
        _set("enrolment", "start_date", "2025-02-30"),
        "not a real date",
    ),
    "gender out of the list": ("participant", _set("participant", "gender", "zzz"), "gender"),
    "not a record": ("participant", _replace_first("participant", [1, 2, 3]), "not a record"),
    "blank intervention name": ("intervention", _set("intervention", "name", "   "), "name"),
    "intervention name not text": ("intervention", _set("intervention", "name", 7), "name"),
    "tier out of the list": ("intervention", _set("intervention", "tier", "zzz"), "tier"),
    "duration as text": ("session", _set("session", "duration_minutes", "sixty"), "duration"),
    "huge duration": ("session", _set("session", "duration_minutes", 10**30), "duration"),
    "activity that is a name": (
        "session",
        _set("session", "activities", [PLANTED]),
        "activities",
    ),
    "register line with a planted field": (
        "session",
        lambda r: _first(r, "session")["register"].append(
            {**_first(r, "session")["register"][0], "first_name": PLANTED}
        ),
        "register",
    ),
    "register that is not a list": ("session", _set("session", "register", PLANTED), "register"),
    "session time garbled": ("session", _set("session", "starts_at", PLANTED), "starts_at"),
    "answers with text": (
        "outcome_response",
        lambda r: _first(r, "outcome_response")["answers"].__setitem__(0, PLANTED),
        "answers",
    ),
    "answer out of range": (
        "outcome_response",
        lambda r: _first(r, "outcome_response")["answers"].__setitem__(0, 99),
        "answers",
    ),
    "scores that are not numbers": (
        "outcome_response",
        _set("outcome_response", "scores", {"total": PLANTED}),
        "scores",
    ),
    "tombstone for an unknown kind": (
        "tombstone",
        lambda r: r["tombstone"].append(
            {
                "id": "01a220ad-8f31-7224-9062-a443e117ad5c",
                "entity": "user",
                "entity_id": "01a220ad-8f31-7224-9062-a443e117ad5d",
                "version": 1,
                "reason": "deleted",
                "deleted_at": "2026-01-01T10:00:00",
            }
        ),
        "entity",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_signed_record_that_is_wrong_inside_is_refused_and_never_stored(
    pair, built, tmp_path, case
):
    entity, edit, words = CASES[case]
    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    report = _import(pair, path)  # never an unhandled exception
    assert report.error is None
    refused = [r for r in report.rejected if r["entity"] == entity]
    assert len(refused) == 1, report.rejected
    assert words in refused[0]["reason"]
    # the rest of the batch went in as usual
    assert report.counts["accepted"] > 0
    # nothing planted reached the store, the receipt or the reason
    assert PLANTED not in _stored_text(pair)
    assert PLANTED not in Path(report.receipt).read_text()
    assert "zzz" not in refused[0]["reason"]


def test_the_bad_record_id_is_never_written_back(pair, built, tmp_path):
    path = resign(pair, built, _set("participant", "id", PLANTED), tmp_path / "edited.vrpbatch")
    report = _import(pair, path)
    assert [r["id"] for r in report.rejected if r["entity"] == "participant"] == ["(no valid id)"]


def test_a_pseudonym_of_the_right_shape_is_stored(pair, built):
    report = _import(pair, built)
    assert report.counts["rejected"] == 0
    with pair.c() as c, c.read() as s:
        shapes = {
            len(p or "") for p in s.scalars(text("SELECT pseudonym FROM imported_participant"))
        }
    assert shapes == {batch_schema.PSEUDONYM_LENGTH}


def _response_with_scores(records) -> dict[str, Any]:
    return next(r for r in records["outcome_response"] if r["scores"])


def test_scores_that_do_not_match_the_answers_are_refused(pair, built, tmp_path):
    def edit(records):
        response = _response_with_scores(records)
        response["scores"] = {k: 40.0 for k in response["scores"]}

    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    report = _import(pair, path)
    refused = [r for r in report.rejected if r["entity"] == "outcome_response"]
    assert len(refused) == 1 and "do not match the answers" in refused[0]["reason"]


def test_the_vrp_stores_its_own_scores(pair, built, tmp_path):
    _body, records = open_batch(pair, built)
    original = copy.deepcopy(_response_with_scores(records))

    def edit(records):
        response = _response_with_scores(records)
        response["scores"] = {k: 40.0 for k in response["scores"]}
        response["bands"] = {k: "made up" for k in response["scores"]}
        response["scoring_version"] = response["scoring_version"].split(":")[0] + ":v99"

    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    report = _import(pair, path)
    assert report.counts["rejected"] == 0
    with pair.c() as c, c.read() as s:
        held = s.get(ImportedResponse, original["id"])
        assert (held.scores, held.bands) == (original["scores"], original["bands"])
        assert held.scoring_version == original["scoring_version"]


def test_a_line_that_is_not_json_refuses_the_batch_and_changes_nothing(pair, built, tmp_path):
    def edit(records):
        records["participant"].append(b"{not json")

    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    before = snapshot(pair.coord)
    with pair.c() as c, pytest.raises(SyncError, match="not a record"):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")
    assert snapshot(pair.coord) == before


def test_deeply_nested_json_refuses_the_batch(pair, built, tmp_path):
    def edit(records):
        records["participant"].append(b"[" * 100_000 + b"]" * 100_000)

    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    with pair.c() as c, pytest.raises(SyncError, match="not a record"):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")


@pytest.mark.parametrize(
    "key, value",
    [("batch_id", "../../etc/passwd"), ("previous_batch_id", {"a": 1}), ("period", ["x"])],
)
def test_a_signed_manifest_with_wrong_types_is_refused(pair, built, tmp_path, key, value):
    path = resign(
        pair,
        built,
        lambda r: None,
        tmp_path / "edited.vrpbatch",
        edit_manifest=lambda body: body.__setitem__(key, value),
    )
    before = snapshot(pair.coord)
    with pair.c() as c, pytest.raises(SyncError, match="wrong type"):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")
    assert snapshot(pair.coord) == before


def test_the_same_record_twice_in_one_batch(pair, built, tmp_path):
    def edit(records):
        records["participant"].append(copy.deepcopy(records["participant"][0]))

    path = resign(pair, built, edit, tmp_path / "edited.vrpbatch")
    report = _import(pair, path)
    assert report.error is None
    assert [r["entity"] for r in report.rejected] == ["participant"]
    with pair.c() as c, c.read() as s:
        assert s.get(ImportedParticipant, records_id(pair, built)) is not None


def records_id(pair, built) -> str:
    return open_batch(pair, built)[1]["participant"][0]["id"]


def test_a_tombstone_removes_only_versions_up_to_its_own(pair, built, tmp_path):
    _body, records = open_batch(pair, built)
    person = records["participant"][0]

    def stone(version: int):
        def edit(records):
            for entity in manifest_entities():
                records[entity] = []
            records["tombstone"] = [
                {
                    "id": uuid7(),
                    "entity": "participant",
                    "entity_id": person["id"],
                    "version": version,
                    "reason": "deleted",
                    "deleted_at": "2026-01-01T10:00:00",
                }
            ]

        return edit

    _import(pair, built)  # holds version 1 (or more) of the person
    held_version = person["version"]
    older = resign(pair, built, stone(held_version - 1 or 0), tmp_path / "older.vrpbatch")
    if held_version > 1:
        _import(pair, older)
        with pair.c() as c, c.read() as s:
            assert s.get(ImportedParticipant, person["id"]) is not None
    newer = resign(pair, built, stone(held_version), tmp_path / "newer.vrpbatch")
    assert _import(pair, newer).counts["rejected"] == 0
    with pair.c() as c, c.read() as s:
        assert s.get(ImportedParticipant, person["id"]) is None
        # and everything that hung off that person went with them, nobody else's
        left = s.connection().exec_driver_sql(
            "SELECT count(*) FROM imported_attendance WHERE participant_id = ?", (person["id"],)
        )
        assert left.scalar() == 0
        assert s.connection().exec_driver_sql("SELECT count(*) FROM imported_session").scalar()


def test_a_tombstone_for_an_older_version_leaves_the_newer_one(pair, built, tmp_path):
    def bump(records):
        for entity in manifest_entities():
            records[entity] = records[entity][:1] if entity == "participant" else []
        records["participant"][0]["version"] = 5
        records["participant"][0]["gender"] = "male"
        records["tombstone"] = [
            {
                "id": uuid7(),
                "entity": "participant",
                "entity_id": records["participant"][0]["id"],
                "version": 4,
                "reason": "deleted",
                "deleted_at": "2026-01-01T10:00:00",
            }
        ]

    _import(pair, built)
    path = resign(pair, built, bump, tmp_path / "edited.vrpbatch")
    report = _import(pair, path)
    assert report.counts["rejected"] == 0
    person = open_batch(pair, built)[1]["participant"][0]["id"]
    with pair.c() as c, c.read() as s:
        held = s.get(ImportedParticipant, person)
        assert (held.version, held.gender) == (5, "male")


def test_a_conflict_keeps_only_the_fields_that_travel(pair, built, tmp_path):
    _import(pair, built)

    def clash(records):
        for entity in manifest_entities():
            records[entity] = records[entity][:1] if entity == "participant" else []
        records["participant"][0]["gender"] = (
            "male" if records["participant"][0]["gender"] != "male" else "female"
        )

    report = _import(pair, resign(pair, built, clash, tmp_path / "clash.vrpbatch"))
    assert report.counts["conflicts"] == 1
    with pair.c() as c, c.read() as s:
        (offered,) = s.connection().exec_driver_sql("SELECT offered FROM import_conflict").one()
    if isinstance(offered, str):  # SQLite hands JSON back as text, psycopg as a dict
        offered = json.loads(offered)
    assert set(offered) == set(manifest.FIELDS["participant"])


def test_the_batch_schema_covers_exactly_what_travels():
    for entity, fields in manifest.FIELDS.items():
        extra = {"register"} if entity == "session" else set()
        assert batch_schema.KEYS[entity] == set(fields) | extra


def test_a_record_whose_intervention_has_not_arrived_waits_then_applies(
    pair, built, tmp_path, capsys, monkeypatch
):
    def without_interventions(records):
        records["intervention"] = []

    first = _import(pair, resign(pair, built, without_interventions, tmp_path / "a.vrpbatch"))
    assert first.counts["rejected"] == 0 and first.counts["pending"] > 0
    with pair.c() as c:
        waiting = batch_import.list_pending(c)
    # the VRP can see what waits, and for what, from the command line
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    capsys.readouterr()
    assert cli.main(["batch", "pending", str(pair.coord), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(w["entity"], w["record_id"]) for w in shown] == [
        (w["entity"], w["record_id"]) for w in waiting
    ]
    assert cli.main(["batch", "pending", str(pair.coord)]) == 0
    assert f"{len(waiting)} record(s) wait" in capsys.readouterr().out
    # enrolments and sessions wait for their intervention, questionnaires for their enrolment
    assert waiting and all(
        ("enrolment " if w["entity"] == "outcome_response" else "intervention ") in w["waiting_for"]
        for w in waiting
    )

    def only_interventions(records):
        for entity in manifest_entities():
            if entity != "intervention":
                records[entity] = []

    second = _import(pair, resign(pair, built, only_interventions, tmp_path / "b.vrpbatch"))
    assert second.counts["released"] == first.counts["pending"]
    with pair.c() as c:
        assert batch_import.list_pending(c) == []
        assert batch_import.held_counts(c)["session"] == len(open_batch(pair, built)[1]["session"])
    assert cli.main(["batch", "pending", str(pair.coord)]) == 0
    assert "Nothing is waiting" in capsys.readouterr().out


def manifest_entities():
    return list(manifest.MEMBERS)


@pytest.mark.parametrize("member", [b"\xff\xfe\x00not ascii", b"", b"A" * 88])
def test_an_unreadable_signature_is_refused_clearly(pair, built, tmp_path, member):
    path = resign(pair, built, lambda r: None, tmp_path / "sig.vrpbatch", signature_member=member)
    before = snapshot(pair.coord)
    with pair.c() as c, pytest.raises(SyncError, match=r"signature|not signed|damaged"):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")
    assert snapshot(pair.coord) == before


@pytest.mark.parametrize("into", [0, 3, 40])
def test_a_corrupt_deflate_stream_is_refused_clearly(pair, built, tmp_path, into):
    def flip(plain: bytes) -> bytes:
        name_length, extra_length = struct.unpack("<HH", plain[26:30])
        at = 30 + name_length + extra_length + into
        return plain[:at] + bytes([plain[at] ^ 0xFF]) + plain[at + 1 :]

    path = resign(pair, built, lambda r: None, tmp_path / "z.vrpbatch", mangle=flip)
    before = snapshot(pair.coord)
    with pair.c() as c, pytest.raises(SyncError, match="damaged"):
        batch_import.import_batch(c, path, receipt_folder=pair.root / "receipts")
    assert snapshot(pair.coord) == before
