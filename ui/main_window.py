"""The main window: navigation on the left, pages in a stack, the unlock screen in front.

Pages are built lazily by name from ``PAGES`` the first time they are shown. Locking drops the
workspace (closed on the store thread, the reference forgotten) and puts the unlock screen in
front; the page widgets are only hidden, so a half-filled form is still there when the same
person unlocks. If someone else unlocks, the pages are rebuilt for them.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import icons
from ui.context import AppContext
from ui.idle import IdleWatcher
from ui.pages.placeholders import FailedPage
from ui.unlock import UnlockScreen
from ui.worker import StoreRunner
from vrp_desktop import roles

if TYPE_CHECKING:  # the store stack loads after the unlock screen shows, not before
    from vrp_desktop.workspace import Workspace

log = logging.getLogger(__name__)

#: the store stack is preloaded after the unlock screen's first paint, or after this long
PRELOAD_AT_LATEST_MS = 1500
IDLE_SETTING = "security/idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 10

#: (name, label, icon) in navigation order; Ctrl+1..Ctrl+8 follow this order
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("today", "Today", "today"),
    ("participants", "Participants", "participants"),
    ("sessions", "Sessions", "sessions"),
    ("outcomes", "Outcomes", "outcomes"),
    ("sync", "Sync", "sync"),
    ("returns", "Returns", "returns"),
    ("evaluation", "Evaluation", "evaluation"),
    ("settings", "Settings", "settings"),
)
LABELS = {name: label for name, label, _ in NAVIGATION}
#: the pages a kind of workspace shows, when not all: a custodian holds the linkage key and
#: never a record, so it has nothing to show on the record pages
PAGES_OF_KIND: dict[str, tuple[str, ...]] = {"custodian": ("sync", "settings")}
#: what the "sync" page is called in each kind of workspace
SYNC_LABEL = {"provider": "Sync", "coordinator": "Inbox", "custodian": "Linkage keys"}


def _lazy(name: str, module: str, class_name: str) -> Callable[[AppContext], QWidget]:
    """A page factory that imports ``module`` only when the page is first shown.

    A page that cannot be imported or built shows a placeholder saying so, so one broken page
    never stops the rest of the window from working.
    """

    def build(ctx: AppContext) -> QWidget:
        try:
            page_class = getattr(importlib.import_module(module), class_name)
            return page_class(ctx)
        except Exception:
            log.exception("the %s page failed to load", name)
            return FailedPage(ctx, LABELS.get(name, name))

    return build


def _by_kind(
    *,
    provider: Callable[[AppContext], QWidget],
    coordinator: Callable[[AppContext], QWidget],
    custodian: Callable[[AppContext], QWidget] | None = None,
) -> Callable[[AppContext], QWidget]:
    """A page that differs by workspace: a provider sends batches, the VRP's inbox takes them,
    the linkage custodian issues keys."""

    def build(ctx: AppContext) -> QWidget:
        kind = ctx.ws.kind
        if kind == "custodian" and custodian is not None:
            return custodian(ctx)
        return (coordinator if kind == "coordinator" else provider)(ctx)

    return build


PAGES: dict[str, Callable[[AppContext], QWidget]] = {
    "today": _lazy("today", "ui.pages.today", "TodayPage"),
    "participants": _lazy("participants", "ui.pages.participants", "ParticipantsPage"),
    "sessions": _lazy("sessions", "ui.pages.sessions", "SessionsPage"),
    "outcomes": _lazy("outcomes", "ui.pages.outcomes", "OutcomesPage"),
    "sync": _by_kind(
        provider=_lazy("sync", "ui.pages.sync", "SyncPage"),
        coordinator=_lazy("sync", "ui.pages.inbox", "InboxPage"),
        custodian=_lazy("sync", "ui.pages.custodian", "CustodianPage"),
    ),
    "returns": _lazy("returns", "ui.pages.returns", "ReturnsPage"),
    "evaluation": _lazy("evaluation", "ui.pages.evaluation", "EvaluationPage"),
    "settings": _lazy("settings", "ui.pages.settings", "SettingsPage"),
}


class MainWindow(QMainWindow):
    """One window per workspace folder. Call ``show_unlocked(ws)`` after a wizard or unlock."""

    def __init__(
        self,
        folder: Path,
        *,
        runner: StoreRunner | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self._owns_runner = runner is None
        self.runner = runner or StoreRunner(self)
        self.settings = settings or QSettings("VRP", "VRP Desktop")
        self.ctx: AppContext | None = None
        self.pages: dict[str, QWidget] = {}
        self._last_username: str | None = None
        self._page_before_lock: str | None = None
        self._shut_down = False
        self._preloading = False
        self._finished = False
        self._kind: str | None = None  # the workspace's kind, read on the store thread

        self.setWindowTitle("VRP Desktop")
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(960, 600)

        self.screens = QStackedWidget(self)
        self.unlock_screen = UnlockScreen(self.folder, self.runner, self)
        self.unlock_screen.unlocked.connect(self.show_unlocked)
        self.screens.addWidget(self.unlock_screen)
        self.screens.addWidget(self._build_main_area())
        self.setCentralWidget(self.screens)
        self._build_status_bar()
        self._build_shortcuts()
        # load the store stack on the store thread while the person types their passphrase,
        # once the unlock screen has painted (imports on the store thread hold the interpreter
        # in turns with this one: started earlier, they delayed the first paint on a busy machine)
        self.unlock_screen.first_painted.connect(self._finish_building)
        self.unlock_screen.first_painted.connect(self._preload_store)
        QTimer.singleShot(PRELOAD_AT_LATEST_MS, self._preload_store)

        self.idle = IdleWatcher(self._idle_minutes(), self)
        self.idle.idle.connect(self.lock)
        self._restore_geometry()
        self._show_locked()

    # -- building ------------------------------------------------------------------------
    def _build_main_area(self) -> QWidget:
        area = QWidget(self)
        self.nav = QListWidget(area)
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.setFixedWidth(190)
        self.nav.setIconSize(self.nav.iconSize().expandedTo(self.nav.iconSize() * 1.25))
        for index, (_name, label, _icon) in enumerate(NAVIGATION, start=1):
            item = QListWidgetItem(label)  # icons drawn at unlock: the unlock screen shows first
            item.setToolTip(f"{label} (Ctrl+{index})")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._nav_row_changed)

        self.lock_button = QPushButton("Lock  (Ctrl+L)", area)
        self.lock_button.setObjectName("lock")
        self.lock_button.setToolTip("Lock now: your work stays as it is until you unlock")
        self.lock_button.clicked.connect(self.lock)

        side = QVBoxLayout()
        side.setContentsMargins(0, 8, 0, 8)
        side.addWidget(self.nav, 1)
        side.addWidget(self.lock_button)

        self.stack = QStackedWidget(area)
        self.stack.setObjectName("pages")
        layout = QHBoxLayout(area)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(side)
        layout.addWidget(self.stack, 1)
        self.main_area = area
        return area

    def _finish_building(self) -> None:
        """What needs the Qt namespace, done once the unlock screen has painted (loading it
        before cost the first paint ~30 ms) or at the first unlock, whichever comes first."""
        if self._finished:
            return
        self._finished = True
        from PySide6.QtCore import Qt

        for row, (name, _label, _icon) in enumerate(NAVIGATION):
            self.nav.item(row).setData(Qt.ItemDataRole.UserRole, name)
        self.attention_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.lock_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)

    def _draw_navigation_icons(self) -> None:
        """Draw the side bar's icons (in the current theme's colours; cached after the first
        time). Not done while building: rendering ~100 SVG pixmaps delayed the unlock screen."""
        for row, (_name, _label, icon_name) in enumerate(NAVIGATION):
            self.nav.item(row).setIcon(icons.icon(icon_name))
        self.lock_button.setIcon(icons.icon("lock"))

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.workspace_label = QLabel(bar)
        self.workspace_label.setObjectName("status_workspace")
        self.user_label = QLabel(bar)
        self.user_label.setObjectName("status_user")
        self.attention_button = QPushButton(bar)
        self.attention_button.setObjectName("status_attention")
        self.attention_button.setFlat(True)
        self.attention_button.setToolTip("Show the records that need attention")
        self.attention_button.clicked.connect(lambda: self.navigate("today", "attention"))
        bar.addWidget(self.workspace_label)
        bar.addWidget(self.user_label)
        bar.addPermanentWidget(self.attention_button)
        self.attention_count: int | None = None

    def _build_shortcuts(self) -> None:
        lock = QShortcut(QKeySequence("Ctrl+L"), self)
        self.lock_shortcut = lock
        lock.activated.connect(self.lock)
        for index, (name, _label, _icon) in enumerate(NAVIGATION, start=1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index}"), self)
            shortcut.activated.connect(lambda n=name: self.navigate(n, ""))

    # -- settings ------------------------------------------------------------------------
    def _idle_minutes(self) -> float:
        try:
            return float(self.settings.value(IDLE_SETTING, DEFAULT_IDLE_MINUTES))
        except (TypeError, ValueError):
            return float(DEFAULT_IDLE_MINUTES)

    def set_idle_minutes(self, minutes: float) -> None:
        """Change the idle lock time now and keep it (0 turns idle locking off)."""
        self.settings.setValue(IDLE_SETTING, minutes)
        self.idle.set_minutes(minutes)

    def _state_key(self, name: str) -> str:
        """Window state is kept per workspace folder (hashed: a folder name may name someone),
        so one workspace's last page never opens another's."""
        folder = hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:16]
        return f"window/{folder}/{name}"

    def _restore_geometry(self) -> None:
        geometry = self.settings.value(self._state_key("geometry"))
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 720)

    def _save_state(self) -> None:
        self.settings.setValue(self._state_key("geometry"), self.saveGeometry())
        current = self.current_page_name()
        if current:
            self.settings.setValue(self._state_key("last_page"), current)
        self.settings.sync()

    # -- locking -------------------------------------------------------------------------
    @property
    def is_unlocked(self) -> bool:
        return self.ctx is not None and self.ctx.ws is not None

    def _show_locked(self, *, after_lock: bool = False) -> None:
        self.screens.setCurrentWidget(self.unlock_screen)
        self.statusBar().hide()
        self.unlock_screen.reset(offer_remembered=not after_lock, username=self._last_username)
        self.unlock_screen.passphrase.setFocus()

    @Slot(object)
    def show_unlocked(self, ws: Workspace) -> None:
        """Show the pages for ``ws``: the same ones as before a lock if the same person is back."""
        if self._last_username is not None and ws.user.username != self._last_username:
            self._drop_pages()
        if self.ctx is None:
            self.ctx = AppContext(ws, self.runner, self)
            self.ctx.navigate.connect(self.navigate)
            self.ctx.data_changed.connect(self.refresh_status)
        else:
            self.ctx.ws = ws
        self._last_username = ws.user.username
        self._finish_building()
        self._draw_navigation_icons()
        self.screens.setCurrentIndex(1)
        self.statusBar().show()
        # the status bar's two quick reads go first: the page's own read queues behind them
        self._update_status_labels(ws)
        self.refresh_status()
        remembered = self.settings.value(self._state_key("last_page"), "today")
        page = self._page_before_lock or str(remembered)
        self._page_before_lock = None
        self.navigate(page if page in PAGES else "today", "")
        self.idle.set_minutes(self._idle_minutes())
        self.idle.start()

    @Slot()
    def lock(self) -> None:
        """Drop the workspace and show the unlock screen; pages stay, hidden, for the same user."""
        if not self.is_unlocked:
            return
        assert self.ctx is not None
        self._page_before_lock = self.current_page_name()
        self._save_state()
        self.idle.stop()
        self._close_dialogs()
        ws, self.ctx.ws = self.ctx.ws, None  # type: ignore[assignment]
        self._show_locked(after_lock=True)  # the data is hidden now, whatever is still queued
        # closed after any queued store work, on the store thread; the window never waits for it
        self.runner.submit(ws.close, on_error=lambda _exc: None)
        del ws

    def _close_dialogs(self) -> None:
        """Dialogs opened over the window would show data over the lock screen: close them."""
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible() and self.isAncestorOf(widget):
                widget.reject()

    def _drop_pages(self) -> None:
        for widget in self.pages.values():
            self.stack.removeWidget(widget)
            widget.deleteLater()
        self.pages.clear()
        if self.ctx is not None:
            self.ctx.deleteLater()
            self.ctx = None
        self._page_before_lock = None

    # -- pages ---------------------------------------------------------------------------
    def page(self, name: str) -> QWidget:
        """The page called ``name``, built on first use."""
        if name not in self.pages:
            assert self.ctx is not None, "pages are only built while unlocked"
            widget = PAGES[name](self.ctx)
            widget.setObjectName(f"page_{name}")
            self.pages[name] = widget
            self.stack.addWidget(widget)
        return self.pages[name]

    def current_page_name(self) -> str | None:
        current = self.stack.currentWidget()
        for name, widget in self.pages.items():
            if widget is current:
                return name
        return None

    @Slot(str, str)
    def navigate(self, name: str, record_id: str = "") -> None:
        """Show page ``name``; pages with ``open_record(record_id)`` then open that record."""
        if not self.is_unlocked or name not in PAGES:
            return
        shown = PAGES_OF_KIND.get(self._kind or "")
        if shown is not None and name not in shown:  # e.g. Ctrl+1 in a custodian's window
            name = shown[0]
            record_id = ""
        widget = self.page(name)
        self.stack.setCurrentWidget(widget)
        row = [n for n, _l, _i in NAVIGATION].index(name)
        if self.nav.currentRow() != row or not self.nav.item(row).isSelected():
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        self.setWindowTitle(f"{self.nav.item(row).text()} — VRP Desktop")
        if record_id and hasattr(widget, "open_record"):
            widget.open_record(record_id)

    def _nav_row_changed(self, row: int) -> None:
        if 0 <= row < len(NAVIGATION):
            self.navigate(NAVIGATION[row][0], "")

    # -- status bar ----------------------------------------------------------------------
    def _show_kind(self, kind: str) -> None:
        """Name the sync page for this kind of workspace and hide pages it has nothing for."""
        self._kind = kind
        shown = PAGES_OF_KIND.get(kind)
        for row, (name, label, _icon) in enumerate(NAVIGATION):
            item = self.nav.item(row)
            text = SYNC_LABEL.get(kind, label) if name == "sync" else label
            item.setText(text)
            item.setToolTip(f"{text} (Ctrl+{row + 1})")
            self.nav.setRowHidden(row, shown is not None and name not in shown)
        current = self.current_page_name()
        if current:
            self.navigate(current, "")  # moves off a page this kind does not show

    def _update_status_labels(self, ws: Workspace) -> None:
        self.runner.submit(lambda: ws.kind, on_done=self._show_kind, on_error=lambda _exc: None)
        role = roles.ROLE_LABELS.get(ws.user.role, ws.user.role)
        self.user_label.setText(f"Signed in: {ws.user.display_name} ({role})")
        self.workspace_label.setText(f"Workspace: {self.folder.name}")
        self.runner.submit(
            lambda: ws.own_provider().name,
            on_done=lambda name: self.workspace_label.setText(f"Workspace: {name}"),
            on_error=lambda _exc: None,
        )

    def _preload_store(self) -> None:
        """Import the store stack off the GUI thread, so the unlock screen shows sooner."""
        if self._shut_down or self._preloading:
            return
        self._preloading = True
        self.runner.submit(
            importlib.import_module, "vrp_desktop.workspace", on_error=lambda _exc: None
        )

    @Slot()
    def refresh_status(self, _entity: str = "") -> None:
        """Recount the records needing attention (after any saved change)."""
        if not self.is_unlocked:
            return
        assert self.ctx is not None
        from vrp_desktop.services import quality

        self.runner.submit(
            quality.attention_counts,
            self.ctx.ws,
            on_done=self._show_attention,
            on_error=lambda _exc: None,
        )

    def _show_attention(self, counts: dict[str, int]) -> None:
        total = sum(n for kind, n in counts.items() if kind != "attendance")
        self.attention_count = total
        if total:
            noun = "record needs" if total == 1 else "records need"
            self.attention_button.setText(f"{total} {noun} attention")
            self.attention_button.setIcon(icons.icon("attention"))
        else:
            self.attention_button.setText("Nothing needs attention")
            self.attention_button.setIcon(icons.icon("today"))
        self.attention_button.setAccessibleName(self.attention_button.text())

    # -- shutting down -------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_state()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Close the workspace and stop the store thread (if this window started it)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.idle.stop()
        if self.is_unlocked:
            assert self.ctx is not None
            ws, self.ctx.ws = self.ctx.ws, None  # type: ignore[assignment]
            self.runner.submit(ws.close, on_error=lambda _exc: None)
        if self._owns_runner:  # waits for the queue (the close included) as the app exits
            self.runner.shutdown()
