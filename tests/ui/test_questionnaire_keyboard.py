"""Questionnaires as a worker uses them: from the person's record, at keyboard speed, with
nothing typed ever lost silently, the due timepoint chosen, corrections as new versions, and
pages that fit a 1280×720 screen without sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from tests.ui.conftest import wait_idle
from ui.pages.outcomes import OutcomesPage
from vrp_desktop.services import enrolments, outcomes, participants
from vrp_desktop.store.models import AuditEvent

pytestmark = pytest.mark.gui

ANSWERS = [0, 1, 2, 1, 0, 2, 1, 1, 0, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1, 2, 1, 0, 1, 2]


def _person(ws, first: str, last: str) -> dict:
    return participants.create_participant(
        ws,
        {
            "first_name": first,
            "last_name": last,
            "date_of_birth": "2012-02-02",
            "gender": "female",
            "ethnicity": "black_african",
            "consent_status": "given",
            "consent_date": "2026-01-01",
        },
    )


def _enrol(ws, person: dict, intervention: dict, start: dt.date, end: dt.date | None = None):
    fields = {"referral_source": "school", "referral_date": start, "start_date": start}
    e = enrolments.enrol(ws, person["id"], intervention["id"], fields)
    if end is not None:
        enrolments.exit_enrolment(ws, e["id"], end_date=end, exit_reason="completed")
    return e


@pytest.fixture
def mentee(workspace, interventions_by_framework):
    p = _person(workspace, "Imani", "Okafor")
    _enrol(workspace, p, interventions_by_framework["mentoring"], dt.date.today())
    return p


@pytest.fixture
def second(workspace, interventions_by_framework):
    p = _person(workspace, "Kofi", "Boateng")
    _enrol(workspace, p, interventions_by_framework["mentoring"], dt.date.today())
    return p


class Keys:
    """Types into whatever has focus, as a person would, and counts every key."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def press(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        target = QApplication.focusWidget()
        assert target is not None, "nothing has keyboard focus"
        self.qtbot.keyClick(target, key, modifier)
        self.count += 1


def _digit(value: int):
    return getattr(Qt.Key, f"Key_{value}")


def test_sdq_from_the_record_is_25_answers_and_at_most_3_keys(
    qtbot, main_window, workspace, mentee
):
    main_window.activateWindow()
    main_window.navigate("participants", mentee["id"])
    record = main_window.page("participants").detail
    qtbot.waitUntil(lambda: (record.participant or {}).get("id") == mentee["id"])
    record.session_button.setFocus()  # somewhere on the record: where a person would be
    keys = Keys(qtbot)

    keys.press(Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)  # Questionnaire
    page = main_window.page("outcomes")
    qtbot.waitUntil(lambda: page.form is not None and page.form.hasFocus(), timeout=5000)
    assert page.form.measure.id == "sdq_s11_17"
    assert page.timepoint.code() == "baseline"  # the due timepoint, chosen for them
    assert not page.view.summary.text() and not page.view.message_for("completed_on")

    for value in ANSWERS:
        keys.press(_digit(value))
    keys.press(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # save
    qtbot.waitUntil(lambda: bool(outcomes.responses_for(workspace, mentee["id"])), timeout=5000)

    saved = outcomes.responses_for(workspace, mentee["id"])
    assert len(saved) == 1
    assert saved[0]["answers"] == ANSWERS
    assert saved[0]["timepoint"] == "baseline"
    assert saved[0]["sync_state"] == "valid", saved[0]["findings"]
    assert keys.count - len(ANSWERS) <= 3, keys.count
    assert keys.count == len(ANSWERS) + 2


def test_enter_after_the_last_answer_saves(qtbot, unlocked_ctx, workspace, mentee):
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    page.open_record(mentee["id"])
    qtbot.waitUntil(lambda: page.form is not None)
    for value in ANSWERS:
        qtbot.keyClick(page.form, _digit(value))
    qtbot.keyClick(page.form, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(outcomes.responses_for(workspace, mentee["id"])), timeout=5000)


def _answer(qtbot, page, values) -> None:
    for value in values:
        qtbot.keyClick(page.form, _digit(value))


def _answer_dialog(qtbot, page, button) -> None:
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible())
    page.dialog.button(button).click()


