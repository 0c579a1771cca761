"""Sessions, newest first, paged from the store; filtered by intervention."""

from __future__ import annotations

from typing import Any

from ui.models.paging import PagedTableModel, RecordIdRole, RowRole, SortRole
from vrp_desktop import codes
from vrp_desktop.services import sessions

__all__ = ["RecordIdRole", "RowRole", "SessionsModel", "SortRole"]

COL_WHEN = 0
COL_INTERVENTION = 1
COL_TYPE = 2
COL_DURATION = 3
COL_ATTENDEES = 4
COL_STATE = 5


class SessionsModel(PagedTableModel):
    HEADERS = ("When", "Intervention", "Type", "Length", "Attendees", "Status")

    def __init__(self, ctx, parent=None, **kwargs: Any) -> None:
        super().__init__(ctx, parent, **kwargs)
        self.intervention_id: str | None = None

    def set_intervention(self, intervention_id: str | None) -> None:
        self.intervention_id = intervention_id or None
        self.refresh()

    def _count_call(self):
        return sessions.count_sessions, (), {"intervention_id": self.intervention_id}

    def _page_call(self, offset: int, limit: int):
        return (
            sessions.list_sessions,
            (),
            {"intervention_id": self.intervention_id, "offset": offset, "limit": limit},
        )

    def display(self, row: dict[str, Any], column: int) -> Any:
        if column == COL_WHEN:
            when = row["starts_at"]
            return f"{when:%a %d %b %Y, %H:%M}" if when else ""
        if column == COL_INTERVENTION:
            return row["intervention"]
        if column == COL_TYPE:
            return codes.SESSION_TYPES.get(row["session_type"], row["session_type"])
        if column == COL_DURATION:
            minutes = row["duration_minutes"]
            return f"{minutes} min" if minutes else ""
        if column == COL_ATTENDEES:
            return str(row["attendees"])
        if column == COL_STATE:
            if row["status"] != "delivered":
                return codes.SESSION_STATUSES.get(row["status"], row["status"])
            if row["sync_state"] == "draft":
                return "Needs attention"
            return "Ready to send" if row["sync_state"] == "valid" else row["sync_state"].title()
        return None

    def sort_value(self, row: dict[str, Any], column: int) -> Any:
        if column == COL_WHEN:
            return row["starts_at"].isoformat() if row["starts_at"] else ""
        if column in (COL_DURATION, COL_ATTENDEES):
            return row["duration_minutes" if column == COL_DURATION else "attendees"] or 0
        return self.display(row, column)
