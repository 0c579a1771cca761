"""Entry point: ``vrp-desktop [--workspace PATH]`` (also ``python -m ui``).

With no workspace in the folder the set-up wizard runs first; otherwise the unlock screen shows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QDialog

from vrp_desktop.paths import default_workspace


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vrp-desktop", description="VRP Desktop")
    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="the workspace folder (default: the per-user data folder)",
    )
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    if {"--self-test", "--exit-when-shown"} & set(sys.argv[1:] if argv is None else argv):
        from ui.selftest import run  # support report and start-up timing (packaging)

        return run(list(sys.argv[1:] if argv is None else argv))
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING)
    QCoreApplication.setOrganizationName("VRP")
    QCoreApplication.setApplicationName("VRP Desktop")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from vrp_desktop.store.threads import refuse_current_thread

    refuse_current_thread()  # the window's thread never waits on the store: fail loudly instead
    from ui.garbage import collect_on_gui_thread

    collector = collect_on_gui_thread(app)  # Qt objects are freed on this thread only

    from ui import icons, theme
    from ui.main_window import MainWindow
    from ui.worker import StoreRunner
    from vrp_desktop.store.files import is_workspace

    folder = Path(args.workspace or default_workspace()).expanduser()
    unlock_first = is_workspace(folder)
    theme.apply(app, before_first_paint=unlock_first)  # see theme.confirm_system below
    theme.follow_system(app)
    app.setWindowIcon(icons.app_icon())
    runner = StoreRunner()
    try:
        ws = None
        if not unlock_first:
            from ui.wizard import FirstRunWizard

            wizard = FirstRunWizard(folder, runner)
            if wizard.exec() != QDialog.DialogCode.Accepted or wizard.workspace is None:
                return 0
            ws = wizard.workspace
        window = MainWindow(folder, runner=runner)
        if unlock_first:
            window.unlock_screen.first_painted.connect(lambda: theme.confirm_system(app))
        if ws is not None:
            window.show_unlocked(ws)
        window.show()
        return app.exec()
    finally:
        runner.shutdown()
        collector.stop()


if __name__ == "__main__":
    sys.exit(main())
