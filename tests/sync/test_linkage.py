"""The linkage key between a custodian and providers: the VRP carries packs it cannot open and
never stores a key; a provider takes only a pack meant for it, signed by the custodian it
compared by phone, and never a key older than the one it uses."""

from __future__ import annotations

import json
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import select

from tests.sync.conftest import snapshot
from tests.sync.linkage_setup import make_partnership
from vrp_desktop.errors import WorkspaceError
from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.store.models import Participant
from vrp_desktop.sync import batch_build, batch_import, common, linkage, onboarding
from vrp_desktop.sync.common import SyncError
from vrp_desktop.workspace import Workspace


@pytest.fixture
def trio(tmp_path):
    return make_partnership(tmp_path / "partnership", participants=8, sessions=20)


def _pseudonyms(ws) -> dict[str, str]:
    with ws.read() as s:
        return dict(s.execute(select(Participant.id, Participant.pseudonym)).all())


def test_the_coordinator_holds_no_key_and_refuses_to_store_one(trio):
    plain = pyrage.passphrase.decrypt(
        trio.packs["P001"].read_bytes(), common.normalise_code(trio.codes["P001"])
    )
    body = json.loads(plain)
    assert body["format"] == onboarding.PACK_FORMAT and "linkage_key" not in body
    with trio.c() as c:
        assert c.setting("linkage_key") is None
        assert linkage.status(c)["holds_key"] is False
        refused = pytest.raises(WorkspaceError, match="never holds the partnership's linkage")
        with refused, c.unit() as s:
            c.set_setting(s, "linkage_key", "ab" * 32)
        assert c.setting("linkage_key") is None
    pack = trio.issue("P001")
    with trio.c() as c, pytest.raises(SyncError, match="runs in a provider's workspace"):
        linkage.import_pack(c, pack, custodian_fingerprint=trio.custodian_fingerprint())
    # the VRP carries the pack, but it is sealed to the provider's own age key
    sealed = common.unb64(json.loads(pack.read_bytes())["sealed"], "sealed")
    with trio.c() as c:
        from vrp_desktop.sync import coordinator

        identity = coordinator.identity(c)
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(sealed, [identity])


def test_import_recomputes_pseudonyms_queues_a_rotation_and_forgets_the_old_key(trio):
    with trio.p("P001") as p:
        own_key = p.setting("linkage_key")
        before = _pseudonyms(p)
    info = trio.link("P001")
    assert info["from_custodian"] and info["generation"] == 1 and info["rekeyed"] == len(before)
    with trio.k() as k:
        custodian_key = k.setting(linkage.C_KEY)
    with trio.p("P001") as p:
        after = _pseudonyms(p)
        assert p.setting("linkage_key") == custodian_key != own_key
        with p.read() as s:
            person = s.scalars(select(Participant)).first()
        assert after[person.id] == pseudonym(
            custodian_key, person.first_name, person.last_name, person.date_of_birth
        )
        rotation = linkage.pending_rotation(p)
        assert sorted(map(tuple, rotation["pairs"])) == sorted(
            (before[i], after[i]) for i in before
        )
        assert rotation["from_key_id"] is None and rotation["to_key_id"] == info["key_id"]
        built = batch_build.build_batch(p)
        assert linkage.pending_rotation(p) is None
    assert built["linkage"]["rotation"]["pairs"] == len(before)
    assert built["linkage"]["key_id"] == info["key_id"]


def test_a_batch_says_how_many_people_are_unique_on_what_travels(trio):
    from collections import Counter

    from vrp_desktop.sync import quasi

    with trio.p("P001") as p:
        built = batch_build.build_batch(p)
        with p.read() as s:
            rows = s.execute(
                select(*(getattr(Participant, f) for f in quasi.FIELDS)).where(
                    Participant.sync_state == "sent"
                )
            ).all()
    groups = Counter(tuple(r) for r in rows)
    figure = built["disclosure"]
    before = figure["before"]  # as recorded, before the partnership's rule coarsened any
    assert figure["people"] == before["people"] == built["counts"]["participant"] == len(rows) > 0
    assert before["unique"] == sum(1 for n in groups.values() if n == 1)
    assert before["k"] == min(groups.values())
    assert figure["k"] >= before["k"] and figure["unique"] <= before["unique"]
    assert quasi.describe(figure).startswith(f"{figure['unique']} of {figure['people']}")
    from tests.sync import resign

    body, _records = resign.open_batch(_Pair(trio), Path(built["file"]))
    assert body["disclosure"] == figure  # in the signed manifest too


