"""A session's register while it is being filled in: who is on it, who came, how.

Rows live in memory (a group is tens of people, not thousands). For a group the rows are its
roster, everyone enrolled on the session's date: a ticked row is saved with how they attended
and an unticked one is saved as absent, so attendance rates are real. Someone added by hand who
is not enrolled (a walk-in) is saved only while ticked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ui.models.paging import RecordIdRole, SortRole
from vrp_desktop import codes

__all__ = ["RecordIdRole", "RegisterModel", "RegisterRow", "SortRole"]

COL_PRESENT = 0
COL_AGE = 1
COL_REFERENCE = 2
COL_STATUS = 3
COL_NOTE = 4

#: statuses a ticked row can have; "absent" unticks the row
PRESENT_CHOICES = ("attended", "late", "left_early")
Index = QModelIndex | QPersistentModelIndex


@dataclass
class RegisterRow:
    participant_id: str
    reference: str
    name: str
    ticked: bool = False
    status: str = "attended"
    #: enrolled in the session's intervention on its date; None when not yet known
    enrolled: bool | None = None
    age: int | None = None
    #: "roster" (enrolled on the date), "walk_in" (added by hand) or "saved" (on the saved register)
    source: str = "walk_in"

    @property
    def kept_when_unticked(self) -> bool:
        """Unticked rows of the roster (and of a saved register) are saved as absences."""
        return self.source in ("roster", "saved") or bool(self.enrolled)


class RegisterModel(QAbstractTableModel):
    HEADERS = ("Name", "Age", "Reference", "How", "Check")
    #: emitted whenever ticks or statuses change, so the form can re-validate and autosave
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[RegisterRow] = []
        self.modelReset.connect(self.changed)
        self.dataChanged.connect(self.changed)
        self.rowsInserted.connect(self.changed)
        self.rowsRemoved.connect(self.changed)

    # -- API -----------------------------------------------------------------------------
    def rows(self) -> list[RegisterRow]:
        return list(self._rows)

    def set_rows(self, rows: list[RegisterRow]) -> None:
        self.beginResetModel()
        self._rows = []
        seen: set[str] = set()
        for row in rows:
            if row.participant_id not in seen:
                seen.add(row.participant_id)
                self._rows.append(row)
        self.endResetModel()

    def add(self, row: RegisterRow) -> int:
        """Add (or tick, if already listed) a person; returns their row number."""
        existing = self.row_of(row.participant_id)
        if existing >= 0:
            self.set_ticked(existing, row.ticked or self._rows[existing].ticked)
            return existing
        at = len(self._rows)
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.append(row)
        self.endInsertRows()
        return at

    def row_of(self, participant_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.participant_id == participant_id), -1)

    def set_ticked(self, row: int, ticked: bool) -> None:
        r = self._rows[row]
        if r.ticked == ticked:
            return
        r.ticked = ticked
        self._row_changed(row)

    def toggle(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.set_ticked(row, not self._rows[row].ticked)

    def set_status(self, row: int, status: str) -> None:
        """Set how someone attended; "absent" unticks, any other status ticks."""
        r = self._rows[row]
        if status == "absent":
            r.ticked = False
        else:
            if status not in codes.ATTENDANCE_STATUSES:
                raise ValueError(status)
            r.ticked = True
            r.status = status
        self._row_changed(row)

    def set_enrolled(self, enrolled: dict[str, bool]) -> None:
        for i, r in enumerate(self._rows):
            if r.participant_id in enrolled and r.enrolled != enrolled[r.participant_id]:
                r.enrolled = enrolled[r.participant_id]
                self._row_changed(i)

    def attendees(self) -> list[dict[str, str]]:
        """The register to save: ticked people with how they attended, and the roster's
        unticked people as absent."""
        return [
            {"participant_id": r.participant_id, "status": r.status if r.ticked else "absent"}
            for r in self._rows
            if r.ticked or r.kept_when_unticked
        ]

    def ticked_count(self) -> int:
        return sum(1 for r in self._rows if r.ticked)

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

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

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == COL_PRESENT:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == COL_STATUS:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def _how(self, r: RegisterRow) -> str:
        if r.ticked:
            return codes.ATTENDANCE_STATUSES[r.status]
        return "Absent" if r.kept_when_unticked else "Not saved"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        r = self._rows[index.row()]
        column = index.column()
        if role == RecordIdRole:
            return r.participant_id
        if role == Qt.ItemDataRole.CheckStateRole and column == COL_PRESENT:
            return Qt.CheckState.Checked if r.ticked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.EditRole and column == COL_STATUS:
            return r.status if r.ticked else "absent"
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            if column == COL_PRESENT:
                return r.name
            if column == COL_AGE:
                return "" if r.age is None else str(r.age)
            if column == COL_REFERENCE:
                return r.reference
            if column == COL_STATUS:
                return self._how(r)
            if column == COL_NOTE:
                return "Not enrolled" if r.enrolled is False else ""
        if role == Qt.ItemDataRole.AccessibleTextRole and column == COL_PRESENT:
            age = f", {r.age}" if r.age is not None else ""
            return f"{r.name}{age}, {r.reference}, {self._how(r)}"
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_NOTE and r.enrolled is False:
            return (
                "Not enrolled in this intervention on the session date: enrol them (Enrol…), "
                "or the session stays in 'needs attention'."
            )
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.row() >= len(self._rows):
            return False
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == COL_PRESENT:
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
            self.set_ticked(index.row(), checked)
            return True
        if role == Qt.ItemDataRole.EditRole and index.column() == COL_STATUS:
            if value not in codes.ATTENDANCE_STATUSES:
                return False
            self.set_status(index.row(), value)
            return True
        return False
