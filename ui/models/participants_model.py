"""The participant register as a lazy table: search text and filters reset it."""

from __future__ import annotations

from typing import Any

from ui.models.paging import PAGE_SIZE, PagedTableModel, RecordIdRole, RowRole, SortRole
from vrp_desktop import codes
from vrp_desktop.services import participants

__all__ = ["ParticipantsModel", "RecordIdRole", "RowRole", "SortRole"]

COL_NAME = 0
COL_REFERENCE = 1
COL_AGE_BAND = 2
COL_POSTCODE = 3
COL_CONSENT = 4
COL_STATE = 5

COUNT_CAP = 1000
#: rows in a new query's first page (more than a maximised window shows)
FIRST_PAGE = 60

STATE_LABELS = {"draft": "Needs attention", "valid": "Ready to send"}


class ParticipantsModel(PagedTableModel):
    HEADERS = ("Name", "Reference", "Age band", "Postcode district", "Consent", "Status")

    def __init__(self, ctx, parent=None, **kwargs: Any) -> None:
        # a search paints the rows a window shows (~25-45) at once; the rest follow on scroll
        kwargs.setdefault("first_page_size", min(FIRST_PAGE, kwargs.get("page_size", PAGE_SIZE)))
        super().__init__(ctx, parent, **kwargs)
        self.text = ""
        self.filters: dict[str, Any] = {}

    def set_query(self, text: str = "", **filters: Any) -> None:
        """New search text and filters (intervention_id, status, age_band); empty ones dropped."""
        self.text = text.strip()
        self.filters = {k: v for k, v in filters.items() if v not in (None, "", "all")}
        self.refresh()

    def _count_call(self):
        return participants.count_participants, (self.text,), dict(self.filters)

    def _count_cap(self) -> int | None:
        """While typing, "more than 1,000" says enough, and a one-letter prefix matches a fifth
        of everyone; the whole register (no text) is counted exactly from an index."""
        return COUNT_CAP if self.text else None

    def _page_call(self, offset: int, limit: int):
        return (
            participants.list_participants,
            (self.text,),
            {"offset": offset, "limit": limit, **self.filters},
        )

    def display(self, row: dict[str, Any], column: int) -> Any:
        if column == COL_NAME:
            return row["display_name"]
        if column == COL_REFERENCE:
            return row["reference"]
        if column == COL_AGE_BAND:
            return row["age_band"] or ""
        if column == COL_POSTCODE:
            return row["postcode_district"] or ""
        if column == COL_CONSENT:
            return codes.CONSENT_STATUSES.get(row["consent_status"] or "", "")
        if column == COL_STATE:
            if row["problems"] and row["sync_state"] == "draft":
                n = row["problems"]
                return f"Needs attention ({n} problem{'s' if n != 1 else ''})"
            return STATE_LABELS.get(row["sync_state"], (row["sync_state"] or "").capitalize())
        return None

    def sort_value(self, row: dict[str, Any], column: int) -> Any:
        if column == COL_NAME:
            return ((row["last_name"] or "").casefold(), (row["first_name"] or "").casefold())
        return self.display(row, column)

    def tooltip(self, row: dict[str, Any], column: int) -> Any:
        if column == COL_STATE and row["sync_state"] == "draft":
            return "Open this person to see what needs fixing before it can be sent."
        return None