def test_switching_person_with_unsaved_answers_asks_first(
    qtbot, unlocked_ctx, workspace, mentee, second
):
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    page.choose_participant(mentee)
    qtbot.waitUntil(lambda: page.form is not None and page.person["id"] == mentee["id"])
    _answer(qtbot, page, [2, 2, 1])
    scores_before = page.scores.shown_scores()

    # Cancel: nothing changes, the answers are still there
    page.choose_participant(second)
    _answer_dialog(qtbot, page, QMessageBox.StandardButton.Cancel)
    wait_idle(qtbot, unlocked_ctx)
    assert page.person["id"] == mentee["id"]
    assert page.form.answers[:3] == [2, 2, 1]
    assert page.scores.shown_scores() == scores_before

    # Discard: the other person, with nothing left of the first one's answers or scores
    page.choose_participant(second)
    _answer_dialog(qtbot, page, QMessageBox.StandardButton.Discard)
    qtbot.waitUntil(lambda: page.person["id"] == second["id"])
    assert page.form is not None and page.form.answers == [None] * 25
    assert not any(page.scores.shown_scores().values())
    assert "0 of 25" in page.scores.notes.text()
    assert not page.view.summary.text()
    assert outcomes.responses_for(workspace, mentee["id"]) == []

    # Save: the answers are saved for the person they were typed for, then the switch happens
    _answer(qtbot, page, ANSWERS)
    page.choose_participant(mentee)
    _answer_dialog(qtbot, page, QMessageBox.StandardButton.Save)
    qtbot.waitUntil(lambda: page.person["id"] == mentee["id"], timeout=5000)
    saved = outcomes.responses_for(workspace, second["id"])
    assert [r["answers"] for r in saved] == [ANSWERS]
    assert outcomes.responses_for(workspace, mentee["id"]) == []

    # nothing typed: no question asked
    page.choose_participant(second)
    qtbot.waitUntil(lambda: page.person["id"] == second["id"])
    assert page.dialog is None


def test_scores_and_findings_reset_after_a_save(qtbot, unlocked_ctx, workspace, mentee):
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    page.choose_participant(mentee)
    qtbot.waitUntil(lambda: page.form is not None)
    page.completed_on.set_date(dt.date.today() - dt.timedelta(days=60))  # outside the window
    assert "due from" in page.view.message_for("completed_on")
    page.completed_on.set_date(dt.date.today())
    _answer(qtbot, page, ANSWERS)
    assert page.scores.shown_scores()["total_difficulties"] is not None
    page.save()
    qtbot.waitUntil(lambda: "saved" in page.banner.text(), timeout=5000)
    wait_idle(qtbot, unlocked_ctx)
    assert not any(page.scores.shown_scores().values())
    # the next one due is ready (SWEMWBS baseline), empty and without findings
    assert page.form is not None and page.form.measure.id == "swemwbs"
    assert not any(a is not None for a in page.form.answers)
    assert page.view.message_for("completed_on") == ""
    assert not page.view.summary.text()
    assert page.completed_on.date() == dt.date.today()
    assert "saved" in page.banner.text()


@pytest.mark.parametrize(
    ("start_days_ago", "ended_days_ago", "done", "measure", "timepoint"),
    [
        (0, None, [], "sdq_s11_17", "baseline"),
        (90, None, ["baseline"], "sdq_s11_17", "review"),
        (150, 2, ["baseline", "review"], "sdq_s11_17", "exit"),
    ],
)
def test_due_timepoint_is_preselected(
    qtbot,
    unlocked_ctx,
    workspace,
    interventions_by_framework,
    start_days_ago,
    ended_days_ago,
    done,
    measure,
    timepoint,
):
    today = dt.date.today()
    p = _person(workspace, "Dami", "Adeyemi")
    start = today - dt.timedelta(days=start_days_ago)
    end = None if ended_days_ago is None else today - dt.timedelta(days=ended_days_ago)
    e = _enrol(workspace, p, interventions_by_framework["mentoring"], start)
    for step, tp in enumerate(done):  # SDQs already done, each inside its window
        on = start + dt.timedelta(days=90 * step)
        outcomes.record_response(
            workspace, p["id"], "sdq_s11_17", tp, [1] * 25, completed_on=on, enrolment_id=e["id"]
        )
    if end is not None:
        enrolments.exit_enrolment(workspace, e["id"], end_date=end, exit_reason="completed")
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    page.open_record(p["id"])
    qtbot.waitUntil(lambda: page.form is not None, timeout=5000)
    assert page.form.measure.id == measure
    assert page.timepoint.code() == timepoint
    assert page.form.hasFocus() or QApplication.focusWidget() is None
    # the next questionnaire shows no errors before anything is typed
    assert not page.view.summary.text()
    assert not page.view.message_for("completed_on")


def test_a_saved_questionnaire_is_corrected_as_a_new_version(qtbot, main_window, workspace, mentee):
    saved = outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", ANSWERS)
    main_window.activateWindow()
    main_window.navigate("outcomes", "")
    page = main_window.page("outcomes")
    qtbot.waitUntil(lambda: page.recent.topLevelItemCount() == 1)
    page.recent.setFocus()
    page.recent.setCurrentItem(page.recent.topLevelItem(0))
    keys = Keys(qtbot)
    keys.press(Qt.Key.Key_Return)  # Enter on the row opens it
    qtbot.waitUntil(lambda: page.opened is not None, timeout=5000)
    assert page.form.answers == ANSWERS
    assert page.form.read_only and page.correct_button.isVisible()
    qtbot.keyClick(page.form, Qt.Key.Key_2)  # read-only until Correct
    assert page.form.answers == ANSWERS

    keys.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # Correct (an animated click)
    qtbot.waitUntil(lambda: page.form.hasFocus() and not page.form.read_only)
    fixed = [2, *ANSWERS[1:]]
    keys.press(Qt.Key.Key_2)  # question 1 again
    assert page.form.answers == fixed
    keys.press(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Correction saved" in page.banner.text(), timeout=5000)

    stored = outcomes.responses_for(workspace, mentee["id"])
    assert len(stored) == 1 and stored[0]["id"] == saved["id"]
    assert stored[0]["version"] == 2
    assert stored[0]["answers"] == fixed
    assert stored[0]["scores"] == outcomes.preview_scores("sdq_s11_17", fixed)["scores"]
    assert stored[0]["sync_state"] == "valid"
    with workspace.read() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == saved["id"])
        ).all()
    assert actions == ["response.create", "response.correct"]


