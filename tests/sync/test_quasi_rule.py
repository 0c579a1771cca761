"""The partnership's quasi-identifier rule (issue 12, part 4): the VRP's signed framework pack
sets it; a batch coarsens the postcode district of people in small groups (to the local
authority, then withheld); k before and after is reported; the VRP accepts a coarsened value;
a tampered or unsound rule is refused and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from tests.conftest import PASSPHRASE
from tests.sync import resign
from tests.sync.conftest import Pair, make_coordinator, make_provider, snapshot
from tests.sync.test_linkage_end_to_end import reach
from vrp_desktop.cli import main
from vrp_desktop.errors import FrameworkError
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.services import participants
from vrp_desktop.store.sync_models import ImportedParticipant
from vrp_desktop.sync import (
    batch_build,
    batch_import,
    common,
    coordinator,
    onboarding,
    outbox,
    quasi,
    receipts,
    vrp_packs,
)
from vrp_desktop.sync.common import SyncError

BHAM, COVENTRY = "E08000025", "E08000026"


# -- the rule itself (no workspace) -------------------------------------------------------------


def _rule(min_k: int = 5, steps=("local_authority", "withheld")) -> quasi_rule.QuasiRule:
    base = quasi_rule.load()
    return quasi_rule.parse(
        {
            "min_k": min_k,
            "coarsen": [{"field": "postcode_district", "to": s} for s in steps],
            "local_authorities": base.local_authorities.model_dump(),
        },
        "test",
    )


def _people(districts: list[str | None]) -> dict[str, tuple]:
    return {f"p{i}": ("14-15", "male", "white_british", d) for i, d in enumerate(districts)}


def test_the_shipped_rule_and_table_load_and_map_the_demo_districts():
    from vrp_desktop.services.demo import DISTRICTS

    rule = quasi_rule.load()
    assert rule.min_k == 5
    assert [s.to for s in rule.coarsen] == ["local_authority", "withheld"]
    assert all(rule.district_to_la(d) == BHAM for d in DISTRICTS)
    assert rule.la_name(COVENTRY) == "Coventry"


def test_a_unique_person_gets_the_local_authority_then_withheld_and_k_is_reported():
    # 30 in B5, 4 with no district, 5 alone in a Birmingham district, 1 alone in Coventry
    people = _people(["B5"] * 30 + [None] * 4 + ["B6", "B7", "B8", "B9", "B10"] + ["CV1"])
    done = quasi.coarsen(people, _rule())
    assert done.before["k"] == 1 and done.before["unique"] == 6
    assert done.after["k"] == 5 and done.after["unique"] == 0 and done.after["under_k"] == 0
    assert done.steps() == {"local_authority": 5, "withheld": 1}
    assert {done.changes[f"p{i}"] for i in range(34, 39)} == {("local_authority", BHAM)}
    assert done.changes["p39"] == ("withheld", None)  # Coventry alone: LA still too few
    assert all(f"p{i}" not in done.changes for i in range(34))  # big groups untouched
    record = {"id": "p35", "postcode_district": "B7"}
    assert done.apply(record) == "local_authority"
    assert record == {"id": "p35", "postcode_district": None, "local_authority": BHAM}


def test_without_a_rule_nothing_is_coarsened_and_small_groups_are_still_counted():
    done = quasi.coarsen(_people(["B5"] * 3 + ["B6"]), None)
    assert done.changes == {} and done.before == done.after
    assert done.after["k"] == 1


def test_what_the_rule_cannot_fix_is_said_not_hidden():
    # unique on ethnicity: no area step can help
    people = _people(["B5"] * 6)
    people["odd"] = ("14-15", "male", "other_arab", "B5")
    info = quasi.coarsen(people, _rule())
    assert info.after["k"] == 1 and info.after["under_k"] == 1
    text_ = quasi.describe_rule(
        {
            "rule": _rule().summary(),
            "min_k": 5,
            "before": info.before,
            "after": info.after,
            "coarsened": info.steps(),
        }
    )
    assert "1 people are still in groups under 5" in text_
    assert "only the area" in text_
    assert "Smallest group 1 before the rule, 1 after; 1 people coarsened" in text_


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"min_k": 1}, "min_k: should be at least 2"),
        ({"coarsen": [{"field": "gender", "to": "withheld"}]}, "coarsen[0].field"),
        (
            {
                "coarsen": [
                    {"field": "postcode_district", "to": "withheld"},
                    {"field": "postcode_district", "to": "local_authority"},
                ]
            },
            "local_authority before withholding",
        ),
        ({"local_authorities": {"names": {"X1": "Nowhere"}}}, "not a local authority code"),
        (
            {"local_authorities": {"names": {BHAM: "B"}, "districts": {"B5 4TJ": BHAM}}},
            "not a postcode district",
        ),
    ],
)
def test_an_unsound_rule_is_refused_in_plain_words(change, words):
    data = {**_rule().model_dump(mode="json"), **change}
    with pytest.raises(FrameworkError) as caught:
        quasi_rule.parse(data, "pack.vrpframeworks")
    assert words in str(caught.value)


# -- through the packs and a real batch --------------------------------------------------------


@pytest.fixture
def joined(tmp_path, coord_database) -> Pair:
    """A coordinator (on each back-end: SQLCipher file, PostgreSQL server) and provider P001,
    joined and pinned."""
    coord = make_coordinator(tmp_path / "coord", database=coord_database)
    prov = make_provider(tmp_path / "prov", participants=40, sessions=30)
    box = tmp_path / "outbox"
    box.mkdir()
    pack = tmp_path / "transfer" / "P001.vrponboard"
    pack.parent.mkdir()
    pair = Pair(coord, prov, box, tmp_path, pack, "")
    with pair.c() as c:
        pair.code = coordinator.add_provider(c, code="P001", name="Test", out=pack)["one_time_code"]
    with pair.p() as p:
        info = onboarding.join(p, pack, pair.code)
        outbox.set_outbox_folder(p, box)
    with pair.c() as c:
        coordinator.pin_provider(
            c, Path(info["key_file"]), expect_fingerprint=info["provider_fingerprint"]
        )
    return pair


def _shape_population(pair: Pair) -> dict[str, str]:
    """Everyone alike but six: five alone in a Birmingham district, one alone in Coventry;
    four with no district. Returns id -> district of the six."""
    with pair.p() as p, p.unit() as s:
        ids = list(s.scalars(text("SELECT id FROM participant ORDER BY id")))
        s.execute(
            text(
                "UPDATE participant SET age_band = '14-15', gender = 'male', "
                "ethnicity = 'white_british', postcode_district = 'B5'"
            )
        )
        odd = dict(zip(ids[:6], ["B6", "B7", "B8", "B9", "B10", "CV1"], strict=True))
        for pid in ids[6:10]:
            s.execute(
                text("UPDATE participant SET postcode_district = NULL WHERE id = :i"), {"i": pid}
            )
        for pid, district in odd.items():
            s.execute(
                text("UPDATE participant SET postcode_district = :d WHERE id = :i"),
                {"d": district, "i": pid},
            )
    return odd


def test_a_batch_coarsens_unique_people_by_the_packs_rule_and_the_vrp_accepts_it(
    joined, capsys, monkeypatch
):
    with joined.p() as p:
        assert quasi.rule_of(p).min_k == 5  # the onboarding pack carried the partnership's rule
    odd = _shape_population(joined)
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert main(["batch", "build", str(joined.prov), "--user", "manager"]) == 0
    out = capsys.readouterr().out
    assert "6 of this batch's young people coarsened (5 to local authority, 1 area withheld)" in out
    assert "smallest group is 1 before the rule and 5 after" in out
    built = sorted(joined.outbox.glob(f"*{common.BATCH_SUFFIX}"))[-1]

    body, records = resign.open_batch(joined, built)
    sent = {r["id"]: r for r in records["participant"]}
    for pid, district in odd.items():
        expected = None if district == "CV1" else BHAM
        assert sent[pid]["postcode_district"] is None
        assert sent[pid]["local_authority"] == expected
    assert sum(1 for r in sent.values() if r["postcode_district"] == "B5") == 30
    figure = body["disclosure"]  # in the signed manifest
    assert figure["before"]["k"] == 1 and figure["before"]["unique"] == 6
    assert figure["k"] == 5 and figure["unique"] == 0
    assert figure["coarsened"] == {"local_authority": 5, "withheld": 1}
    assert figure["rule"]["min_k"] == 5
    assert figure["held"]["before"]["k"] == 1 and figure["held"]["after"]["k"] == 5

    with joined.c() as c:
        report = batch_import.import_batch(c, built)
        assert report.error is None and report.rejected == []
        with c.read() as s:
            held = {
                r.id: (r.postcode_district, r.local_authority)
                for r in s.scalars(select(ImportedParticipant))
            }
    assert len(held) == 40
    assert {held[pid] for pid in list(odd)[:5]} == {(None, BHAM)}
    assert held[list(odd)[5]] == (None, None)  # withheld: the same as never recorded

    # the partnership return and the evaluation read a coarsened area by its authority's name
    from vrp_desktop.returns.partnership import partnership_source
    from vrp_desktop.returns.quarters import parse_quarter

    source = partnership_source(parse_quarter("2025-26 Q4"))
    with joined.c() as c, c.engine.connect() as conn:
        areas = [a for (a,) in conn.execute(select(source.people.c.postcode_district))]
    assert areas.count("Birmingham (local authority)") == 5
    assert areas.count("B5") == 30 and areas.count(None) == 5

    # and the partnership return is written with them (PostgreSQL refused the authority's
    # name in a temporary column sized for a district)
    out = joined.root / "return.xlsx"
    assert (
        main(
            [
                "return",
                "export",
                str(joined.coord),
                "--user",
                "coord",
                "--quarter",
                "2025-26 Q4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "written to" in capsys.readouterr().out
    assert load_workbook(out, read_only=True).sheetnames


def test_the_vrp_refuses_a_record_with_both_a_district_and_a_local_authority(joined):
    with joined.p() as p:
        built = batch_build.build_batch(p)

    def both(records) -> None:
        records["participant"][0].update(postcode_district="B5", local_authority=BHAM)

    bad = resign.resign(joined, Path(built["file"]), both, joined.root / "both.vrpbatch")
    with joined.c() as c:
        report = batch_import.import_batch(c, bad)
    reasons = [r["reason"] for r in report.rejected]
    assert any("travels without the district" in r for r in reasons), reasons


def _published(pair: Pair, name: str = "fw.vrpframeworks", rule_file: Path | None = None) -> Path:
    out = pair.root / "transfer" / name
    with pair.c() as c:
        coordinator.publish_frameworks(c, [], out, rule_file=rule_file)
    return out


def test_a_published_rule_reaches_the_provider_through_the_framework_pack(joined):
    custom = joined.root / "rule.json"
    custom.write_text(
        json.dumps({"min_k": 3, "coarsen": [{"field": "postcode_district", "to": "withheld"}]})
    )
    pack = _published(joined, rule_file=custom)
    with joined.p() as p:
        info = onboarding.import_frameworks(p, pack)
        assert info["rule"].startswith("groups of at least 3")
        assert quasi.rule_of(p).min_k == 3
        assert [s.to for s in quasi.rule_of(p).coarsen] == ["withheld"]
    # the coordinator keeps it: the next pack carries it again
    again = json.loads(_published(joined, "again.vrpframeworks").read_text())
    assert again["quasi_rule"]["min_k"] == 3


def test_frameworks_import_says_when_only_the_rule_changed(joined, capsys, monkeypatch):
    """A pack with no new framework but a new rule is not "nothing new": the next batch will
    coarsen (and may re-send) records because of it, so the manager is told."""
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    custom = joined.root / "rule.json"
    withheld = [{"field": "postcode_district", "to": "withheld"}]
    custom.write_text(json.dumps({"min_k": 3, "coarsen": withheld}))
    pack = _published(joined, rule_file=custom)
    command = ["frameworks", "import", str(joined.prov), str(pack), "--user", "manager"]

    assert main(command) == 0
    out = capsys.readouterr().out
    assert "rule for small groups changed: groups of at least 3" in out, out
    assert "nothing new" not in out

    assert main(command) == 0  # the same pack again: truly nothing new
    out = capsys.readouterr().out
    assert "Installed: nothing new." in out and "(unchanged): groups of at least 3" in out, out

    # the Sync page's "Import from the VRP" says the same
    custom.write_text(json.dumps({"min_k": 4, "coarsen": withheld}))
    with joined.p() as p:
        said = vrp_packs.import_pack(p, _published(joined, "k4.vrpframeworks", custom))["text"]
    assert "rule for small groups changed (groups of at least 4" in said, said


def test_a_tampered_pack_rule_is_refused_and_nothing_changes(joined):
    pack = _published(joined)
    body = json.loads(pack.read_text())
    body["quasi_rule"]["min_k"] = 2  # someone on the way weakens the rule
    tampered = joined.root / "transfer" / "tampered.vrpframeworks"
    tampered.write_text(json.dumps(body))
    before = snapshot(joined.prov)
    with joined.p() as p, pytest.raises(SyncError) as caught:
        onboarding.import_frameworks(p, tampered)
    assert "changed on the way" in str(caught.value)
    assert "Nothing was installed" in str(caught.value)
    assert snapshot(joined.prov) == before
    with joined.p() as p:
        assert quasi.rule_of(p).min_k == 5


def test_a_signed_but_unsound_rule_is_refused_in_plain_words(joined):
    pack = _published(joined)
    body = json.loads(pack.read_text())
    body.pop("signature")
    body["quasi_rule"]["coarsen"] = [{"field": "postcode_district", "to": "county"}]
    with joined.c() as c:
        private = coordinator.material(c)["signing_private"]
    signed = {**body, "signature": common.b64(common.sign(private, common.canonical(body)))}
    odd = joined.root / "transfer" / "odd.vrpframeworks"
    odd.write_text(json.dumps(signed))
    before = snapshot(joined.prov)
    with joined.p() as p, pytest.raises(SyncError) as caught:
        onboarding.import_frameworks(p, odd)
    message = str(caught.value)
    assert "coarsen[0].to: should be one of" in message and "nothing was changed" in message
    assert snapshot(joined.prov) == before


# -- a rule that changes whose area travels coarsened: records the VRP holds are sent again ----


def _without_rule(pair: Pair) -> None:
    """The provider as one that joined before the partnership published a rule."""
    with pair.p() as p, p.unit() as s:
        s.execute(text("DELETE FROM setting WHERE key = :k"), {"k": quasi.RULE})


def _build_and_import(pair: Pair, capsys) -> tuple[Path, str, object]:
    """``vrp batch build`` (its printed words), the coordinator's import, the receipt back."""
    assert main(["batch", "build", str(pair.prov), "--user", "manager"]) == 0
    out = capsys.readouterr().out
    built = sorted(pair.outbox.glob(f"*{common.BATCH_SUFFIX}"))[-1]
    with pair.c() as c:
        report = batch_import.import_batch(c, built, receipt_folder=pair.root)
    assert report.error is None and report.rejected == [], report.rejected
    with pair.p() as p:
        receipts.import_receipt(p, Path(report.receipt))
    return built, out, report


