"""The participant register as a lazy table: search text and filters reset it."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(eq=False)
class _Ahead:
    """A first page read ahead, while the person is still typing (``read_ahead``)."""

    key: tuple[str, tuple[tuple[str, Any], ...]]
    rows: list[dict[str, Any]] | None = None
    failed: bool = False
    #: superseded (typed on, saved, refreshed) before the store thread reached it: skip it
    dropped: bool = False
    #: the query was run before the read finished: hand it the rows when they come
    waiting: Any = field(default=None)


class ParticipantsModel(PagedTableModel):
    HEADERS = ("Name", "Reference", "Age band", "Postcode district", "Consent", "Status")

    def __init__(self, ctx, parent=None, **kwargs: Any) -> None:
        # a search paints the rows a window shows (~25-45) at once; the rest follow on scroll
        kwargs.setdefault("first_page_size", min(FIRST_PAGE, kwargs.get("page_size", PAGE_SIZE)))
        super().__init__(ctx, parent, **kwargs)
        self.text = ""
        self.filters: dict[str, Any] = {}
        self._ahead: _Ahead | None = None
        changed = getattr(ctx, "data_changed", None)
        if changed is not None:  # a page read ahead of a save must not be shown after it
            changed.connect(self._forget_ahead)

    @staticmethod
    def _key(text: str, filters: dict[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
        kept = {k: v for k, v in filters.items() if v not in (None, "", "all")}
        return text.strip(), tuple(sorted(kept.items()))

    def set_query(self, text: str = "", **filters: Any) -> None:
        """New search text and filters (intervention_id, status, age_band); empty ones dropped.

        When ``read_ahead`` already started this query's first page, that read is used (shown
        at once if it is in), not a second one queued behind it."""
        self.text, kept = self._key(text, filters)
        self.filters = dict(kept)
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead.failed or ahead.key != (self.text, kept):
            self.refresh()
            return
        arrived, failed = self._begin_refresh()
        if ahead.rows is not None:
            arrived(ahead.rows)
        else:
            ahead.waiting = (arrived, failed)

    def read_ahead(self, text: str = "", **filters: Any) -> None:
        """Start reading the first page of a query the person is still typing.

        The search waits for a pause in the typing before it shows anything; reading during
        that pause means the rows are in when it ends, so they paint at once. Only the latest
        read ahead is kept: one superseded before the store thread reaches it is skipped there.
        """
        if not self.asynchronous:
            return
        key = self._key(text, filters)
        if self._ahead is not None and self._ahead.key == key:
            return
        self._forget_ahead()
        ahead = self._ahead = _Ahead(key)
        words, kept = key

        def read(ws: Any) -> list[dict[str, Any]] | None:
            if ahead.dropped:  # the person typed on (or saved) before this started
                return None
            return participants.list_participants(
                ws, words, offset=0, limit=self.first_page_size, **dict(kept)
            )

        def arrived(rows: list[dict[str, Any]] | None) -> None:
            if rows is None:
                return
            ahead.rows = rows
            if ahead.waiting is not None:
                ahead.waiting[0](rows)

        def failed(exc: BaseException) -> None:
            ahead.failed = True
            if ahead.waiting is not None:
                ahead.waiting[1](exc)

        self.ctx.read(read, on_done=arrived, on_error=failed)

    def _forget_ahead(self, *_args: Any) -> None:
        if self._ahead is not None:
            self._ahead.dropped = True
            self._ahead = None

    def refresh(self) -> None:
        self._forget_ahead()  # a refresh reads the store as it is now
        super().refresh()

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
