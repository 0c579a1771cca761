"""The Sync page's "Rejected by the VRP": records a real coordinator rejected (as the previous
release did, ``tests/sync/old_vrp.py``), listed with its reason, opened by double-click, and
sent again with the page's own buttons; the participant page shows the VRP's reason."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.sync import conftest as sync_fixtures
from tests.sync import old_vrp
from tests.ui.conftest import on_store, opened_ctx, wait_idle
from ui.pages.participant_detail import ParticipantDetail
from ui.pages.sync import SyncPage
from vrp_desktop.services import participants, quality, sessions
from vrp_desktop.store.models import Enrolment
from vrp_desktop.sync import rejected

pytestmark = pytest.mark.gui
pair = sync_fixtures.pair  # a real coordinator and a provider that joined it


def _rows(page: SyncPage) -> dict[str, int]:
    table = page.rejected
    return {table.item(r, 0).data(Qt.ItemDataRole.UserRole)[1]: r for r in range(table.rowCount())}


def _person_of(ws, enrolment_id: str) -> str:
    with ws.read() as s:
        return s.get(Enrolment, enrolment_id).participant_id


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_rejected_records_are_listed_opened_and_sent_again_from_the_page(qtbot, pair):
    session_id, enrolment_id = old_vrp.reject_two(pair)
    with opened_ctx(pair.prov, "manager") as ctx:
        page = SyncPage(ctx)
        qtbot.addWidget(page)
        page.resize(1366, 768)
        page.show()
        qtbot.waitUntil(lambda: page.rejected.rowCount() == 2, timeout=20_000)
        assert page.rejected_box.isVisible()
        rows = _rows(page)
        assert set(rows) == {session_id, enrolment_id}
        assert page.rejected.item(rows[session_id], 1).text() == "Session"
        assert old_vrp.SESSION_REASON in page.rejected.item(rows[session_id], 2).text()
        assert "exit_detail" in page.rejected.item(rows[enrolment_id], 2).text()
        person = on_store(qtbot, ctx, _person_of, ctx.ws, enrolment_id)
        reference = on_store(qtbot, ctx, participants.get_participant, ctx.ws, person)["reference"]
        assert page.rejected.item(rows[enrolment_id], 0).text().startswith(reference)

        # double-click opens the record where it is edited (an enrolment: its young person)
        with qtbot.waitSignal(ctx.navigate) as opened:
            page.rejected.itemDoubleClicked.emit(page.rejected.item(rows[session_id], 2))
        assert opened.args == ["sessions", session_id]
        with qtbot.waitSignal(ctx.navigate) as opened:
            page.rejected.itemDoubleClicked.emit(page.rejected.item(rows[enrolment_id], 0))
        assert opened.args == ["participants", person]

        # nothing selected: "Send selected again" waits for a selection
        page.rejected.clearSelection()
        assert not page.send_selected_button.isEnabled()
        page.rejected.selectRow(rows[session_id])
        assert page.selected_rejected() == [session_id]
        qtbot.mouseClick(page.send_selected_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: "1 record goes to the VRP again" in page.message.text(), timeout=20_000
        )
        qtbot.waitUntil(lambda: page.rejected.rowCount() == 1, timeout=20_000)
        shown = on_store(qtbot, ctx, sessions.get_session, ctx.ws, session_id)
        assert shown["sync_state"] == "valid" and shown["rejection_reason"] is None
        assert list(_rows(page)) == [enrolment_id]

        qtbot.mouseClick(page.send_all_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not page.rejected_box.isVisible(), timeout=20_000)
        assert "1 record goes to the VRP again" in page.message.text()
        states = on_store(qtbot, ctx, quality.state_counts, ctx.ws)
        assert "rejected" not in states["session"] and "rejected" not in states["enrolment"]
        assert on_store(qtbot, ctx, rejected.list_rejected, ctx.ws) == []
        # nothing stays behind either: a sentence says so instead of an empty table
        assert not page.quarantine.isVisible()
        assert page.quarantine_label.text().startswith("Nothing stays behind")
        wait_idle(qtbot, ctx)


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_the_buttons_are_reached_by_tab_and_their_letters_are_their_own(qtbot, pair):
    old_vrp.reject_two(pair)
    with opened_ctx(pair.prov, "manager") as ctx:
        page = SyncPage(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.rejected_box.isVisible(), timeout=20_000)
        page.rejected.selectRow(0)
        chain, widget = [], page.rejected
        while len(chain) < 2:  # where Tab goes next: visible, enabled, taking Tab focus
            widget = widget.nextInFocusChain()
            tab = bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus)
            if tab and widget.isVisible() and widget.isEnabled():
                chain.append(widget)
        assert chain == [page.send_selected_button, page.send_all_button]
        from PySide6.QtWidgets import QAbstractButton, QLabel

        texts = [b.text() for b in page.findChildren(QAbstractButton)]
        texts += [w.text() for w in page.findChildren(QLabel) if w.buddy()]
        letters = [
            t.replace("&&", "")[t.replace("&&", "").index("&") + 1].lower()
            for t in texts
            if "&" in t.replace("&&", "")
        ]
        assert len(letters) == len(set(letters)), sorted(texts)
        assert "s" in letters and "l" in letters


@pytest.mark.parametrize("coord_database", ["sqlcipher"], indirect=True)
def test_the_participant_page_shows_the_vrps_reason_for_an_enrolment(qtbot, pair):
    _session_id, enrolment_id = old_vrp.reject_two(pair)
    with opened_ctx(pair.prov, "manager") as ctx:
        person = on_store(qtbot, ctx, _person_of, ctx.ws, enrolment_id)
        detail = ParticipantDetail(ctx)
        qtbot.addWidget(detail)
        detail.show()
        detail.load(person)
        qtbot.waitUntil(lambda: detail.data is not None, timeout=20_000)
        assert detail.rejection.isVisible()
        text = detail.rejection.text()
        assert "The VRP rejected the enrolment in" in text and "exit_detail" in text
        assert "send it again from the Sync page" in text
        wait_idle(qtbot, ctx)
