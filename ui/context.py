"""What every page gets: the unlocked workspace, the store runner, and change notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ui.worker import StoreRunner

if TYPE_CHECKING:  # the store stack loads after the unlock screen shows, not before
    from vrp_desktop.workspace import Workspace


class AppContext(QObject):
    """Shared by the pages of one unlocked session; dropped (and the key forgotten) on lock."""

    #: emitted after any saved change, with the entity name ("participant", "session", ...)
    data_changed = Signal(str)
    #: a page asks the main window to show another page: (page name, optional record id)
    navigate = Signal(str, str)

    def __init__(self, ws: Workspace, runner: StoreRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.runner = runner