class _Pair:
    """``resign.open_batch`` wants something with ``c()``."""

    def __init__(self, trio) -> None:
        self.c = trio.c


def test_a_pack_for_another_provider_is_refused_and_nothing_changes(trio):
    trio.request("P001")  # P001 has its own age identity already
    for_p002 = trio.issue("P002")
    fingerprint = trio.custodian_fingerprint()
    before = snapshot(trio.providers["P001"], trio.root / "transfer")
    with trio.p("P001") as p, pytest.raises(SyncError, match="was issued to P002, not to this"):
        linkage.import_pack(p, for_p002, custodian_fingerprint=fingerprint)
    assert snapshot(trio.providers["P001"], trio.root / "transfer") == before


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(generation=b["generation"] + 5),
        lambda b: b["custodian"].update(name="Someone Else"),
        lambda b: b.update(sealed=b["sealed"][:-8] + "AAAAAAA="),
        lambda b: b.update(recipient=b["recipient"]),  # unchanged content, signature swapped
    ],
    ids=["generation", "custodian-name", "sealed-key", "signature"],
)
def test_a_tampered_pack_is_refused_and_nothing_changes(trio, change, request):
    pack = trio.issue("P001")
    body = json.loads(pack.read_bytes())
    change(body)
    if request.node.callspec.id == "signature":
        body["signature"] = common.b64(b"\0" * 64)
    pack.write_text(json.dumps(body))
    fingerprint = trio.custodian_fingerprint()
    before = snapshot(trio.providers["P001"], trio.root / "transfer")
    with trio.p("P001") as p, pytest.raises(SyncError, match="fails its signature check"):
        linkage.import_pack(p, pack, custodian_fingerprint=fingerprint)
    assert snapshot(trio.providers["P001"], trio.root / "transfer") == before


def test_the_custodian_fingerprint_must_be_compared_and_then_is_pinned(trio):
    pack = trio.issue("P001")
    before = snapshot(trio.providers["P001"])
    with trio.p("P001") as p:
        with pytest.raises(SyncError, match="Confirm the custodian's fingerprint first"):
            linkage.import_pack(p, pack)
        with pytest.raises(SyncError, match="does not match this pack's custodian"):
            linkage.import_pack(p, pack, custodian_fingerprint="0000 0000 0000 0000 0000 0000")
    assert snapshot(trio.providers["P001"]) == before
    trio.link("P001")
    # a second custodian (say, the VRP pretending to be one) cannot take over
    from tests.sync.linkage_setup import make_custodian

    rogue = make_custodian(trio.root / "rogue")
    request, fingerprint = trio.request("P001")
    out = trio.root / "transfer" / "rogue.vrplinkage"
    with trio.open(rogue, "ig") as k:
        linkage.rotate(k)  # a higher generation does not help it
        linkage.issue(k, request, out, expect_fingerprint=fingerprint)
        rogue_fingerprint = linkage.custodian_status(k)["fingerprint"]
    before = snapshot(trio.providers["P001"])
    with trio.p("P001") as p, pytest.raises(SyncError, match="signed by a custodian other than"):
        linkage.import_pack(p, out, custodian_fingerprint=rogue_fingerprint)
    assert snapshot(trio.providers["P001"]) == before


