"""Helpers shared by the record services: snapshots, versions, sync states, findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vrp_desktop.errors import NotFound, VrpError
from vrp_desktop.store.models import Syncable
from vrp_desktop.validation.findings import Finding

#: states in which the VRP already holds this version; an edit makes a new version to send
_SHARED_STATES = {"queued", "sent", "accepted", "rejected"}


def snapshot(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in fields}


def reject_unknown(fields: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise VrpError(f"Unknown {what} field(s): {', '.join(unknown)}.")


def findings_to_json(findings: Sequence[Finding]) -> list[dict[str, str]]:
    return [
        {"severity": f.severity, "field": f.field, "message": f.message, "rule": f.rule}
        for f in findings
    ]


def settle(record: Syncable, findings: Sequence[Finding], warning_reason: str | None) -> None:
    """Store the findings and the sync state they allow.

    Errors keep a record in draft. Warnings need a reason from the person saving it; with
    one (or with none to give), the record is valid and may travel in the next batch.
    """
    record.findings = findings_to_json(findings)
    if warning_reason is not None:
        record.warning_reason = warning_reason.strip() or None
    has_error = any(f.severity == "error" for f in findings)
    has_warning = any(f.severity == "warning" for f in findings)
    if has_error or (has_warning and not record.warning_reason):
        record.sync_state = "draft"
    else:
        record.sync_state = "valid"


def bump(record: Syncable) -> None:
    """A changed record gets a new version; if the VRP holds an older one, it must resend."""
    if record.version is None:
        record.version = 1
        return
    record.version += 1
    if record.sync_state in _SHARED_STATES:
        record.rejection_reason = None


def get_or_404(session, model, record_id: str, what: str):
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {what} with id {record_id}: it may have been erased or never saved.")
    return record


def parse_date(value: Any, field: str) -> dt.date | None:
    """Accept a date, an ISO string or a UK ``dd/mm/yyyy`` string; None or '' for no date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise VrpError(f"{field}: {text!r} is not a date. Use dd/mm/yyyy, e.g. 25/11/2026.")


def parse_datetime(value: Any, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        from vrp_desktop.clock import received_start

        # a start with an offset is converted to the local wall-clock time it means
        return received_start(value).replace(microsecond=0)
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise VrpError(
        f"{field}: {text!r} is not a date and time. Use e.g. 2026-11-24 18:30 or 24/11/2026 18:30."
    )


def today() -> dt.date:
    return dt.date.today()


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def sync_fields(record: Syncable) -> dict[str, Any]:
    """The bookkeeping every shareable record reports alongside its own fields."""
    return {
        "version": record.version,
        "sync_state": record.sync_state,
        "findings": list(record.findings or []),
        "warning_reason": record.warning_reason,
        "rejection_reason": record.rejection_reason,
    }


def clean_values(
    fields: Mapping[str, Any],
    allowed: Iterable[str],
    what: str,
    *,
    dates: Iterable[str] = (),
    codes: Iterable[str] = (),
) -> dict[str, Any]:
    """Typed input from a form, CLI or spreadsheet: stripped text ('' means no value), dates
    parsed (ISO or UK), code-list values case-folded. Unknown fields are refused."""
    reject_unknown(fields, allowed, what)
    dates, codes = set(dates), set(codes)
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or None
        if key in dates:
            value = parse_date(value, key)
        elif key in codes and isinstance(value, str):
            value = value.casefold()
        values[key] = value
    return values
