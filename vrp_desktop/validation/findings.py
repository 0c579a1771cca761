"""What validation reports: one finding per problem, shown beside the field it concerns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """An error blocks sending; a warning asks the user for a reason.

    ``message`` is plain English and never contains a name, birth date or contact detail;
    ``field`` is a record key so the form can show the message beside that field.
    """

    severity: Severity
    field: str
    message: str
    rule: str


def error(field: str, message: str, rule: str) -> Finding:
    return Finding("error", field, message, rule)


def warning(field: str, message: str, rule: str) -> Finding:
    return Finding("warning", field, message, rule)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when anything blocks the record from being sent."""
    return any(finding.severity == "error" for finding in findings)