def test_a_pack_replayed_after_rotation_is_refused_and_nothing_changes(trio):
    old_pack = trio.issue("P001", "generation-1.vrplinkage")
    fingerprint = trio.custodian_fingerprint()
    with trio.p("P001") as p:
        linkage.import_pack(p, old_pack, custodian_fingerprint=fingerprint)
        again = linkage.import_pack(p, old_pack)
        assert again["unchanged"] is True
    with trio.k() as k:
        assert linkage.rotate(k)["to_reissue"] == ["P001"]
    new_pack = trio.issue("P001", "generation-2.vrplinkage")
    with trio.p("P001") as p:
        assert linkage.import_pack(p, new_pack)["generation"] == 2
        key = p.setting("linkage_key")
    before = snapshot(trio.providers["P001"])
    with trio.p("P001") as p, pytest.raises(SyncError, match="already replaced"):
        linkage.import_pack(p, old_pack)
    assert snapshot(trio.providers["P001"]) == before
    with trio.p("P001") as p:
        assert p.setting("linkage_key") == key


def test_not_a_pack_and_not_a_request_say_so(trio, tmp_path):
    junk = tmp_path / "junk.vrplinkage"
    junk.write_text('{"format": "something else"}')
    with trio.p("P001") as p, pytest.raises(SyncError, match="is not a linkage pack"):
        linkage.import_pack(p, junk, custodian_fingerprint="x")
    with trio.k() as k, pytest.raises(SyncError, match="is not a linkage request"):
        linkage.issue(k, junk, tmp_path / "out", expect_fingerprint="x")
    request, _ = trio.request("P001")
    with trio.k() as k, pytest.raises(SyncError, match="does not match this request"):
        linkage.issue(k, request, tmp_path / "out", expect_fingerprint="1234")
    assert not (tmp_path / "out").exists()


def _resigned_with_rotation_line(trio, path, line: bytes, out):
    """The batch at ``path`` with its rotation's first line replaced, re-signed by P001."""
    import hashlib
    import io
    import zipfile

    from vrp_desktop.store.models import Provider
    from vrp_desktop.sync import coordinator, manifest, zipstream

    with trio.c() as c:
        identity = coordinator.identity(c)
        recipient = pyrage.x25519.Recipient.from_str(coordinator.recipient(c))
    with zipfile.ZipFile(io.BytesIO(pyrage.decrypt(path.read_bytes(), [identity]))) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    body = json.loads(members.pop(manifest.MANIFEST))
    members.pop(manifest.SIGNATURE)
    lines = members[manifest.ROTATION_MEMBER].splitlines()
    members[manifest.ROTATION_MEMBER] = b"\n".join([line, *lines[1:]]) + b"\n"
    for name, data in members.items():
        body["members"][name]["sha256"] = hashlib.sha256(data).hexdigest()
        body["members"][name]["bytes"] = len(data)
    body_bytes = json.dumps(body, indent=1, sort_keys=True).encode()
    with trio.p("P001") as p, p.read() as s:
        own = s.scalar(select(Provider).where(Provider.is_self.is_(True)))
        signature = common.b64(common.sign(own.signing_private_key, body_bytes)).encode()
    source = zipstream.producer(
        ((n, [d]) for n, d in members.items()),
        lambda: [(manifest.MANIFEST, body_bytes), (manifest.SIGNATURE, signature)],
    )
    plain = b""
    while chunk := source.read(1 << 16):
        plain += chunk
    out.write_bytes(pyrage.encrypt(plain, [recipient]))
    return out


def test_a_rotation_line_that_is_not_two_pseudonyms_refuses_the_batch(trio):
    with trio.p("P001") as p:
        first = batch_build.build_batch(p)
    with trio.c() as c:
        batch_import.import_batch(c, first["file"])
    trio.link("P001")
    with trio.p("P001") as p:
        built = batch_build.build_batch(p)
    bad = _resigned_with_rotation_line(
        trio,
        Path(built["file"]),
        b'{"new":"' + b"ab" * 16 + b'","old":"Amir Khan 2009-04-02"}',
        trio.root / "bad.vrpbatch",
    )
    before = snapshot(trio.coord)
    with trio.c() as c, pytest.raises(SyncError, match="not two pseudonyms") as caught:
        batch_import.import_batch(c, bad)
    assert "Amir" not in str(caught.value)  # a planted name is never echoed back
    assert snapshot(trio.coord) == before
    with trio.c() as c:  # the genuine batch re-keys P001's people
        report = batch_import.import_batch(c, built["file"])
    assert report.counts["rejected"] == 0
    assert any("re-keyed" in note for note in report.notes)