def test_a_questionnaire_from_the_timeline_opens_for_correction(
    qtbot, main_window, workspace, mentee
):
    saved = outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", ANSWERS)
    main_window.navigate("participants", mentee["id"])
    record = main_window.page("participants").detail
    qtbot.waitUntil(lambda: (record.participant or {}).get("id") == mentee["id"])
    entry = next(
        record.timeline.topLevelItem(i)
        for i in range(record.timeline.topLevelItemCount())
        if record.timeline.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)[0] == "questionnaire"
    )
    record.timeline.itemActivated.emit(entry, 0)
    page = main_window.page("outcomes")
    qtbot.waitUntil(lambda: (page.opened or {}).get("id") == saved["id"], timeout=5000)
    assert main_window.stack.currentWidget() is page
    assert page.correct_button.isVisible()


def test_log_a_session_opens_the_form_with_the_person(qtbot, main_window, workspace, mentee):
    from ui.pages.sessions import SessionsPage

    main_window.navigate("participants", mentee["id"])
    record = main_window.page("participants").detail
    qtbot.waitUntil(lambda: (record.participant or {}).get("id") == mentee["id"])
    record.session_button.click()
    page = main_window.stack.currentWidget()
    assert isinstance(page, SessionsPage)
    assert page.stack.currentWidget() is page.form  # the form, not the list
    qtbot.waitUntil(
        lambda: [r.participant_id for r in page.form.register.rows()] == [mentee["id"]],
        timeout=5000,
    )
    assert page.form.intervention.code() == record.data["enrolments"][0]["intervention_id"]


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768)])
def test_questionnaire_and_record_fit_without_sideways_scrolling(
    qtbot, main_window, workspace, mentee, size
):
    main_window.resize(*size)
    outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", ANSWERS)
    main_window.navigate("outcomes", mentee["id"])
    page = main_window.page("outcomes")
    qtbot.waitUntil(lambda: page.form is not None, timeout=5000)
    page.measure.set_code(next(k for k in page.choices if k.startswith("sdq_s11_17|")))
    qtbot.wait(50)
    form = page.form
    assert form.measure.id == "sdq_s11_17"
    assert page.width() <= main_window.width()
    assert page.minimumSizeHint().width() <= page.width()
    assert not form.scroll.horizontalScrollBar().isVisible()
    viewport = form.scroll.viewport()
    for row in form.rows:
        number = row.number.mapTo(viewport, row.number.rect().topLeft())
        assert number.x() >= 0 and row.number.isVisible()
        last = row.group.buttons()[-1]
        right = last.mapTo(viewport, last.rect().topRight()).x()
        assert right <= viewport.width(), f"question {row.number.text()} runs off the side"
        assert last.width() >= last.sizeHint().width()  # answer labels whole

    main_window.navigate("participants", mentee["id"])
    record = main_window.page("participants").detail
    qtbot.waitUntil(lambda: (record.participant or {}).get("id") == mentee["id"])
    qtbot.wait(50)
    header = record.timeline.header()
    widths = sum(header.sectionSize(i) for i in range(header.count()))
    assert widths <= record.timeline.viewport().width()
    for button in (
        record.session_button,
        record.questionnaire_button,
        record.withdraw_button,
        record.erase_button,
    ):
        assert button.width() >= button.sizeHint().width(), button.text()


def test_log_a_session_never_overwrites_an_unsaved_session(
    qtbot, main_window, workspace, mentee, interventions_by_framework
):
    main_window.navigate("sessions", "")
    sessions_page = main_window.page("sessions")
    for _ in range(3):  # the new page's lists arrive from the store thread
        wait_idle(qtbot, main_window.ctx)
    sessions_page.new_session()
    football = interventions_by_framework["sports_diversion"]["id"]
    qtbot.keyClicks(sessions_page.form.intervention, "Fri")  # chosen as a person does
    assert sessions_page.form.intervention.code() == football
    for _ in range(3):
        wait_idle(qtbot, main_window.ctx)
    sessions_page.form.autosave()  # an unsaved session waits as a draft

    main_window.navigate("participants", mentee["id"])
    record = main_window.page("participants").detail
    qtbot.waitUntil(lambda: (record.participant or {}).get("id") == mentee["id"])
    record.session_button.click()
    assert main_window.stack.currentWidget() is sessions_page
    wait_idle(qtbot, main_window.ctx)
    assert sessions_page.form.intervention.code() == football  # the draft, as it was
    assert "unsaved session" in sessions_page.form.banner.text()
    assert [r.participant_id for r in sessions_page.form.register.rows()] == []
