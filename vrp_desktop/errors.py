"""User-facing errors.

Every error a person can cause carries a message that says what is wrong and what to do.
Messages never include personal data: they name fields, files and record ids, not values.
"""

from __future__ import annotations


class VrpError(Exception):
    """Base for errors shown to a person; ``str()`` is the message to show."""

    #: exit code the command line uses for this kind of error
    exit_code = 1


class WorkspaceError(VrpError):
    """The workspace folder is missing, incomplete or not a VRP workspace."""


class WrongPassphrase(VrpError):
    """The passphrase (or recovery code) did not unlock any key slot."""

    exit_code = 3

    def __init__(self, message: str, *, attempts: int = 0, delay_seconds: float = 0.0) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.delay_seconds = delay_seconds


class PermissionDenied(VrpError):
    """The signed-in user's role does not allow this action."""

    exit_code = 4


class FrameworkError(VrpError):
    """A framework or measure definition file is invalid."""


class NotFound(VrpError):
    """A record the action refers to does not exist (or was erased)."""


class RecordInvalid(VrpError):
    """A record failed validation with errors; ``findings`` lists them."""

    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class BackupError(VrpError):
    """A backup could not be written, or a file offered for restore is not a sound backup."""
