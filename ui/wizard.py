"""First run: set up the provider, the first user and their passphrase, show the recovery code
once, then ask "What do you run?" so the first session can be logged straight away.

The workspace is created on the store runner when the person leaves the passphrase page (a
commit page: there is no going back once the keys exist). The recovery code page offers Print and
Save as text, and Next stays disabled until "I have kept the recovery code somewhere safe" is
ticked; then the interventions page (add several, or skip) ends the wizard.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ui import icons
from ui.context import AppContext
from ui.errors import message_for
from ui.passphrase import PassphraseFields
from ui.worker import StoreRunner
from vrp_desktop.atomic import atomic_open
from vrp_desktop.sync import parties
from vrp_desktop.workspace import Workspace


def recovery_text(code: str, provider_name: str, username: str, folder: Path) -> str:
    """What Print and Save as text write: the code, and what it is for."""
    return (
        "VRP Desktop recovery code\n"
        "=========================\n\n"
        f"Provider:  {provider_name}\n"
        f"Workspace: {folder}\n"
        f"First user: {username}\n\n"
        f"Recovery code:\n\n    {code}\n\n"
        "This code unlocks the workspace if every passphrase is forgotten. Keep it somewhere "
        "safe and separate from the laptop (a locked drawer or the manager's safe). Anyone "
        "with this code and the laptop can read the records. A manager can replace it in "
        "Settings, which makes this one stop working.\n"
    )


#: per kind of workspace: page title, code placeholder, name label, name placeholder
_WORDING = {
    "provider": (
        "Your organisation",
        ("Provider &code:", "e.g. P014"),
        ("Provider na&me:", "e.g. Northside Youth Project"),
    ),
    "coordinator": (
        "Your partnership",
        ("Partnership &code:", "e.g. VRP"),
        ("Partnership na&me:", "e.g. West Midlands VRP"),
    ),
    "custodian": (
        "The linkage custodian",
        ("Custodian &code:", "e.g. IG"),
        ("Custodian na&me:", "e.g. Partnership information governance lead"),
    ),
}


class ProviderPage(QWizardPage):
    """Which party this workspace is (provider, VRP coordinator, linkage custodian), its code
    and its name. Providers are the usual case and chosen already."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Your organisation")
        self.setSubTitle(
            "VRP Desktop keeps your records encrypted on this computer. First, what will this "
            "workspace be, and who is it for?"
        )
        self.roles = QButtonGroup(self)
        self.role_buttons: dict[str, QRadioButton] = {}
        choice = QVBoxLayout()
        choice.setSpacing(2)
        for kind, (label, line) in parties.PARTIES.items():
            button = QRadioButton(label, self)
            button.setObjectName(f"kind_{kind}")
            button.setAccessibleDescription(line)
            explain = QLabel(line, self)
            explain.setProperty("role", "hint")
            explain.setWordWrap(True)
            explain.setContentsMargins(24, 0, 0, 4)
            self.roles.addButton(button)
            self.role_buttons[kind] = button
            choice.addWidget(button)
            choice.addWidget(explain)
        self.role_buttons["provider"].setChecked(True)
        self.code = QLineEdit(self)
        self.code.setObjectName("provider_code")
        self.code.setAccessibleName("Provider code")
        self.code.setPlaceholderText("e.g. P014")
        self.code.setMaxLength(32)
        self.name = QLineEdit(self)
        self.name.setObjectName("provider_name")
        self.name.setAccessibleName("Provider name")
        self.name.setPlaceholderText("e.g. Northside Youth Project")
        self.name.setMaxLength(200)
        self.code_label = QLabel("Provider &code:", self)
        self.code_label.setBuddy(self.code)
        self.name_label = QLabel("Provider na&me:", self)  # Alt+N is Next
        self.name_label.setBuddy(self.name)
        form = QFormLayout()
        form.addRow(self.code_label, self.code)
        form.addRow(self.name_label, self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(choice)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addStretch(1)
        self.registerField("provider_code*", self.code)
        self.registerField("provider_name*", self.name)
        self.roles.buttonToggled.connect(lambda _b, on: on and self._reword())

    def kind(self) -> str:
        """The party chosen: provider, coordinator or custodian."""
        return next(k for k, b in self.role_buttons.items() if b.isChecked())

    def _reword(self) -> None:
        title, (code_label, code_hint), (name_label, name_hint) = _WORDING[self.kind()]
        self.setTitle(title)
        for label, edit, text, hint in (
            (self.code_label, self.code, code_label, code_hint),
            (self.name_label, self.name, name_label, name_hint),
        ):
            label.setText(text)
            edit.setPlaceholderText(hint)
            edit.setAccessibleName(text.replace("&", "").rstrip(":"))


_FIRST_USER = {
    "provider": "This person becomes the provider manager: they can add other users in "
    "Settings. Each person should have their own login on a shared laptop.",
    "coordinator": "This person becomes the VRP coordinator: they onboard providers and import "
    "batches, and can add other users in Settings.",
    "custodian": "This person holds the partnership's linkage key and issues it to providers. "
    "Keep this workspace away from the VRP's computers.",
}


class UserPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("The first user")
        self.setSubTitle(_FIRST_USER["provider"])
        self.display_name = QLineEdit(self)
        self.display_name.setObjectName("display_name")
        self.display_name.setAccessibleName("Your name")
        self.display_name.setPlaceholderText("e.g. Jo Patel")
        self.username = QLineEdit(self)
        self.username.setObjectName("username")
        self.username.setAccessibleName("Username")
        self.username.setPlaceholderText("e.g. jo.patel (no spaces)")
        self.username.setMaxLength(64)
        self.problem = QLabel(self)
        self.problem.setProperty("role", "error")
        form = QFormLayout(self)
        form.addRow("Your na&me:", self.display_name)  # Alt+N is Next
        form.addRow("&Username:", self.username)
        form.addRow("", self.problem)
        self.registerField("display_name*", self.display_name)
        self.registerField("username*", self.username)
        self.display_name.textEdited.connect(self._suggest_username)
        self.username.textEdited.connect(lambda _t: setattr(self, "_typed", True))
        self.username.textChanged.connect(self._check)
        self._typed = False

    def initializePage(self) -> None:
        wizard = self.wizard()
        kind = wizard.provider_page.kind() if isinstance(wizard, FirstRunWizard) else "provider"
        self.setSubTitle(_FIRST_USER[kind])

    def _suggest_username(self, text: str) -> None:
        if not self._typed:
            self.username.setText(".".join(text.lower().split())[:64])

    def _check(self, text: str) -> None:
        bad = any(ch.isspace() for ch in text)
        self.problem.setText("A username cannot contain spaces." if bad else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        text = self.username.text()
        return super().isComplete() and bool(text.strip()) and not any(c.isspace() for c in text)


class PassphrasePage(QWizardPage):
    """Choosing the passphrase; leaving this page creates the workspace."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        self.first_run = wizard
        self.setTitle("Your passphrase")
        self.setSubTitle(
            "Only your passphrase opens your login. Longer is stronger: a few unrelated words "
            "you can remember, e.g. 'kettle orbit marmalade station'."
        )
        self.fields = PassphraseFields(self, label="Passphrase")
        self.status = QLabel(self)
        self.status.setObjectName("create_status")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.fields.changed.connect(self.completeChanged)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create workspace")
        self._creating = False

    def initializePage(self) -> None:
        self.fields.set_user_inputs(
            [self.field("username"), self.field("display_name"), self.field("provider_name")]
        )

    def isComplete(self) -> bool:
        return self.fields.is_acceptable() and not self._creating

    def validatePage(self) -> bool:
        if self.first_run.workspace is not None:
            return True
        if self._creating:
            return False
        self._creating = True
        self.status.setProperty("role", "hint")
        self.status.setText("Creating your encrypted workspace…")
        self.completeChanged.emit()
        self.first_run.runner.submit(
            parties.create,
            self.first_run.folder,
            self.first_run.provider_page.kind(),
            code=self.field("provider_code").strip(),
            name=self.field("provider_name").strip(),
            username=self.field("username").strip(),
            passphrase=self.fields.passphrase(),
            display_name=self.field("display_name").strip(),
            on_done=self._created,
            on_error=self._failed,
        )
        return False

    def _created(self, result: tuple[Workspace, str]) -> None:
        self.first_run.workspace, self.first_run.recovery_code = result
        # the keys exist: there is no cancelling from here, so no Cancel button either
        self.first_run.setOption(QWizard.WizardOption.NoCancelButton, True)
        self._creating = False
        self.fields.clear()
        self.status.setText("")
        self.first_run.next()

    def _failed(self, exc: BaseException) -> None:
        self._creating = False
        self.status.setProperty("role", "error")
        self.status.setText(f"The workspace was not created. {message_for(exc)}")
        self.status.style().polish(self.status)
        self.completeChanged.emit()


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        self.first_run = wizard
        self.setTitle("Your recovery code")
        self.setSubTitle(
            "If every passphrase is forgotten, this code is the only way back in. It is shown "
            "this once: print it or save it, and keep it away from the laptop."
        )
        self.code = QLabel(self)
        self.code.setObjectName("recovery_code")
        self.code.setProperty("role", "recovery-code")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setAccessibleName("Recovery code")
        self.print_button = QPushButton("&Print…", self)
        self.print_button.setObjectName("print_code")
        self.save_button = QPushButton("&Save as text…", self)
        self.save_button.setObjectName("save_code")
        self.saved_label = QLabel(self)
        self.saved_label.setProperty("role", "hint")
        self.saved_label.setWordWrap(True)
        self.kept = QCheckBox("I have &kept the recovery code somewhere safe", self)
        self.kept.setObjectName("kept_code")
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code)
        layout.addLayout(buttons)
        layout.addWidget(self.saved_label)
        layout.addStretch(1)
        layout.addWidget(self.kept)
        self.kept.toggled.connect(self.completeChanged)
        self.print_button.clicked.connect(self.print_code)
        self.save_button.clicked.connect(self.choose_save_path)

    def initializePage(self) -> None:
        self.code.setText(self.first_run.recovery_code or "")

    def nextId(self) -> int:
        """Only a provider goes on to "What do you run?"; the others finish here."""
        if self.first_run.provider_page.kind() != "provider":
            return -1
        return super().nextId()

    def isComplete(self) -> bool:
        return self.kept.isChecked() and bool(self.first_run.recovery_code)

    def _text(self) -> str:
        ws = self.first_run.workspace
        return recovery_text(
            self.first_run.recovery_code or "",
            self.field("provider_name"),
            ws.user.username if ws else self.field("username"),
            self.first_run.folder,
        )

    def print_code(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the recovery code")
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            document = QTextDocument()
            document.setPlainText(self._text())
            document.print_(printer)
            self.saved_label.setText("Sent to the printer. Check the page came out.")

    def choose_save_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the recovery code",
            str(Path.home() / "vrp-recovery-code.txt"),
            "Text files (*.txt)",
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the code and its explanation to ``path`` (a USB stick, ideally)."""
        try:
            with atomic_open(path) as handle:
                handle.write(self._text().encode("utf-8"))
        except OSError as exc:
            self.saved_label.setText(
                f"Could not save there ({exc.strerror}). Choose another place."
            )
            return
        self.saved_label.setText(
            f"Saved to {path}. Move it off this laptop (e.g. onto a USB stick kept elsewhere)."
        )


class InterventionsPage(QWizardPage):
    """ "What do you run?": add the first interventions now (or skip and add them in Settings).

    Each Add opens the same dialog Settings uses; the page lists what is stored so far.
    """

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__(wizard)
        self.first_run = wizard
        self.setTitle("What do you run?")
        self.setSubTitle(
            "Add each programme you run, e.g. 'Friday football', a weekly group under "
            "Sports-based diversion. Sessions are logged against these."
        )
        self.added: list[dict] = []
        self.names: dict[str, str] = {}
        self.list = QListWidget(self)
        self.list.setObjectName("wizard_interventions")
        self.list.setAccessibleName("Interventions added")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a read-out; Tab goes Add → Finish
        self.empty = QLabel("Nothing added yet.", self)
        self.empty.setProperty("role", "hint")
        self.add_button = QPushButton("&Add an intervention…", self)
        self.add_button.setObjectName("wizard_add_intervention")
        self.add_button.setAutoDefault(True)
        self.skip_hint = QLabel(
            "Add as many as you run. Not sure yet? Press Finish: you can add and change them "
            "any time in Settings → Interventions.",
            self,
        )
        self.skip_hint.setProperty("role", "hint")
        self.skip_hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.skip_hint)
        self.add_button.clicked.connect(self.add)
        self.dialog = None

    def initializePage(self) -> None:
        # after QWizard has placed focus on the page: Enter now adds, rather than finishes
        QTimer.singleShot(0, self.add_button.setFocus)

    def add(self):
        """Open the intervention dialog; what it stores is listed here."""
        from ui.forms.intervention_form import InterventionDialog

        self.dialog = InterventionDialog(self.first_run.context(), self)
        self.dialog.accepted.connect(self._added)
        self.dialog.open()
        return self.dialog

    def _added(self) -> None:
        from ui.forms.intervention_form import describe

        row = self.dialog.saved if self.dialog else None
        if not row:
            return
        self.names = {c["id"]: c["name"] for c in self.dialog.choices.values()}
        self.added.append(row)
        self.list.addItem(f"{row['name']} — {describe(row, self.names)}")
        self.empty.hide()
        self.add_button.setText("&Add another…")
        self.skip_hint.setText("Add another, or press Finish to start using VRP Desktop.")
        # once the dialog has gone: Enter finishes, Alt+A adds another
        QTimer.singleShot(0, self.first_run.button(QWizard.WizardButton.FinishButton).setFocus)


class FirstRunWizard(QWizard):
    """Accepted once the workspace exists and the code was kept (interventions may be added or
    skipped); ``workspace`` is then open."""

    def __init__(self, folder: Path, runner: StoreRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.runner = runner
        self.workspace: Workspace | None = None
        self.recovery_code: str | None = None
        self.setWindowTitle("Set up VRP Desktop")
        self.setWindowIcon(icons.app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setMinimumSize(640, 480)
        self.provider_page = ProviderPage(self)
        self.user_page = UserPage(self)
        self.passphrase_page = PassphrasePage(self)
        self.recovery_page = RecoveryPage(self)
        self.interventions_page = InterventionsPage(self)
        for page in (
            self.provider_page,
            self.user_page,
            self.passphrase_page,
            self.recovery_page,
            self.interventions_page,
        ):
            self.addPage(page)
        self._context: AppContext | None = None

    def context(self) -> AppContext:
        """The page context for the new workspace (the wizard's dialogs use ctx.read/run_op)."""
        if self._context is None:
            assert self.workspace is not None
            self._context = AppContext(self.workspace, self.runner, self)
        return self._context

    def reject(self) -> None:
        """Once the workspace exists the code must be seen through; before that, cancel away."""
        if self.workspace is not None:
            return
        super().reject()
