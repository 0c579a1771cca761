"""One way to tell a person something went wrong, and what to do about it.

A ``VrpError`` already carries a message written for people (what is wrong and what to do), so
it is shown as it is. Anything else is a bug: the dialog says so in general words and never
repeats the exception text, which could hold personal data; the traceback goes to stderr.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.worker import Cancelled
from vrp_desktop.errors import PermissionDenied, VrpError, WrongPassphrase

log = logging.getLogger(__name__)

GENERIC = (
    "Something went wrong that VRP Desktop did not expect. Nothing you saved before this was "
    "lost. Try again; if it keeps happening, close and reopen VRP Desktop, and tell your "
    "manager what you were doing (no need to share any names)."
)


def message_for(exc: BaseException) -> str:
    """The words to show for ``exc``: its own message for a VrpError, a generic one otherwise."""
    if isinstance(exc, VrpError):
        return str(exc) or GENERIC
    return GENERIC


def title_for(exc: BaseException) -> str:
    if isinstance(exc, PermissionDenied):
        return "Not allowed for your role"
    if isinstance(exc, WrongPassphrase):
        return "Not unlocked"
    if isinstance(exc, VrpError):
        return "Please check"
    return "Unexpected problem"


def show_error(parent: QWidget | None, exc: BaseException, *, action: str = "") -> None:
    """Show ``exc`` as a dialog; a cancelled job shows nothing. ``action`` names what failed."""
    if isinstance(exc, Cancelled):
        return
    if not isinstance(exc, VrpError):
        log.error(
            "unexpected error%s: %s",
            f" while {action}" if action else "",
            "".join(traceback.format_exception(exc)),
        )
    box = QMessageBox(parent)
    box.setIcon(
        QMessageBox.Icon.Warning if isinstance(exc, VrpError) else QMessageBox.Icon.Critical
    )
    box.setWindowTitle(title_for(exc))
    box.setText(f"Could not {action}." if action else title_for(exc))
    box.setInformativeText(message_for(exc))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()
