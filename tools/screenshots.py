"""Regenerate screenshots of every page, light and dark, at 1280x720 and 1366x768 (not a test).

    QT_QPA_PLATFORM=offscreen python -m tools.screenshots [--out /tmp/shots/NAME]

Builds a throwaway provider workspace with demo data and a coordinator workspace (for the Inbox)
in a temporary folder, opens the real main window on each, and grabs every page, the session
form with a group register, the participant record, the unlock window and the set-up wizard.
Nothing personal is involved: the demo people are generated.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VRP_FAST_KDF", "1")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

SIZES = ((1280, 720), (1366, 768))
PASSPHRASE = "kettle orbit marmalade station"


def pump(seconds: float = 0.6) -> None:
    """Let queued store jobs answer and the window paint."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def grab(widget: QWidget, out: Path, name: str) -> None:
    widget.grab().save(str(out / f"{name}.png"))


def make_provider(folder: Path):
    from vrp_desktop.services import demo, interventions
    from vrp_desktop.workspace import Workspace

    ws, _code = Workspace.create(
        folder, provider_code="P001", provider_name="Eastside Youth Project",
        username="manager", passphrase=PASSPHRASE, display_name="Sam Taylor",
    )  # fmt: skip
    if not interventions.list_interventions(ws):
        interventions.create_intervention(
            ws, name="Friday Football", framework_id="sports_diversion", setting="community"
        )
    demo.generate(ws, participants=60, sessions=200, seed=4)
    return ws


def make_coordinator(folder: Path):
    from vrp_desktop.workspace import Workspace

    ws, _code = Workspace.create(
        folder, provider_code="VRP01", provider_name="Northshire VRP", username="coord",
        passphrase=PASSPHRASE, display_name="Alex Coordinator", kind="coordinator",
        role="coordinator",
    )  # fmt: skip
    return ws


def shoot_window(app, ws, tmp: Path, root: Path, prefix: str, pages: list[str]) -> None:
    from ui import theme
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp / f"{prefix}window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ws.folder, settings=settings)
    window.show_unlocked(ws)
    window.show()
    for mode, width, height in [(m, w, h) for m in ("light", "dark") for w, h in SIZES]:
        theme.apply(app, mode)
        out = root / mode
        out.mkdir(parents=True, exist_ok=True)
        window.resize(width, height)
        for name in pages:
            window.navigate(name, "")
            pump()
            grab(window, out, f"{prefix}{name}-{width}x{height}")
        extras: dict[str, Callable[[], None]] = {}
        if prefix == "":
            extras = {
                "participant-record": lambda: _open_record(window),
                "session-form-group": lambda: _group_form(window),
                "session-form-empty": lambda: window.navigate("sessions", "new"),
                "settings-interventions": lambda: _interventions_tab(window),
            }
        for name, show in extras.items():
            show()
            pump(1.0)
            grab(window, out, f"{name}-{width}x{height}")
    window.shutdown()


def _open_record(window) -> None:
    from vrp_desktop.services import participants

    first = participants.list_participants(window.ctx.ws, "", offset=0, limit=1)[0]
    window.navigate("participants", first["id"])


def _group_form(window) -> None:
    window.navigate("sessions", "new")
    pump()
    form = window.page("sessions").form
    index = form.intervention.findText("Friday Football")
    form.intervention.setCurrentIndex(max(index, 1))
    pump()
    form.repeat_last()


def _interventions_tab(window) -> None:
    window.navigate("settings", "")
    page = window.page("settings")
    tabs = getattr(page, "tabs", None)
    if tabs is not None:
        for i in range(tabs.count()):
            if "Intervention" in tabs.tabText(i):
                tabs.setCurrentIndex(i)


def shoot_unlock_and_wizard(app, folder: Path, root: Path, suffix: str = "") -> None:
    from ui import theme
    from ui.unlock import UnlockScreen
    from ui.wizard import FirstRunWizard
    from ui.worker import StoreRunner

    runner = StoreRunner()
    for mode, width, height in [(m, w, h) for m in ("light", "dark") for w, h in SIZES]:
        theme.apply(app, mode)
        out = root / mode
        unlock = UnlockScreen(folder, runner)
        unlock.resize(width, height)
        unlock.show()
        pump(0.3)
        grab(unlock, out, f"unlock{suffix}-{width}x{height}")
        unlock.close()
        wizard = FirstRunWizard(Path(tempfile.mkdtemp()) / "new", runner)
        wizard.resize(width, height)
        wizard.show()
        pump(0.3)
        grab(wizard, out, f"wizard{suffix}-{width}x{height}")
        wizard.close()
    runner.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots/keys9"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("VRP_STATE_DIR", str(tmp / "state"))
        provider = make_provider(tmp / "provider")
        folder = provider.folder
        pages = ["today", "participants", "sessions", "outcomes", "returns", "sync", "settings"]
        shoot_window(app, provider, tmp, args.out, "", pages)
        shoot_window(app, make_coordinator(tmp / "coordinator"), tmp, args.out, "coordinator-",
                     ["sync"])  # fmt: skip
        shoot_unlock_and_wizard(app, folder, args.out)
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
