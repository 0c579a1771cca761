"""The unlock screen: pick a user, type the passphrase, optionally be remembered here.

Unlocking runs the key derivation on the store runner so the window stays responsive. A wrong
passphrase changes no file in the workspace; the screen says so inline, clears the field and
waits out the throttle delay before the button works again. "Use recovery code" unlocks with the
code and sets a new passphrase for the chosen user in the same step.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import icons
from ui.worker import StoreRunner
from vrp_desktop.crypto import slot_names
from vrp_desktop.errors import VrpError, WrongPassphrase
from vrp_desktop.store import files

if TYPE_CHECKING:  # the store stack loads on the store thread, after this screen shows
    from vrp_desktop.workspace import Workspace


def _keychain_availability() -> tuple[bool, str]:
    """Store-thread job: is there a keychain to remember a key in (and why not)?"""
    from vrp_desktop.crypto import remember  # keyring loads off the GUI thread

    return remember.availability()


def _usernames(folder: Path) -> list[str]:
    """Who can unlock, from the key slots alone (no database, so no store stack to load)."""
    return slot_names.usernames(files.keyslots_path(folder))


def open_with_passphrase(folder: Path, username: str, passphrase: str, keep: bool) -> Workspace:
    """Store-thread job: unlock, then remember (or forget) the key on this device."""
    from vrp_desktop.workspace import Workspace

    ws = Workspace.open(folder, username, passphrase)
    from vrp_desktop.crypto import remember

    usable, _reason = remember.availability()
    if usable:
        try:
            if keep:
                remember.remember(ws.workspace_id, ws.user.username, ws.master_key)
            else:
                remember.forget(ws.workspace_id, ws.user.username)
        except VrpError:
            pass  # unlocking matters more than remembering; the person signs in next time
    return ws


def open_remembered(folder: Path, workspace_id: str, username: str) -> Workspace:
    from vrp_desktop.crypto import remember

    key = remember.recall(workspace_id, username)
    if key is None:
        raise WrongPassphrase("No key is remembered for you on this device any more.")
    from vrp_desktop.workspace import Workspace

    return Workspace.open_with_key(folder, key, username)


def open_with_recovery(folder: Path, code: str, username: str, new_passphrase: str) -> Workspace:
    """Store-thread job: unlock with the recovery code and set ``username``'s new passphrase."""
    from vrp_desktop.services import users as users_service
    from vrp_desktop.workspace import Workspace

    ws = Workspace.open_with_recovery(folder, code, username)
    try:
        users_service.change_passphrase(ws, new_passphrase, username=username)
    except BaseException:
        ws.close()
        raise
    return ws


#: the keychain is checked once the screen has painted, or after this long if it never does
#: (a busy machine can take longer than this to paint: work queued before the paint competes
#: with it for the interpreter, so the fallback is well past a normal first paint)
PROBE_AT_LATEST_MS = 1500