def test_migration_0015_deletes_a_coordinators_old_key_and_keeps_a_providers(tmp_path):
    from sqlalchemy import text

    from tests.conftest import PASSPHRASE
    from tests.sync.conftest import make_coordinator, make_provider
    from vrp_desktop.store import migrate

    folders = {
        "coordinator": (make_coordinator(tmp_path / "coord"), "coord"),
        "provider": (make_provider(tmp_path / "prov", participants=2, sessions=2), "manager"),
    }
    for folder, user in folders.values():  # as a store from before issue 12 looked
        with Workspace.open(folder, user, PASSPHRASE) as ws:
            migrate.downgrade(ws.engine, "0026_sent_area")  # the later ones undo themselves
            conn = ws.engine.connect()
            conn.begin()
            conn.execute(text("DELETE FROM setting WHERE key = 'linkage_key'"))
            conn.execute(text("INSERT INTO setting (key, value) VALUES ('linkage_key', :v)"),
                         {"v": "11" * 32})  # fmt: skip
            conn.execute(text("DROP INDEX ix_imported_participant_match_token"))
            conn.execute(text("ALTER TABLE imported_participant DROP COLUMN match_token"))
            conn.execute(text("DROP TABLE IF EXISTS key_slot"))  # made by the later 0017
            # made by the later 0025
            conn.execute(text("ALTER TABLE imported_participant DROP COLUMN local_authority"))
            # made by the later 0024, with the triggers that keep it
            triggers = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                     "AND sql LIKE '%attendance_by_start%'")
            ).scalars().all()  # fmt: skip
            assert len(triggers) == 6
            for name in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            conn.execute(text("DROP TABLE attendance_by_start"))
            conn.execute(text("DROP TABLE participant_sent_area"))  # made by the later 0026
            conn.execute(text("UPDATE alembic_version SET version_num = '0013_birth_month'"))
            conn.commit()
            conn.close()
    for kind, (folder, user) in folders.items():
        with Workspace.open(folder, user, PASSPHRASE) as ws:
            assert ws.setting("linkage_key") == (None if kind == "coordinator" else "11" * 32)


def test_soundex_follows_the_published_examples():
    from vrp_desktop.sync.matching import soundex

    cases = {"Robert": "R163", "Rupert": "R163", "Rubin": "R150", "Ashcraft": "A261",
             "Ashcroft": "A261", "Tymczak": "T522", "Pfister": "P236", "Honeyman": "H555",
             "Lee": "L000", "O'Hara": "O600"}  # fmt: skip
    assert {name: soundex(name) for name in cases} == cases


def test_the_vrp_lists_probable_duplicates_across_providers(trio):
    from vrp_desktop.services import participants
    from vrp_desktop.sync import matching

    trio.link("P001")
    trio.link("P002")
    with trio.p("P002") as p, p.read() as s:
        person = s.scalars(select(Participant).where(Participant.pseudonym.is_not(None))).first()
    typo = (person.date_of_birth.replace(day=1 if person.date_of_birth.day > 1 else 2)).isoformat()
    with trio.p("P002") as p:  # the same young person, birth day typed differently
        participants.update_participant(p, person.id, {"date_of_birth": typo})
    for code in ("P001", "P002"):
        with trio.p(code) as p:
            built = batch_build.build_batch(p)
        with trio.c() as c:
            batch_import.import_batch(c, built["file"])
    with trio.c() as c:
        groups = matching.probable_duplicates(c)
    assert len(groups) == 1
    people = groups[0]["people"]
    assert {p["provider_code"] for p in people} == {"P001", "P002"}
    assert person.id in {p["record_id"] for p in people}
    assert len({p["pseudonym"] for p in people}) == 2
    with trio.p("P001") as p, pytest.raises(SyncError, match="coordinator"):
        matching.probable_duplicates(p)
