"""Python's cycle collector runs on the GUI thread only, on a timer.

The collector runs in whichever thread allocates when a generation's threshold is crossed. If
that is the store or network thread and the garbage holds a Qt object (a dialog in a reference
cycle with its own slots, say), Qt deletes a widget off the GUI thread: a crash, or a deadlock
with the interpreter lock held. CI saw both: a segfault in a store thread as a job ended, and a
test worker that hung until the run was killed. So, as Anki and Camelot do, automatic
collection is off while the window runs, and the GUI thread collects by the same generation
thresholds Python would use. Reference counting still frees everything that is not in a cycle
at once; only cycles wait for the timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: how often the GUI thread looks at the collector's counts (a collection takes a few ms)
INTERVAL_MS = 1000


def collect_due(thresholds: tuple[int, ...]) -> int:
    """Collect the oldest generation whose count passed its threshold; returns objects freed."""
    counts = gc.get_count()
    due = [g for g in range(3) if counts[g] > thresholds[g]]
    return gc.collect(max(due)) if due else 0


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects on the GUI thread when a threshold is due."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(INTERVAL_MS)

    def collect_due(self) -> int:
        return collect_due(self.thresholds)

    def stop(self) -> None:
        """Hand collection back to Python (the application is ending)."""
        self.timer.stop()
        gc.enable()


_installed: GuiThreadCollector | None = None


def collect_on_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """Install the collector once for ``app`` (call it from the GUI thread) and return it."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector(app)
    return _installed
