"""One declarative validation engine for forms, batches and imports."""

from vrp_desktop.validation.engine import (
    AttendeeContext,
    validate_enrolment,
    validate_intervention,
    validate_participant,
    validate_response,
    validate_session,
)
from vrp_desktop.validation.findings import Finding, Severity, has_errors

__all__ = [
    "AttendeeContext",
    "Finding",
    "Severity",
    "has_errors",
    "validate_enrolment",
    "validate_intervention",
    "validate_participant",
    "validate_response",
    "validate_session",
]
