"""Settings: locking and appearance for this computer, your passphrase, the interventions you
run, and for managers the users, backups and the recovery code.

Store work goes through the runner; errors a person can fix are shown with what to do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.context import AppContext
from ui.errors import message_for, show_error
from ui.forms.keyboard import Button
from ui.passphrase import PassphraseFields
from ui.progress import run_with_progress
from vrp_desktop import roles
from vrp_desktop.services import backup, users

IDLE_SETTING = "security/idle_lock_minutes"


class ChangePassphraseDialog(QDialog):
    """Your current passphrase and a new one; nothing changes unless the current one is right."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Change my passphrase")
        self.setMinimumWidth(480)
        self.current = QLineEdit(self)
        self.current.setObjectName("current_passphrase")
        self.current.setEchoMode(QLineEdit.EchoMode.Password)
        self.current.setAccessibleName("Current passphrase")
        self.fields = PassphraseFields(self)
        self.fields.set_user_inputs([ctx.ws.user.username, ctx.ws.user.display_name])
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Change passphrase")
        form = QFormLayout()
        form.addRow("&Current passphrase:", self.current)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.current.textChanged.connect(self._update)
        self.fields.changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.ok.setEnabled(bool(self.current.text()) and self.fields.is_acceptable())

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        self.ok.setEnabled(False)
        self.ctx.runner.submit(
            users.change_passphrase,
            self.ctx.ws,
            self.fields.passphrase(),
            current_passphrase=self.current.text(),
            on_done=lambda _r: self.accept(),
            on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.current.clear()
        self.error.setText(message_for(exc))
        self._update()


class AddUserDialog(QDialog):
    """A new login: username, name, role and their first passphrase (they can change it)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Add a user")
        self.setMinimumWidth(500)
        self.display_name = QLineEdit(self)
        self.display_name.setObjectName("new_display_name")
        self.username = QLineEdit(self)
        self.username.setObjectName("new_username")
        self.username.setPlaceholderText("e.g. sam.k (no spaces)")
        self.role = QComboBox(self)
        self.role.setObjectName("new_role")
        for code in ("worker", "manager"):
            self.role.addItem(roles.ROLE_LABELS[code], code)
        self.fields = PassphraseFields(self, label="Their passphrase")
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Add user")
        form = QFormLayout()
        form.addRow("&Name:", self.display_name)
        form.addRow("&Username:", self.username)
        form.addRow("&Role:", self.role)
        hint = QLabel(
            "Tell them their passphrase in person; they can change it in Settings after "
            "signing in.",
            self,
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.fields)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.username.textChanged.connect(self._update)
        self.fields.changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.fields.set_user_inputs([self.username.text(), self.display_name.text()])
        self.ok.setEnabled(bool(self.username.text().strip()) and self.fields.is_acceptable())

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        self.ok.setEnabled(False)
        self.ctx.runner.submit(
            users.add_user,
            self.ctx.ws,
            self.username.text().strip(),
            self.fields.passphrase(),
            role=self.role.currentData(),
            display_name=self.display_name.text().strip() or None,
            on_done=lambda _r: self.accept(),
            on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(message_for(exc))
        self._update()


class RecoveryCodeDialog(QDialog):
    """Shows a new recovery code once, with Save as text, until "kept" is ticked."""

    def __init__(self, code: str, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.folder = folder
        self.setWindowTitle("New recovery code")
        text = QLabel(
            "This is the new recovery code. The old one no longer works. It is shown only now.",
            self,
        )
        text.setWordWrap(True)
        label = QLabel(code, self)
        label.setObjectName("new_recovery_code")
        label.setProperty("role", "recovery-code")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        save = Button("&Save as text…", self)
        save.clicked.connect(self._save)
        self.kept = QCheckBox("I have &kept the recovery code somewhere safe", self)
        self.kept.setObjectName("kept_code")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.kept.toggled.connect(
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled
        )
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(label)
        layout.addWidget(save, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.kept)
        layout.addWidget(self.buttons)

    def _save(self) -> None:
        from ui.wizard import recovery_text
        from vrp_desktop.atomic import atomic_open

        path, _ = QFileDialog.getSaveFileName(
            self, "Save the recovery code", str(Path.home() / "vrp-recovery-code.txt")
        )
        if path:
            with atomic_open(Path(path)) as handle:
                handle.write(recovery_text(self.code, "", "", self.folder).encode("utf-8"))

    def reject(self) -> None:
        if self.kept.isChecked():
            super().reject()


class SettingsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        user = ctx.ws.user
        self.is_manager = roles.can(user.role, "manage_users")

        title = QLabel("Settings", self)
        title.setProperty("role", "page-title")

        # this computer
        device = QGroupBox("This computer", self)
        self.idle_minutes = QSpinBox(device)
        self.idle_minutes.setObjectName("idle_minutes")
        self.idle_minutes.setRange(0, 240)
        self.idle_minutes.setSuffix(" minutes")
        self.idle_minutes.setSpecialValueText("Never (not advised on a shared laptop)")
        self.idle_minutes.setAccessibleName("Lock after minutes without use")
        self.theme = QComboBox(device)
        self.theme.setObjectName("theme")
        for code, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, code)
        self.idle_minutes.setMinimumWidth(320)
        self.theme.setMinimumWidth(320)
        device_form = QFormLayout(device)
        device_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        device_form.addRow("&Lock after no use for:", self.idle_minutes)
        device_form.addRow("&Appearance:", self.theme)

        # me
        me = QGroupBox("My login", self)
        who = QLabel(
            f"{user.display_name} — username {user.username}, "
            f"{roles.ROLE_LABELS.get(user.role, user.role)}",
            me,
        )
        self.change_passphrase_button = Button("Change my &passphrase…", me)
        self.change_passphrase_button.setObjectName("change_passphrase")
        me_layout = QHBoxLayout(me)
        me_layout.addWidget(who, 1)
        me_layout.addWidget(self.change_passphrase_button)

        # what this provider runs
        from ui.pages.settings_interventions import InterventionsBox

        self.interventions_box = InterventionsBox(ctx, self)

        # users (managers)
        people = QGroupBox("Users of this workspace", self)
        self.users_table = QTableWidget(0, 3, people)
        self.users_table.setObjectName("users")
        self.users_table.setHorizontalHeaderLabels(["Name", "Username", "Role"])
        users_header = self.users_table.horizontalHeader()
        users_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):  # the name takes the width; username and role what they need
            users_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.users_table.verticalHeader().hide()
        self.users_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.users_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.users_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.users_table.setMinimumHeight(140)
        self.users_table.setAccessibleName("Users")
        self.add_user_button = Button("A&dd user…", people)
        self.add_user_button.setObjectName("add_user")
        self.remove_user_button = Button("&Remove selected user…", people)
        self.remove_user_button.setObjectName("remove_user")
        people_buttons = QHBoxLayout()
        people_buttons.addWidget(self.add_user_button)
        people_buttons.addWidget(self.remove_user_button)
        people_buttons.addStretch(1)
        people_layout = QVBoxLayout(people)
        people_layout.addWidget(self.users_table)
        people_layout.addLayout(people_buttons)
        people.setVisible(self.is_manager)

        # workspace (managers)
        keep = QGroupBox("Backups and recovery", self)
        self.backup_button = Button("&Back up now…", keep)
        self.backup_button.setObjectName("backup_now")
        self.recovery_button = Button("Make a &new recovery code…", keep)
        self.recovery_button.setObjectName("new_recovery_code")
        self.backup_status = QLabel(keep)
        self.backup_status.setObjectName("backup_status")
        self.backup_status.setProperty("role", "hint")
        self.backup_status.setWordWrap(True)
        keep_layout = QVBoxLayout(keep)
        row = QHBoxLayout()
        row.addWidget(self.backup_button)
        row.addWidget(self.recovery_button)
        row.addStretch(1)
        keep_layout.addLayout(row)
        keep_layout.addWidget(self.backup_status)
        keep.setVisible(roles.can(user.role, "backup"))

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(20, 14, 20, 14)
        body_layout.setSpacing(12)
        body_layout.addWidget(title)
        for box in (device, me, self.interventions_box, people, keep):
            box.setMaximumWidth(900)
            body_layout.addWidget(box)
        if not self.is_manager:
            note = QLabel(
                "Users, backups and the recovery code are looked after by a provider manager.",
                body,
            )
            note.setProperty("role", "hint")
            body_layout.addWidget(note)
        body_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.idle_minutes.valueChanged.connect(self._idle_changed)
        self.theme.currentIndexChanged.connect(self._theme_changed)
        self.change_passphrase_button.clicked.connect(self.change_passphrase)
        self.add_user_button.clicked.connect(self.add_user)
        self.remove_user_button.clicked.connect(self.remove_user)
        self.backup_button.clicked.connect(self.choose_backup)
        self.recovery_button.clicked.connect(self.new_recovery_code)
        self._loaded = False

    # -- settings shared with the main window --------------------------------------------
    def _settings(self) -> QSettings:
        return getattr(self.window(), "settings", None) or QSettings("VRP", "VRP Desktop")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            settings = self._settings()
            self.idle_minutes.blockSignals(True)
            try:
                self.idle_minutes.setValue(round(float(settings.value(IDLE_SETTING, 10))))
            except (TypeError, ValueError):
                self.idle_minutes.setValue(10)
            self.idle_minutes.blockSignals(False)
            self.theme.blockSignals(True)
            self.theme.setCurrentIndex(max(0, self.theme.findData(theme.chosen(settings))))
            self.theme.blockSignals(False)
        self.refresh_users()

    def _idle_changed(self, minutes: int) -> None:
        window = self.window()
        if hasattr(window, "set_idle_minutes"):
            window.set_idle_minutes(minutes)
        else:
            self._settings().setValue(IDLE_SETTING, minutes)

    def _theme_changed(self, _index: int) -> None:
        choice = self.theme.currentData()
        self._settings().setValue(theme.SETTING, choice)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, choice)

    # -- users ---------------------------------------------------------------------------
    def refresh_users(self) -> None:
        if not self.is_manager or self.ctx.ws is None:
            return
        self.ctx.runner.submit(users.list_users, self.ctx.ws, on_done=self._show_users)

    def _show_users(self, rows: list[dict]) -> None:
        active = [r for r in rows if r["active"]]
        self.users_table.setRowCount(len(active))
        for i, row in enumerate(active):
            for j, value in enumerate(
                (row["display_name"], row["username"], roles.ROLE_LABELS.get(row["role"], "?"))
            ):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row["username"])
                self.users_table.setItem(i, j, item)

    def add_user(self) -> AddUserDialog:
        dialog = AddUserDialog(self.ctx, self)
        dialog.accepted.connect(self.refresh_users)
        dialog.open()
        return dialog

    def remove_user(self) -> None:
        row = self.users_table.currentRow()
        if row < 0:
            QMessageBox.information(self, "Remove a user", "Select the user to remove first.")
            return
        username = self.users_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        answer = QMessageBox.question(
            self,
            "Remove a user",
            f"Remove {username}? The workspace key changes, so their passphrase will stop opening "
            "this workspace. Records they entered stay. Backups made before now still open with "
            "the passphrases they were made with, theirs included.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.runner.submit(
            users.remove_user,
            self.ctx.ws,
            username,
            on_done=lambda _r: self.refresh_users(),
            on_error=lambda exc: show_error(self, exc, action="remove the user"),
        )

    def change_passphrase(self) -> ChangePassphraseDialog:
        dialog = ChangePassphraseDialog(self.ctx, self)
        dialog.open()
        return dialog

    # -- backups and recovery ------------------------------------------------------------
    def choose_backup(self) -> None:
        name = f"vrp-backup-{dt.datetime.now():%Y-%m-%d-%H%M}.vrpbackup"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save a backup", str(Path.home() / name), "VRP backups (*.vrpbackup)"
        )
        if path:
            self.backup_to(Path(path))

    def backup_to(self, path: Path):
        """Write a backup to ``path`` with a progress dialog; returns the dialog."""
        self.backup_status.setText("Backing up…")
        return run_with_progress(
            self,
            self.ctx.runner,
            "Backing up the workspace",
            backup.backup,
            self.ctx.ws,
            path,
            reports_progress=False,
            on_done=lambda out: self.backup_status.setText(
                f"Backed up to {out}. Keep a copy away from this laptop."
            ),
            on_error=self._backup_failed,
        )

    def _backup_failed(self, exc: BaseException) -> None:
        self.backup_status.setText("The backup was not made.")
        show_error(self, exc, action="make the backup")

    def new_recovery_code(self) -> None:
        answer = QMessageBox.question(
            self,
            "New recovery code",
            "Make a new recovery code? The old code stops working at once, so only do this if "
            "it was lost or seen by someone who should not have it.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.runner.submit(
            users.new_recovery_code,
            self.ctx.ws,
            on_done=self._show_code,
            on_error=lambda exc: show_error(self, exc, action="make a new recovery code"),
        )

    def _show_code(self, code: str) -> None:
        RecoveryCodeDialog(code, self.ctx.ws.folder, self).open()
