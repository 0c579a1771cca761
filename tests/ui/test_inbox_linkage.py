"""The Inbox's linkage line (issue 12): the key generation and custodian the partnership is on,
how many providers send under it, a rotation still going through, and probable duplicates to
confirm. Three real parties (custodian, coordinator, two providers); read through ctx.read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.sync.linkage_setup import make_partnership
from tests.ui.conftest import settle
from ui.context import AppContext
from ui.pages.inbox import InboxPage
from ui.worker import StoreRunner
from vrp_desktop.services import participants
from vrp_desktop.store.models import Participant
from vrp_desktop.sync import batch_build, batch_import, linkage, linkage_overview
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/linkage12")


def _send(trio, code: str) -> None:
    with trio.p(code) as p:
        built = batch_build.build_batch(p)
    with trio.c() as c:
        report = batch_import.import_batch(c, built["file"])
    assert report.error is None, report.error


def _overview(trio) -> dict:
    with trio.c() as c:
        return linkage_overview.overview(c)


def test_the_inbox_says_which_key_the_partnership_is_on_and_what_waits(tmp_path, qtbot):
    trio = make_partnership(tmp_path / "partnership", participants=8, sessions=20)
    before = _overview(trio)
    assert before["generation"] is None and before["providers"] == 2
    assert "no provider has sent a batch under the custodian's" in linkage_overview.describe(before)

    trio.link("P001")
    trio.link("P002")
    with trio.p("P002") as p, p.read() as s:
        person = s.scalars(select(Participant).where(Participant.pseudonym.is_not(None))).first()
    day = 1 if person.date_of_birth.day > 1 else 2
    with trio.p("P002") as p:  # the same young person, birth day typed differently
        participants.update_participant(
            p, person.id, {"date_of_birth": person.date_of_birth.replace(day=day).isoformat()}
        )
    _send(trio, "P001")
    _send(trio, "P002")
    fingerprint = trio.custodian_fingerprint()
    steady = _overview(trio)
    assert steady["generation"] == 1 and steady["on_current"] == 2
    assert steady["custodian_fingerprint"] == fingerprint
    assert not steady["rotating"] and steady["duplicates"] == 1
    assert "Probable duplicates to confirm: 1 group(s)" in linkage_overview.describe(steady)

    with trio.k() as k:  # the custodian rotates; only P001 has the new key so far
        linkage.rotate(k)
    trio.link("P001")
    _send(trio, "P001")
    rotating = _overview(trio)
    assert rotating["generation"] == 2 and rotating["on_current"] == 1
    assert rotating["rotating"] and rotating["behind"] == ["P002"]

    ws = Workspace.open(trio.coord, "coord", PASSPHRASE)
    runner = StoreRunner()
    ctx = AppContext(ws, runner)
    try:
        page = InboxPage(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: "generation 2" in page.linkage_label.text(), timeout=20_000)
        settle(qtbot, ctx)
        text = page.linkage_label.text()
        assert fingerprint in text
        assert "1 of 2 providers send under it" in text
        assert "Rotation in progress: P002 still sends under an older key" in text
        # mid-rotation the two providers' coarse tokens come from different keys: said so
        assert "cannot be compared until every provider is on the new key" in text
        if SHOTS.is_dir():
            for size in ((1280, 720), (1366, 768)):
                page.resize(*size)
                page.grab().save(str(SHOTS / f"inbox-{size[0]}x{size[1]}.png"))
    finally:
        runner.shutdown()
        ws.close()
