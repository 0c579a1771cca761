"""Screenshots of every page and the main dialogs, light and dark, at 1280x720 and 1366x768.

    QT_QPA_PLATFORM=offscreen python -m tools.screenshots --out /tmp/shots/NAME

writes ``NAME/light/<shot>-<w>x<h>.png`` and ``NAME/dark/...`` (``--only today,unlock`` and
``--palette dark`` narrow it down). Not a test: the pictures are for a person to look at;
``tests/ui/test_screenshot_pages.py`` runs the same list and checks what a machine can.

It builds throwaway workspaces in a temporary folder: a provider with generated demo people
(populated pages), a fresh provider with nothing in it (empty states), a VRP coordinator (the
Inbox) and a linkage custodian (``vrp init --custodian``). Each palette gets fresh windows, as
when the app starts with that theme. Nothing personal is involved: the demo people are generated.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VRP_FAST_KDF", "1")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QScrollArea, QWidget, QWizard

SIZES = ((1280, 720), (1366, 768))
PALETTES = ("light", "dark")
PASSPHRASE = "kettle orbit marmalade station"
#: room a desktop keeps for its panel: a dialog never opens taller than this leaves
PANEL = 40


# -- waiting ---------------------------------------------------------------------------------
def settle(runner=None, rounds: int = 3, pause: float = 0.01) -> None:
    """Let queued store jobs answer (and the jobs their answers queue), then paint."""
    for _ in range(rounds):
        if runner is not None:
            done: list[bool] = []
            runner.submit(lambda: None, on_done=lambda _r, done=done: done.append(True))
            deadline = time.monotonic() + 60
            while not done and time.monotonic() < deadline:
                QApplication.processEvents()
                time.sleep(0.005)
        end = time.monotonic() + pause
        while time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.005)


def wait_for(condition: Callable[[], bool], runner=None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        settle(runner, rounds=1, pause=0.02)


# -- the workspaces ----------------------------------------------------------------------------
@dataclasses.dataclass
class Folders:
    """Closed workspaces on disk (each palette opens them afresh) and ids the shots need."""

    root: Path
    demo: Path
    empty: Path
    coordinator: Path
    custodian: Path
    person: str = ""  # someone in Trusted Mentors (record, 1:1, SDQ)
    mentors: str = ""


def make_folders(root: Path, *, participants: int = 60, sessions: int = 240) -> Folders:
    from vrp_desktop.services import demo, interventions
    from vrp_desktop.sync import coordinator, linkage
    from vrp_desktop.workspace import Workspace

    folders = Folders(root, root / "demo", root / "empty", root / "coordinator", root / "custodian")
    ws, _ = Workspace.create(
        folders.demo, provider_code="P001", provider_name="Eastside Youth Project",
        username="manager", passphrase=PASSPHRASE, display_name="Sam Taylor",
    )  # fmt: skip
    with ws:
        demo.generate(ws, participants=participants, sessions=sessions, seed=4)
        mentors = next(
            i for i in interventions.list_interventions(ws) if i["framework_id"] == "mentoring"
        )
        folders.mentors = mentors["id"]
        with ws.read() as session:
            from sqlalchemy import text

            row = session.execute(
                text("SELECT participant_id FROM enrolment WHERE intervention_id = :i "
                     "AND end_date IS NULL ORDER BY start_date DESC LIMIT 1"),
                {"i": mentors["id"]},
            ).first()  # fmt: skip
        folders.person = row[0] if row else ""
    ws, _ = Workspace.create(
        folders.empty, provider_code="P002", provider_name="Northside Youth Project",
        username="manager", passphrase=PASSPHRASE, display_name="Jo Patel",
    )  # fmt: skip
    ws.close()
    ws, _ = Workspace.create(
        folders.coordinator, provider_code="VRP01", provider_name="Northshire VRP",
        username="coord", passphrase=PASSPHRASE, display_name="Alex Coordinator",
        kind="coordinator", role="coordinator",
    )  # fmt: skip
    with ws:
        coordinator.setup(ws, partnership_name="Northshire VRP")
    ws, _ = Workspace.create(
        folders.custodian, provider_code="IG", provider_name="Northshire IG Lead",
        username="ig", passphrase=PASSPHRASE, display_name="Robin Custodian", kind="custodian",
    )  # fmt: skip
    with ws:
        linkage.setup_custodian(ws, "Northshire IG Lead")
    return folders


# -- scenes: what is on screen for a group of shots -------------------------------------------
class Scene:
    """The widgets of one palette pass, built on first use and torn down at the end."""

    def __init__(self, folders: Folders, tmp: Path, palette: str) -> None:
        self.folders = folders
        self.tmp = tmp
        self.palette = palette
        self.windows: dict[str, Any] = {}
        self.extra: list[QWidget] = []
        self._runner = None
        self._wizard = None
        # drafts and window state of one pass never show up in the next
        os.environ["VRP_STATE_DIR"] = str(tmp / f"state-{palette}")

    @property
    def runner(self):
        if self._runner is None:
            from ui.worker import StoreRunner

            self._runner = StoreRunner()
        return self._runner

    def window(self, which: str, user: str = "manager"):
        """The main window unlocked on the ``which`` workspace (demo, empty, coordinator, …)."""
        if which not in self.windows:
            from ui.main_window import MainWindow
            from vrp_desktop.workspace import Workspace

            folder = getattr(self.folders, which)
            ws = Workspace.open(folder, user, PASSPHRASE)
            ini = self.tmp / f"window-{self.palette}-{which}.ini"
            window = MainWindow(folder, settings=QSettings(str(ini), QSettings.Format.IniFormat))
            window.show_unlocked(ws)
            window.show()
            self.windows[which] = window
        return self.windows[which]

    def wizard(self):
        if self._wizard is None:
            from ui.wizard import FirstRunWizard

            self._wizard = FirstRunWizard(self.tmp / f"new-{self.palette}", self.runner)
            self._wizard.show()
        return self._wizard

    def keep(self, widget: QWidget) -> QWidget:
        self.extra.append(widget)
        return widget

    def close(self) -> None:
        for widget in self.extra:
            widget.close()
            widget.deleteLater()
        for window in self.windows.values():
            window.close()  # saves state and shuts its store runner down
            window.deleteLater()
        if self._wizard is not None:
            if self._wizard.workspace is not None:
                self.runner.submit(self._wizard.workspace.close)
            self._wizard.close()
            self._wizard.deleteLater()
        if self._runner is not None:
            self._runner.shutdown()
        settle(rounds=2)


@dataclasses.dataclass(frozen=True)
class Shot:
    """``show(scene)`` puts the window in the state to shoot and returns what to grab: a page
    (grabbed as the whole main window), a dialog or a stand-alone window."""

    name: str
    show: Callable[[Scene], QWidget]
    dialog: bool = False


def _page(which: str, name: str, then: Callable[[Any, Any], None] | None = None):
    def show(scene: Scene) -> QWidget:
        window = scene.window(which, user="coord" if which == "coordinator" else
                              "ig" if which == "custodian" else "manager")  # fmt: skip
        window.navigate(name, "")
        settle(window.runner)
        if then is not None:
            then(window, window.page(name))
            settle(window.runner)
        return window

    return show


def _unlock(wrong: bool):
    def show(scene: Scene) -> QWidget:
        from ui.unlock import UnlockScreen

        screen = scene.keep(UnlockScreen(scene.folders.demo, scene.runner))
        screen.show()
        settle(scene.runner)
        if wrong:
            screen.passphrase.setText("kettle orbit marmalade")
            screen.try_unlock()
            wait_for(lambda: bool(screen.error.text()), scene.runner)
        return screen

    return show


def _wizard_page(step: int):
    """The wizard after ``step`` Nexts, filled in as a person would on the way."""

    def show(scene: Scene) -> QWidget:
        wizard = scene.wizard()
        nxt = wizard.button(QWizard.WizardButton.NextButton)
        if step == 0:
            return wizard
        if step == 1:
            wizard.provider_page.code.setText("P014")
            wizard.provider_page.name.setText("Northside Youth Project")
            nxt.click()
        elif step == 2:
            wizard.user_page.display_name.setText("Jo Patel")
            wizard.user_page.username.setText("jo.patel")
            nxt.click()
        elif step == 3:
            fields = wizard.passphrase_page.fields
            fields.first.setText(PASSPHRASE)
            fields.second.setText(PASSPHRASE)
            wizard.button(QWizard.WizardButton.CommitButton).click()
            wait_for(lambda: wizard.currentPage() is wizard.recovery_page, scene.runner)
        elif step == 4:
            wizard.recovery_page.kept.setChecked(True)
            nxt.click()
        settle(scene.runner)
        return wizard

    return show


def _wizard_dialog(scene: Scene) -> QWidget:
    page = scene.wizard().interventions_page
    dialog = page.add()
    settle(scene.runner)
    return dialog


def _shots() -> list[Shot]:
    """Every page and the main dialogs, in the order a person meets them."""

    def record(which: str):
        def show(scene: Scene) -> QWidget:
            window = scene.window(which)
            window.navigate("participants", "")
            window.page("participants").show_record(scene.folders.person)
            settle(window.runner)
            return window

        return show

    def group_form(window, page) -> None:
        page.open_record("new")
        settle(window.runner)
        form = page.form
        index = next(
            (i for i in range(form.intervention.count())
             if form.intervention.itemText(i).startswith("Friday Football")), 1
        )  # fmt: skip
        form.intervention.setCurrentIndex(index)
        settle(window.runner)
        form.repeat_last()

    def one_to_one(scene: Scene) -> QWidget:
        window = scene.window("demo")
        window.navigate("sessions", "")
        page = window.page("sessions")
        page.form.discard_draft()  # the group shot's autosaved draft would be restored instead
        page.show_list()
        settle(window.runner)
        page.open_record(f"new-for:{scene.folders.person}|{scene.folders.mentors}")
        settle(window.runner)
        page.form.session_type.set_code("one_to_one")  # its last session was a group one
        settle(window.runner)
        return window

    def picker(scene: Scene) -> QWidget:
        window = scene.window("demo")
        form = window.page("sessions").form
        form.add_walk_in()
        form.dialog.search.edit.setText("a")
        settle(window.runner, pause=0.4)
        return form.dialog

    def sdq(scene: Scene) -> QWidget:
        window = scene.window("demo")
        window.navigate("outcomes", "")
        page = window.page("outcomes")
        page.load_person(scene.folders.person)
        settle(window.runner)
        key = next((k for k in page.choices if k.startswith("sdq_s11_17|")), None)
        if key:
            page.measure.set_code(key)
        settle(window.runner)
        return window

    def returns_preview(window, page) -> None:
        page.preview()
        wait_for(lambda: page.preview_button.isEnabled(), window.runner)

    def import_check(scene: Scene) -> QWidget:
        window = scene.window("demo")
        window.navigate("returns", "")
        page = window.page("returns")
        page.check_import(_import_sheet(scene.tmp))
        wait_for(lambda: page.dialog is not None and page.dialog.isVisible(), window.runner)
        return page.dialog

    def import_problems(scene: Scene) -> QWidget:
        dialog = import_check(scene)
        dialog.tabs.setCurrentIndex(1)  # the rows that will not be imported, and why
        return dialog

    def evaluation(window, page) -> None:
        wait_for(lambda: page.pack is not None, window.runner)

    def evaluation_lower(window, page) -> None:
        evaluation(window, page)
        bar = page.findChild(QScrollArea).verticalScrollBar()
        bar.setValue(bar.maximum())  # the dose and gap charts, below the first two

    def interventions_box(window, page) -> None:
        page.findChild(QScrollArea).ensureWidgetVisible(page.interventions_box, 0, 0)

    def intervention_form(scene: Scene) -> QWidget:
        window = scene.window("demo")
        window.navigate("settings", "")
        box = window.page("settings").interventions_box
        settle(window.runner)  # the list arrives from the store thread: shot alone, wait for it
        box.table.selectRow(0)
        box.edit()
        settle(window.runner)
        return box.dialog

    def empty_intervention_form(scene: Scene) -> QWidget:
        window = scene.window("empty")
        window.navigate("settings", "")
        box = window.page("settings").interventions_box
        box.add()
        settle(window.runner)
        return box.dialog

    def new_form(window, page) -> None:
        page.open_record("new")

    return [
        Shot("unlock", _unlock(wrong=False)),
        Shot("unlock-wrong-passphrase", _unlock(wrong=True)),
        Shot("wizard-1-organisation", _wizard_page(0), dialog=True),
        Shot("wizard-2-first-user", _wizard_page(1), dialog=True),
        Shot("wizard-3-passphrase", _wizard_page(2), dialog=True),
        Shot("wizard-4-recovery-code", _wizard_page(3), dialog=True),
        Shot("wizard-5-what-do-you-run", _wizard_page(4), dialog=True),
        Shot("wizard-6-add-intervention", _wizard_dialog, dialog=True),
        # a fresh workspace: what each page says when there is nothing yet
        Shot("empty-today", _page("empty", "today")),
        Shot("empty-participants", _page("empty", "participants")),
        Shot("empty-sessions", _page("empty", "sessions")),
        Shot("empty-session-form", _page("empty", "sessions", new_form)),
        Shot("empty-outcomes", _page("empty", "outcomes")),
        Shot("empty-returns", _page("empty", "returns")),
        Shot("empty-evaluation", _page("empty", "evaluation")),
        Shot("empty-sync", _page("empty", "sync")),
        Shot("empty-settings-interventions", _page("empty", "settings", interventions_box)),
        Shot("empty-intervention-form", empty_intervention_form, dialog=True),
        # a provider with demo people
        Shot("today", _page("demo", "today")),
        Shot("participants", _page("demo", "participants")),
        Shot("participant-record", record("demo")),
        Shot("sessions", _page("demo", "sessions")),
        Shot("session-form-group", _page("demo", "sessions", group_form)),
        Shot("session-form-1to1", one_to_one),
        Shot("session-picker", picker, dialog=True),
        Shot("outcomes", _page("demo", "outcomes")),
        Shot("outcomes-sdq", sdq),
        Shot("returns", _page("demo", "returns", returns_preview)),
        Shot("import-check", import_check, dialog=True),
        Shot("import-check-problems", import_problems, dialog=True),
        Shot("evaluation", _page("demo", "evaluation", evaluation)),
        Shot("evaluation-lower", _page("demo", "evaluation", evaluation_lower)),
        Shot("sync", _page("demo", "sync")),
        Shot("settings", _page("demo", "settings")),
        Shot("settings-interventions", _page("demo", "settings", interventions_box)),
        Shot("intervention-form", intervention_form, dialog=True),
        # the VRP and the custodian
        Shot("coordinator-inbox", _page("coordinator", "sync")),
        Shot("custodian", _page("custodian", "sync")),
    ]


SHOTS: list[Shot] = _shots()


def _import_sheet(tmp: Path) -> Path:
    """A filled-in import template: three good rows and two a worker must fix."""
    path = tmp / "register.xlsx"
    if path.exists():
        return path
    from vrp_desktop.spreadsheets.template import COLUMNS, build_template

    headers = [c.header for c in COLUMNS]
    good = {
        "First name": "Amara", "Last name": "Mensah", "Date of birth": dt.date(2012, 3, 4),
        "Gender": "Female", "Ethnicity": "Black: African", "Postcode": "B5 4TJ",
        "Consent status": "Consent given", "Consent date": dt.date(2026, 1, 8),
        "Intervention": "Trusted Mentors", "Referral source": "School or college",
        "Referral date": dt.date(2026, 1, 5), "Start date": dt.date(2026, 1, 10),
    }  # fmt: skip
    rows = [dict(good, **{"First name": f"Amara{c}"}) for c in "ABC"]
    rows.append(dict(good, **{"First name": "AmaraD", "Gender": "Boy"}))
    rows.append(dict(good, **{"First name": "AmaraE", "Date of birth": dt.date(2031, 1, 1)}))
    wb = build_template()
    sheet = wb["Register"]
    for i, row in enumerate(rows, start=2):
        for j, header in enumerate(headers, start=1):
            sheet.cell(i, j, row.get(header))
    wb.save(path)
    return path


def _leads_to(name: str, only: set[str]) -> bool:
    """Whether shot ``name`` is a wizard step that a chosen later step goes through."""
    return name.startswith("wizard-") and any(n.startswith("wizard-") and n > name for n in only)


# -- shooting ------------------------------------------------------------------------------------
def place(target: QWidget, window: QWidget | None, dialog: bool, width: int, height: int) -> None:
    """Size the main window to the screen; a dialog opens at its own size, within the screen."""
    if window is not None:
        window.resize(width, height)
    if dialog:
        hint = target.sizeHint()
        target.resize(min(max(hint.width(), target.width()), width),
                      min(max(hint.height(), target.height()), height - PANEL))  # fmt: skip


def shoot(
    app: QApplication,
    folders: Folders,
    tmp: Path,
    out: Path | None,
    *,
    palettes: tuple[str, ...] = PALETTES,
    sizes: tuple[tuple[int, int], ...] = SIZES,
    only: set[str] | None = None,
    check: Callable[[str, str, tuple[int, int], QWidget, QWidget | None], None] | None = None,
) -> Iterator[Path]:
    """Shoot every (chosen) shot in each palette and size; ``check`` sees each widget as shot."""
    from ui import theme

    for palette in palettes:
        theme.apply(app, palette)
        scene = Scene(folders, tmp, palette)
        try:
            for shot in SHOTS:
                if only and shot.name not in only:
                    if _leads_to(shot.name, only):
                        shot.show(scene)  # a wizard page is reached through the ones before
                    continue
                target = shot.show(scene)
                parent = target.parentWidget()
                window = parent.window() if shot.dialog and parent is not None else None
                for width, height in sizes:
                    place(target, window if shot.dialog else target, shot.dialog, width, height)
                    settle(rounds=1)
                    if check is not None:
                        check(shot.name, palette, (width, height), target, window)
                    if out is not None:
                        folder = out / palette
                        folder.mkdir(parents=True, exist_ok=True)
                        path = folder / f"{shot.name}-{width}x{height}.png"
                        target.grab().save(str(path))
                        yield path
                if isinstance(target, QDialog) and not isinstance(target, QWizard):
                    target.reject()  # the wizard stays open: its next page is the next shot
                    settle(rounds=1)
        finally:
            scene.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots/vrp"))
    parser.add_argument("--palette", choices=PALETTES, action="append")
    parser.add_argument("--only", help="comma-separated shot names (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    only = set(args.only.split(",")) if args.only else None
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("VRP_STATE_DIR", str(tmp / "state"))
        folders = make_folders(tmp / "workspaces")
        count = 0
        for _path in shoot(app, folders, tmp, args.out,
                           palettes=tuple(args.palette or PALETTES), only=only):  # fmt: skip
            count += 1
    print(f"{count} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
