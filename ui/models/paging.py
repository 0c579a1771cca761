"""A table model that reads its rows from the store a page at a time.

Vorta-style: columns are ``COL_*`` constants in each subclass, rows are plain dicts, and a new
query replaces everything inside ``beginResetModel``/``endResetModel``. Rows past the first page
arrive through ``canFetchMore``/``fetchMore`` as the view scrolls, so 100k rows never load at once.
Every read, the first page included, runs on the store thread without blocking the GUI
(``asynchronous``): a new query paints its first page as soon as it is read; only when that page is
full is a count queued, as a job of its own after the page is on screen (and a subclass may cap
it: "more than 1,000" is enough while typing). An answer that arrives after the query changed is
dropped. ``refreshed`` tells the page when a new query's rows are in, ``counted`` when its count
is; ``when_ready`` runs a step (open the first match, select a row) once the rows are in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

SortRole = Qt.ItemDataRole.UserRole
RecordIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2

PAGE_SIZE = 200
# the roles ``data`` answers, as plain ints (comparing to enum members costs more, per cell)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_DECORATION = int(Qt.ItemDataRole.DecorationRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_SORT = int(SortRole.value)
_RECORD_ID = int(RecordIdRole)
_ROW = int(RowRole)
Index = QModelIndex | QPersistentModelIndex


class PagedTableModel(QAbstractTableModel):
    """Subclasses give ``HEADERS``, ``display(row, column)`` and the two store calls."""

    HEADERS: tuple[str, ...] = ()
    #: a new query's first page has arrived (or, synchronous, been read)
    refreshed = Signal()
    #: the query's count has arrived (``total``, ``total_capped``); right after ``refreshed``
    #: when the first page was not full
    counted = Signal()

    def __init__(
        self,
        ctx,
        parent=None,
        *,
        page_size: int = PAGE_SIZE,
        first_page_size: int | None = None,
        asynchronous: bool = True,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        #: a new query's first page: what the view shows, so it paints without waiting for
        #: rows nobody sees yet (the rest follow in ``page_size`` pages as the view scrolls)
        self.first_page_size = first_page_size or page_size
        self.asynchronous = asynchronous
        self._rows: list[dict[str, Any]] = []
        self._total = 0
        self._generation = 0
        self._pending = False
        self._refreshing = False
        self._counting = False
        self._capped = False
        self._exhausted = True
        self._when_ready: list[Callable[[], None]] = []

    # -- what subclasses provide ---------------------------------------------------------
    def _count_call(self) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
        """The service function and arguments (after ``ws``) that count the query's rows."""
        raise NotImplementedError

    def _page_call(
        self, offset: int, limit: int
    ) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
        """The service function and arguments (after ``ws``) that read one page."""
        raise NotImplementedError

    def _count_cap(self) -> int | None:
        """Count at most this many (the count function then returns at most cap + 1)."""
        return None

    def _page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        fn, args, kwargs = self._page_call(offset, limit)
        return fn(self.ctx.ws, *args, **kwargs)

    def display(self, row: dict[str, Any], column: int) -> Any:
        raise NotImplementedError

    def sort_value(self, row: dict[str, Any], column: int) -> Any:
        return self.display(row, column)

    def decoration(self, row: dict[str, Any], column: int) -> Any:
        return None

    def tooltip(self, row: dict[str, Any], column: int) -> Any:
        return None

    # -- store access --------------------------------------------------------------------
    def refresh(self) -> None:
        """Run the current query again from the top (after a save, or a new filter)."""
        page_fn, page_args, page_kwargs = self._page_call(0, self.first_page_size)
        if not self.asynchronous:  # model tests and tools: read here, on this thread
            self._generation += 1
            self._pending = False
            self._show_first(page_fn(self.ctx.ws, *page_args, **page_kwargs))
            if self._counting:
                self._show_count(self._count(self.ctx.ws))
            return
        arrived, failed = self._begin_refresh()
        self.ctx.read(page_fn, *page_args, on_done=arrived, on_error=failed, **page_kwargs)

    def _begin_refresh(
        self,
    ) -> tuple[Callable[[list[dict[str, Any]]], None], Callable[[BaseException], None]]:
        """A new query starts: what to do with its first page (``arrived``) or a failed read."""
        self._generation += 1
        generation = self._generation
        self._pending = False
        self._refreshing = True

        def arrived(rows: list[dict[str, Any]]) -> None:
            if generation != self._generation:
                return
            self._show_first(rows)
            if self._counting:  # queued only now: the page is painted before the count
                self.ctx.read(count_unless_stale, on_done=counted, on_error=not_counted)

        def count_unless_stale(ws: Any) -> int | None:
            # on the store thread: a person still typing has moved on, so skip a stale count
            # (it would only delay the next query's page); an int read is safe across threads
            return None if generation != self._generation else self._count(ws)

        def counted(total: int | None) -> None:
            if generation == self._generation and total is not None:
                self._show_count(total)

        def not_counted(_exc: BaseException) -> None:
            if generation == self._generation:
                self._show_count(len(self._rows))

        def failed(_exc: BaseException) -> None:
            if generation == self._generation:
                self._show_first([])

        return arrived, failed

    def _count(self, ws: Any) -> int:
        fn, args, kwargs = self._count_call()
        cap = self._count_cap()
        if cap is not None:
            kwargs = {**kwargs, "cap": cap}
        return fn(ws, *args, **kwargs)

    def _show_first(self, rows: list[dict[str, Any]]) -> None:
        full = len(rows) >= self.first_page_size
        self.beginResetModel()
        self._rows, self._total = rows, len(rows)
        self._capped = False
        self._exhausted = not full
        self._counting = full
        self.endResetModel()
        self._refreshing = False
        self.refreshed.emit()
        waiting, self._when_ready = self._when_ready, []
        for step in waiting:
            step()
        if not full:
            self.counted.emit()

    def _show_count(self, total: int) -> None:
        cap = self._count_cap()
        self._capped = cap is not None and total > cap
        self._total = max(cap if self._capped else total, len(self._rows))  # type: ignore[type-var]
        self._counting = False
        if not self._capped and len(self._rows) >= self._total:
            self._exhausted = True
        self.counted.emit()

    @property
    def refreshing(self) -> bool:
        """True while a new query's first page is being read."""
        return self._refreshing

    def when_ready(self, step: Callable[[], None]) -> None:
        """Run ``step`` now, or once the query being read has arrived."""
        if self._refreshing:
            self._when_ready.append(step)
        else:
            step()

    @property
    def counting(self) -> bool:
        """True while the new query's count is being taken (its first page is already in)."""
        return self._counting

    @property
    def total(self) -> int:
        """How many rows the query matches (not how many are loaded); while ``counting``, the
        rows loaded so far; when ``total_capped``, the cap (there are more)."""
        return self._total

    @property
    def total_capped(self) -> bool:
        """The count stopped at the cap: the query matches more than ``total``."""
        return self._capped

    def row_at(self, row: int) -> dict[str, Any] | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, record_id: str) -> int:
        """The loaded row holding ``record_id``, or -1."""
        return next((i for i, r in enumerate(self._rows) if r["id"] == record_id), -1)

    # -- Qt ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # called for every cell and role a paint asks about (some 4,000 times a page): plain
        # ints, and no isValid() call (an invalid index has row -1)
        number = index.row()
        if number < 0 or number >= len(self._rows):
            return None
        if role == _DISPLAY:
            return self.display(self._rows[number], index.column())
        if role == _DECORATION:
            return self.decoration(self._rows[number], index.column())
        if role == _SORT:
            return self.sort_value(self._rows[number], index.column())
        if role == _RECORD_ID:
            return self._rows[number]["id"]
        if role == _ROW:
            return self._rows[number]
        if role == _TOOLTIP:
            return self.tooltip(self._rows[number], index.column())
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    @property
    def loading(self) -> bool:
        """True while a page is being read in the background."""
        return self._pending

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._pending:
            return
        start = len(self._rows)
        if not self.asynchronous:
            self._append(start, self._page(start, self.page_size))
            return
        fn, args, kwargs = self._page_call(start, self.page_size)
        generation = self._generation
        self._pending = True

        def arrived(rows: list[dict[str, Any]]) -> None:
            if generation == self._generation:
                self._pending = False
                self._append(start, rows)

        def failed(_exc: BaseException) -> None:
            if generation == self._generation:
                self._pending = False
                self._exhausted = True  # stop asking; a refresh tries again

        self.ctx.runner.submit(fn, self.ctx.ws, *args, on_done=arrived, on_error=failed, **kwargs)

    def _append(self, start: int, more: list[dict[str, Any]]) -> None:
        if start != len(self._rows):
            return
        if len(more) < self.page_size:
            self._exhausted = True  # the last page: the store may have shrunk under us too
        if not more:
            self._total = start
            return
        self.beginInsertRows(QModelIndex(), start, start + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()
        if self._exhausted or len(self._rows) > self._total:
            self._total = len(self._rows) if self._exhausted else max(self._total, len(self._rows))
        if not self._capped and not self._counting and len(self._rows) >= self._total:
            self._exhausted = True