class UnlockScreen(QWidget):
    """Emits ``unlocked(Workspace)`` once a person is in."""

    unlocked = Signal(object)
    #: the screen's first frame is on screen: work that would delay it can start now
    first_painted = Signal()

    def __init__(self, folder: Path, runner: StoreRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.runner = runner
        self._busy = False
        self._wait_until = 0.0
        self._delay_timer = QTimer(self)
        self._delay_timer.setInterval(1000)
        self._delay_timer.timeout.connect(self._tick)
        self._remaining = 0
        self._painted = False
        self._probe_pending = False

        card = QFrame(self)
        card.setProperty("role", "card")
        card.setMaximumWidth(520)
        card.setMinimumWidth(440)

        logo = QLabel(card)
        logo.setPixmap(icons.app_icon().pixmap(56, 56))
        title = QLabel("Unlock VRP Desktop", card)
        title.setProperty("role", "page-title")
        self.where = where = QLabel(f"Workspace: {self.folder}", card)
        where.setProperty("role", "hint")
        where.setWordWrap(True)

        self.user = QComboBox(card)
        self.user.setObjectName("user")
        self.user.setAccessibleName("User")
        self.passphrase = QLineEdit(card)
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.remember = QCheckBox("&Remember me on this device", card)
        self.remember.setObjectName("remember")
        self.remember_reason = QLabel(card)
        self.remember_reason.setObjectName("remember_reason")
        self.remember_reason.setWordWrap(True)
        self.remember_reason.setProperty("role", "hint")
        self.error = QLabel(card)
        self.error.setObjectName("error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Unlock message")
        self.error.hide()
        self.unlock_button = QPushButton("&Unlock", card)
        self.unlock_button.setObjectName("unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.setAutoDefault(True)
        self.remembered_button = QPushButton(card)
        self.remembered_button.setObjectName("unlock_remembered")
        self.remembered_button.hide()
        self.recovery_button = QPushButton("Forgotten your passphrase? Use the recovery code…")
        self.recovery_button.setObjectName("use_recovery")
        self.recovery_button.setProperty("role", "link")

        form = QFormLayout()
        form.addRow("&User:", self.user)
        form.addRow("&Passphrase:", self.passphrase)
        remember_row = QHBoxLayout()
        remember_row.addWidget(self.remember)
        remember_row.addWidget(self.remember_reason, 1)
        form.addRow("", remember_row)

        buttons = QHBoxLayout()
        buttons.addWidget(self.remembered_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)

        header = QHBoxLayout()
        header.addWidget(logo)
        heading = QVBoxLayout()
        heading.addWidget(title)
        heading.addWidget(where)
        header.addLayout(heading, 1)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 24)
        inner.setSpacing(14)
        inner.addLayout(header)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addLayout(buttons)
        inner.addWidget(self.recovery_button)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.passphrase.textChanged.connect(self._update_button)
        self.passphrase.returnPressed.connect(self.try_unlock)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.remembered_button.clicked.connect(self._unlock_remembered)
        self.recovery_button.clicked.connect(self.open_recovery)
        self.user.currentTextChanged.connect(self._user_changed)
        self.setTabOrder(self.user, self.passphrase)
        self.setTabOrder(self.passphrase, self.remember)
        self.setTabOrder(self.remember, self.unlock_button)
        self.setTabOrder(self.unlock_button, self.recovery_button)
        self.reset()

    # -- state ---------------------------------------------------------------------------
    def reset(self, *, offer_remembered: bool = True, username: str | None = None) -> None:
        """Fresh screen: reload users, clear the passphrase, re-check the keychain.

        After a lock, ``offer_remembered=False``: the remembered key must not undo a lock.
        """
        self._offer_remembered = offer_remembered
        self.passphrase.clear()
        self.error.hide()
        self.user.blockSignals(True)
        self.user.clear()
        try:
            names = _usernames(self.folder)
        except VrpError as exc:
            names = []
            self._show_error(str(exc))
        self.user.addItems(names)
        if username and username in names:
            self.user.setCurrentText(username)
        self.user.blockSignals(False)
        # asking the OS for a keychain takes a tenth of a second or more: do it off the GUI
        # thread so the screen shows at once; the box stays off until the answer comes
        self.remember.setEnabled(False)
        self.remember_reason.setText("Checking for a system keychain…")
        self.remember_reason.show()
        self._probe_pending = True
        if self._painted:
            self._probe_keychain()
        else:  # loading keyring (~0.3 s of imports) would hold the GIL while the screen builds
            QTimer.singleShot(PROBE_AT_LATEST_MS, self, self._probe_keychain)
        self._update_button()
        self.passphrase.setFocus()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self._probe_keychain)  # once this first frame is shown
            QTimer.singleShot(0, self, self._after_first_paint)

    def _after_first_paint(self) -> None:
        """Touches that need the Qt namespace (loading it would delay the first paint)."""
        from PySide6.QtCore import Qt

        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recovery_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.first_painted.emit()

    def _probe_keychain(self) -> None:
        if not self._probe_pending:
            return
        self._probe_pending = False
        unchecked = (
            False,
            "The system keychain could not be checked; sign in with your passphrase.",
        )
        # RuntimeError: the window shut its store thread down before this screen ever painted
        with contextlib.suppress(RuntimeError):
            self.runner.submit(
                _keychain_availability,
                on_done=self._keychain_checked,
                on_error=lambda _exc: self._keychain_checked(unchecked),
            )

    def _keychain_checked(self, answer: tuple[bool, str]) -> None:
        usable, reason = answer
        self.remember.setEnabled(usable)
        if not usable:
            self.remember.setChecked(False)
            self.remember_reason.setText(reason)
            self.remember_reason.show()
        else:
            self.remember_reason.clear()
            self.remember_reason.hide()
        self._user_changed(self.user.currentText())

    def _workspace_id(self) -> str | None:
        from vrp_desktop.crypto.keyslots import KeySlotFile  # after the first paint

        try:
            return KeySlotFile.load(files.keyslots_path(self.folder)).workspace_id
        except Exception:
            return None

    def _user_changed(self, name: str) -> None:
        self.remembered_button.hide()
        if not name or not self._offer_remembered or not self.remember.isEnabled():
            return
        workspace_id = self._workspace_id()
        if workspace_id is None:
            return
        try:
            from vrp_desktop.crypto import remember

            key = remember.recall(workspace_id, name)
        except VrpError:
            key = None
        if key is not None:
            self.remembered_button.setText(f"Continue as {name} (remembered here)")
            self.remembered_button.show()
            self.remember.setChecked(True)

    def _update_button(self) -> None:
        waiting = self._remaining > 0
        self.unlock_button.setEnabled(
            bool(self.passphrase.text())
            and bool(self.user.currentText())
            and not self._busy
            and not waiting
        )

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.unlock_button.setText("Unlocking…" if busy else "&Unlock")
        self.user.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)
        self._update_button()

    # -- actions -------------------------------------------------------------------------
    def try_unlock(self) -> None:
        if not self.unlock_button.isEnabled():
            return
        self._set_busy(True)
        self._show_error("")
        self.runner.submit(
            open_with_passphrase,
            self.folder,
            self.user.currentText(),
            self.passphrase.text(),
            self.remember.isChecked() and self.remember.isEnabled(),
            on_done=self._done,
            on_error=self._failed,
        )

    def _unlock_remembered(self) -> None:
        workspace_id = self._workspace_id()
        if workspace_id is None:
            return
        self._set_busy(True)
        self.runner.submit(
            open_remembered,
            self.folder,
            workspace_id,
            self.user.currentText(),
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, ws: Workspace) -> None:
        self._set_busy(False)
        self.passphrase.clear()
        self.unlocked.emit(ws)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.passphrase.clear()
        if isinstance(exc, WrongPassphrase):
            self.remembered_button.hide()
            self._start_delay(exc.delay_seconds)
            self._show_error(str(exc))
        elif isinstance(exc, VrpError):
            self._show_error(str(exc))
        else:
            from ui.errors import GENERIC

            self._show_error(GENERIC)
        self.passphrase.setFocus()

    def _start_delay(self, seconds: float) -> None:
        self._remaining = math.ceil(seconds) if seconds > 0 else 0
        if self._remaining:
            self._delay_timer.start()
            self.unlock_button.setText(f"Wait {self._remaining} s")
        self._update_button()

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining <= 0:
            self._remaining = 0
            self._delay_timer.stop()
            self.unlock_button.setText("&Unlock")
        else:
            self.unlock_button.setText(f"Wait {self._remaining} s")
        self._update_button()

    def open_recovery(self) -> RecoveryDialog:
        dialog = RecoveryDialog(self.folder, self.runner, self)
        dialog.user.setCurrentText(self.user.currentText())
        dialog.recovered.connect(self._recovered)
        dialog.open()
        return dialog

    def _recovered(self, ws: Workspace) -> None:
        self._show_error("")
        self.unlocked.emit(ws)


