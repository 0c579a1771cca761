"""The window half of ``vrp-desktop --self-test``, and ``--exit-when-shown`` for start-up timing.

``--self-test`` runs the Qt-free checks of ``vrp_desktop.selftest`` and then starts the real main
window offscreen on the same throwaway workspace: it must show its unlock screen, unlock with the
passphrase through the same code a person uses, and build every page this build ships. The
report's Qt line comes from here.

``--exit-when-shown`` starts the app exactly as usual and quits as soon as the first screen (the
unlock screen, or the set-up wizard when there is no workspace) has painted, printing
``VRP_SHOWN <screen> <unix time> <process CPU seconds>``; ``bench/bench_startup.py`` times it.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

SELF_TEST = "--self-test"
EXIT_WHEN_SHOWN = "--exit-when-shown"
#: the first screens a person can see; "shown" means one of them has painted
FIRST_SCREENS = ("UnlockScreen", "FirstRunWizard")


def run(argv: list[str]) -> int:
    """Entry from ``ui.app.main`` when ``--self-test`` or ``--exit-when-shown`` is given."""
    if EXIT_WHEN_SHOWN in argv:
        return exit_when_shown([a for a in argv if a != EXIT_WHEN_SHOWN])
    parser = argparse.ArgumentParser(prog="vrp-desktop --self-test")
    parser.add_argument(SELF_TEST, action="store_true")
    parser.add_argument("--workdir", type=Path, help="make the temporary workspace in DIR")
    args, _unknown = parser.parse_known_args(argv)
    return self_test(workdir=args.workdir)


# -- the self-test ------------------------------------------------------------------------------


def self_test(*, workdir: Path | None = None) -> int:
    # before any QApplication exists: no display is needed, none is touched
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from vrp_desktop import selftest

    try:
        app = _application()
    except Exception as exc:  # Qt itself cannot start: report it as a failing check
        return selftest.run(
            extra_checks=[("window", _raise(f"Qt could not start ({type(exc).__name__})"))],
            qt_version=f"cannot start ({type(exc).__name__})",
            workdir=workdir,
        )
    return selftest.run(
        extra_checks=[("qt", check_qt), ("window", check_window)],
        qt_version=lambda: _qt_line(app),
        workdir=workdir,
    )


def _application():
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("VRP")
    QCoreApplication.setApplicationName("VRP Desktop")
    return QApplication.instance() or QApplication(sys.argv[:1])


def _qt_line(app) -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    return f"{qVersion()} (PySide6 {PySide6.__version__}, platform {app.platformName()})"


def _raise(message: str) -> Callable:
    def check(_ctx) -> str:
        raise RuntimeError(message)

    return check


def check_qt(_ctx) -> str:
    """The Qt parts the pages load later are in this build: charts, printing, SVG, the style."""
    from PySide6.QtCharts import QChart  # the outcomes and returns pages draw charts
    from PySide6.QtGui import QImageReader
    from PySide6.QtPrintSupport import QPrinter  # the recovery code can be printed
    from PySide6.QtWidgets import QApplication

    from ui import icons, theme

    app = QApplication.instance()
    QChart().deleteLater()
    if QPrinter().pageLayout().fullRect().isEmpty():
        raise RuntimeError("printing has no page size")
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise RuntimeError("Qt's SVG image plugin is missing: icons would not show")
    if icons.app_icon().isNull() or icons.icon("today").isNull():
        raise RuntimeError("the icons could not be drawn")
    theme.apply(app, "light")
    if not app.styleSheet():
        raise RuntimeError("the style sheet was not found")
    return "charts, printing, SVG icons and the style sheet load"


def check_window(ctx) -> str:
    """Show the main window offscreen, unlock it as a person would, and open every page."""
    from PySide6.QtCore import QSettings

    from ui import main_window
    from ui.pages.placeholders import FailedPage

    settings = QSettings(str(ctx.root / "window.ini"), QSettings.Format.IniFormat)
    window = main_window.MainWindow(ctx.workspace, settings=settings)
    # a page that cannot load is logged with a traceback: keep it out of the report, name it
    page_log = _Capture(main_window.log)
    try:
        window.resize(1366, 768)
        window.show()
        if not _wait(lambda: window.isVisible() and window.unlock_screen.isVisible(), 10):
            raise RuntimeError("the unlock screen did not show")
        screen = window.unlock_screen
        index = screen.user.findText(ctx.username)
        if index < 0:
            raise RuntimeError("the unlock screen does not list the workspace's user")
        screen.user.setCurrentIndex(index)
        screen.passphrase.setText(ctx.passphrase)
        screen.try_unlock()
        if not _wait(lambda: window.is_unlocked, 60):
            message = screen.error.text() if screen.error.isVisible() else "no answer in 60 s"
            raise RuntimeError(f"unlocking from the window failed: {message}")
        built, missing, broken = [], [], []
        for name, label, _icon in main_window.NAVIGATION:
            window.navigate(name, "")
            _idle(window)
            page = window.pages.get(name)
            if page is not None and not isinstance(page, FailedPage):
                built.append(label)
            elif _page_module_missing(name):
                missing.append(label)
            else:
                broken.append(label)
        if broken:
            reasons = ", ".join(sorted(page_log.errors)) or "see the log"
            raise RuntimeError(f"these pages failed to open: {', '.join(broken)} ({reasons})")
        detail = f"unlock screen shown, unlocked, {len(built)} pages opened"
        if missing:
            detail += f" ({', '.join(missing)}: not in this build yet)"
        return detail
    finally:
        page_log.close()
        window.close()
        window.shutdown()
        window.deleteLater()
        _wait(lambda: False, 0.1)


class _Capture(logging.Handler):
    """Takes a logger's records for a while; keeps the exception type names, no messages."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logging.WARNING)
        self.logger = logger
        self.errors: set[str] = set()
        self._propagate = logger.propagate
        logger.addHandler(self)
        logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            self.errors.add(record.exc_info[0].__name__)

    def close(self) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self._propagate
        super().close()


