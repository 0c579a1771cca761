"""The baseline for ``bench.bench_ui``'s start-up figure: the least a PySide6 window can do.

Creates a QApplication and a QMainWindow holding one label, shows it, and quits as soon as the
label has painted, printing ``VRP_SHOWN BareWindow <unix time> <CPU seconds>`` exactly as
``python -m ui --exit-when-shown`` does for the unlock screen, so both are timed alike.
"""

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class _Watch(QObject):
    def __init__(self, app: QApplication, target: QObject) -> None:
        super().__init__(app)
        self.app = app
        self.target = target
        self.done = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if not self.done and obj is self.target and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"VRP_SHOWN BareWindow {time.time():.6f} {time.process_time():.6f}", flush=True)
            QTimer.singleShot(0, self.app.quit)
        return False


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    label = QLabel("Hello", window)
    window.setCentralWidget(label)
    watch = _Watch(app, label)
    app.installEventFilter(watch)
    window.resize(1280, 720)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