class RecoveryDialog(QDialog):
    """Recovery code + a new passphrase for the chosen user, applied together."""

    recovered = Signal(object)

    def __init__(self, folder: Path, runner: StoreRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.runner = runner
        self.setWindowTitle("Unlock with the recovery code")
        self.setMinimumWidth(520)
        intro = QLabel(
            "Type the recovery code you kept when the workspace was set up (or the newest one a "
            "manager made since). You then choose a new passphrase for the user below; their old "
            "passphrase stops working.",
            self,
        )
        intro.setWordWrap(True)
        self.user = QComboBox(self)
        self.user.setObjectName("recovery_user")
        self.user.setAccessibleName("User whose passphrase to reset")
        with contextlib.suppress(VrpError):
            self.user.addItems(_usernames(self.folder))
        self.code = QLineEdit(self)
        self.code.setObjectName("recovery_code")
        self.code.setAccessibleName("Recovery code")
        self.code.setPlaceholderText("e.g. ABCD-EFGH-…")
        from ui.passphrase import PassphraseFields  # the strength checker loads when asked

        self.fields = PassphraseFields(self)
        self.error = QLabel(self)
        self.error.setObjectName("recovery_error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Unlock and set passphrase")
        form = QFormLayout()
        form.addRow("&User:", self.user)
        form.addRow("Recovery &code:", self.code)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.code.textChanged.connect(self._update)
        self.fields.changed.connect(self._update)
        self.user.currentTextChanged.connect(lambda n: self.fields.set_user_inputs([n]))
        self.fields.set_user_inputs([self.user.currentText()])
        self._update()

    def _update(self) -> None:
        self.ok.setEnabled(bool(self.code.text().strip()) and self.fields.is_acceptable())

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        self.ok.setEnabled(False)
        self.error.hide()
        self.runner.submit(
            open_with_recovery,
            self.folder,
            self.code.text().strip(),
            self.user.currentText(),
            self.fields.passphrase(),
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, ws: Workspace) -> None:
        self.fields.clear()
        self.code.clear()
        self.accept()
        self.recovered.emit(ws)

    def _failed(self, exc: BaseException) -> None:
        from ui.errors import message_for

        self.error.setText(message_for(exc))
        self.error.show()
        self._update()