def _page_module_missing(name: str) -> bool:
    """True when the page's module is not part of this build (a page still being written)."""
    from ui import main_window

    factory = main_window.PAGES.get(name)
    cells = getattr(factory, "__closure__", None) or ()
    modules = [c.cell_contents for c in cells if isinstance(c.cell_contents, str)]
    module = next((m for m in modules if m.startswith("ui.")), None)
    if module is None:
        return False
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while True:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _idle(window, seconds: float = 20) -> None:
    """Wait until the store jobs queued so far (page loads) have run and been delivered."""
    done: list[bool] = []
    window.runner.submit(lambda: None, on_done=lambda _r: done.append(True))
    _wait(lambda: bool(done), seconds)


# -- start-up timing ----------------------------------------------------------------------------


def exit_when_shown(argv: list[str]) -> int:
    """Run ``ui.app.main(argv)``; quit once the first screen has painted, printing when."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    app = _application()

    class Watch(QObject):
        def __init__(self) -> None:
            super().__init__(app)
            self.done = False

        def eventFilter(self, obj, event) -> bool:
            if (
                not self.done
                and event.type() == QEvent.Type.Paint
                and type(obj).__name__ in FIRST_SCREENS
            ):
                self.done = True
                print(  # wall clock, then this process's CPU seconds (steadier on a busy machine)
                    f"VRP_SHOWN {type(obj).__name__} {time.time():.6f} {time.process_time():.6f}",
                    flush=True,
                )
                QTimer.singleShot(0, _close_all)
            return False

    def _close_all() -> None:
        for widget in app.topLevelWidgets():
            if hasattr(widget, "reject"):
                widget.reject()  # the wizard's exec() returns
        app.exit(0)

    watch = Watch()
    app.installEventFilter(watch)
    from ui.app import main

    try:
        return main(argv)
    finally:
        app.removeEventFilter(watch)