def _held_areas(pair: Pair) -> dict[str, tuple]:
    with pair.c() as c, c.read() as s:
        return {
            r.id: (r.postcode_district, r.local_authority, r.version)
            for r in s.scalars(select(ImportedParticipant))
        }


def _versions(pair: Pair) -> dict[str, tuple[int, str]]:
    with pair.p() as p, p.read() as s:
        return {
            pid: (version, state)
            for pid, version, state in s.execute(
                text("SELECT id, version, sync_state FROM participant")
            )
        }


def _people_in_the_partnership_return(pair: Pair) -> tuple[int, int]:
    """Rows and distinct people in the partnership return's people (every quarter's source)."""
    from vrp_desktop.returns.partnership import partnership_source
    from vrp_desktop.returns.quarters import parse_quarter

    source = partnership_source(parse_quarter("2025-26 Q4"))
    with pair.c() as c, c.engine.connect() as conn:
        keys = [k for (k,) in conn.execute(select(source.people.c.person_key))]
    return len(keys), len(set(keys))


def test_a_rule_arriving_later_resends_exactly_the_people_whose_area_changes(
    joined, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    _without_rule(joined)
    odd = _shape_population(joined)

    # 1. sent with no rule: the VRP holds everyone's raw district
    _built, out, _report = _build_and_import(joined, capsys)
    assert "has not published a rule" in out and "sent again" not in out
    held = _held_areas(joined)
    assert {held[pid][:2] for pid in odd} == {(d, None) for d in odd.values()}
    reach_before = reach(capsys, joined.coord, tmp_path / "before.xlsx")
    first = _versions(joined)
    assert {state for _v, state in first.values()} == {"accepted"}

    # 2. the VRP publishes a rule (k 5) and the provider imports it
    with joined.p() as p:
        onboarding.import_frameworks(p, _published(joined))
        assert quasi.rule_of(p).min_k == 5
        waiting = batch_build.preview(p)
    assert waiting["resend"] == {"records": 6, "coarser": 6, "finer": 0}
    assert waiting["pending"]["participant"] == 6  # the Sync page's button has work to do
    assert main(["batch", "status", str(joined.prov), "--user", "manager"]) == 0
    assert "6 records the VRP already holds will be sent again" in capsys.readouterr().out

    # 3. the next build re-sends exactly the six, as a new version each
    built, out, report = _build_and_import(joined, capsys)
    assert "6 records the VRP already held were sent again because the partnership's" in out
    assert "(6 now with a coarser area)" in out
    body, records = resign.open_batch(joined, built)
    assert {r["id"] for r in records["participant"]} == set(odd)
    assert all(not records[e] for e in ("enrolment", "session", "outcome_response"))
    assert body["disclosure"]["resent"] == {"records": 6, "coarser": 6, "finer": 0}
    assert body["disclosure"]["coarsened"] == {"local_authority": 5, "withheld": 1}
    for r in records["participant"]:
        assert r["version"] == first[r["id"]][0] + 1
    assert report.counts["accepted"] == 6 and report.conflicts == []

    # 4. the VRP holds the rule's areas: no district of the six, nobody twice
    held = _held_areas(joined)
    assert len(held) == 40
    for pid, district in odd.items():
        expected = (None, None) if district == "CV1" else (None, BHAM)
        assert held[pid][:2] == expected
        assert held[pid][2] == first[pid][0] + 1
    districts = {h[0] for h in held.values()}
    assert districts == {"B5", None}  # none of B6..B10, CV1 is left at the VRP
    assert _people_in_the_partnership_return(joined) == (40, 40)
    assert reach(capsys, joined.coord, tmp_path / "after.xlsx") == reach_before
    assert {state for _v, state in _versions(joined).values()} == {"accepted"}

    # 5. nothing changed since: the next build re-sends nobody
    with joined.p() as p:
        assert batch_build.preview(p)["resend"]["records"] == 0
    before = snapshot(joined.prov, joined.outbox)
    with joined.p() as p, pytest.raises(common.NothingToSend):
        batch_build.build_batch(p)
    assert snapshot(joined.prov, joined.outbox) == before


def test_a_group_that_grows_gets_its_district_back_and_a_shrunk_one_is_coarsened(joined):
    odd = _shape_population(joined)
    with joined.p() as p:
        batch_build.build_batch(p)  # under the onboarding pack's rule (k 5)
    b6 = next(pid for pid, d in odd.items() if d == "B6")
    others = [pid for pid, d in odd.items() if d in ("B7", "B8", "B9", "B10")]
    # four more young people alike, in B6: B6 reaches five, so its first person needs no
    # coarsening; the four left at Birmingham are now too few for it and are withheld
    with joined.p() as p:
        template = participants.get_participant(p, b6)
        fields = {k: template[k] for k in ("date_of_birth", "gender", "ethnicity")}
        new = [
            participants.create_participant(
                p, {**fields, "postcode_district": "B6", "first_name": f"New{n}", "last_name": "X"}
            )
            for n in range(4)
        ]
        assert {m["sync_state"] for m in new} == {"valid"}
        with p.unit() as s:  # the age band _shape_population gave everyone
            for m in new:
                s.execute(
                    text("UPDATE participant SET age_band = '14-15' WHERE id = :i"), {"i": m["id"]}
                )
    with joined.p() as p:
        info = batch_build.build_batch(p)
    body, records = resign.open_batch(joined, Path(info["file"]))
    sent = {r["id"]: r for r in records["participant"]}
    assert len(sent) == 9  # the four new, and five held records sent again
    assert info["disclosure"]["resent"] == {"records": 5, "coarser": 4, "finer": 1}
    assert (sent[b6]["postcode_district"], sent[b6]["local_authority"]) == ("B6", None)
    for pid in others:
        assert (sent[pid]["postcode_district"], sent[pid]["local_authority"]) == (None, None)
    words = quasi.describe_batch(body["disclosure"])
    assert "5 records the VRP already held were sent again" in words
    assert "4 now with a coarser area, 1 back to a finer area" in words

    # an erasure takes the remembered area with the person's other shareable fields
    with joined.p() as p:
        ref = participants.get_participant(p, b6)["reference"]
        participants.erase_participant(p, b6, confirm=ref, reason="asked to be forgotten")
        with p.read() as s:
            left = s.execute(
                text("SELECT count(*) FROM participant_sent_area WHERE participant_id = :i"),
                {"i": b6},
            ).scalar()
    assert left == 0


def test_a_resend_and_a_later_erasure_arriving_in_reverse_order_end_with_the_person_gone(
    joined, capsys, monkeypatch
):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    _without_rule(joined)
    odd = _shape_population(joined)
    _build_and_import(joined, capsys)
    with joined.p() as p:
        onboarding.import_frameworks(p, _published(joined))
        resent = Path(batch_build.build_batch(p)["file"])  # the six, a new version each
        gone = next(pid for pid, d in odd.items() if d == "B7")
        ref = participants.get_participant(p, gone)["reference"]
        participants.erase_participant(p, gone, confirm=ref, reason="asked to be forgotten")
        erasure = Path(batch_build.build_batch(p)["file"])
    body, records = resign.open_batch(joined, erasure)
    stone = next(t for t in records["tombstone"] if t["entity_id"] == gone)
    sent = {r["id"]: r["version"] for r in resign.open_batch(joined, resent)[1]["participant"]}
    assert stone["version"] > sent[gone]  # the erasure outranks the re-sent version
    # the erasure left four at Birmingham, too few for k 5: they go again, withheld
    birmingham = {pid for pid, d in odd.items() if d not in ("B7", "CV1")}
    again = {r["id"]: r for r in records["participant"]}
    assert set(again) == birmingham
    assert all(r["version"] == sent[pid] + 1 for pid, r in again.items())
    assert body["disclosure"]["resent"] == {"records": 4, "coarser": 4, "finer": 0}

    with joined.c() as c:  # the USB stick delivers the later batch first
        for path in (erasure, resent):
            report = batch_import.import_batch(c, path)
            assert report.error is None and report.conflicts == [], report.conflicts
        assert report.counts["superseded"] == 5  # four older versions and the erased person
    held = _held_areas(joined)
    assert gone not in held and len(held) == 39
    for pid in odd:
        if pid != gone:
            assert held[pid][:2] == (None, None)
    assert {h[0] for h in held.values()} == {"B5", None}
    assert _people_in_the_partnership_return(joined) == (39, 39)
