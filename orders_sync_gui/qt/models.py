"""Table models over pandas frames: values read from one numpy array, sorted and filtered
inside the model (numpy/pandas), never through QSortFilterProxyModel, which calls data()
from Python for every comparison (11 s to sort 60,000 rows, measured here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

Index = QModelIndex | QPersistentModelIndex
TINT_ROLES = (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole)

# Change types and statuses: a colour AND the word, never colour alone. Each tint has a
# light and a dark variant, chosen from the palette; the cell's text colour is set with it,
# so a dark theme's light text never lands on a pastel (or the reverse).
LIGHT, DARK = "light", "dark"
TINTS: dict[str, dict[str, str]] = {
    "green": {LIGHT: "#e3f4e1", DARK: "#1f4a2a"},
    "amber": {LIGHT: "#fff3d6", DARK: "#5a4410"},
    "red": {LIGHT: "#fbe0e0", DARK: "#5c2323"},
    "blue": {LIGHT: "#e6eefb", DARK: "#22395e"},
    "grey": {LIGHT: "#eeeeee", DARK: "#3a3a3a"},
    "lilac": {LIGHT: "#e8e8f0", DARK: "#3b3b55"},
}
TEXT = {LIGHT: "#1a1a1a", DARK: "#f2f2f2"}
TINT_OF = {
    "NEW": "green",
    "CHANGED": "amber",
    "DELETED": "red",
    "ADOPTED": "green",
    "HELD": "amber",
    "PUSHED": "green",
    "FAILED": "red",
    "SENDING": "amber",
    "UNDONE": "lilac",
    "UNDOING": "lilac",
    "STAGED": "blue",
    "PUSHING": "amber",
    "PARTIAL": "amber",
    "ROLLED_BACK": "grey",
}


def scheme() -> str:
    """LIGHT or DARK, from the application's palette (its window colour)."""
    from PySide6.QtGui import QGuiApplication, QPalette

    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


def tint(value: str) -> tuple[QColor, QColor] | None:
    """(background, text) colours of a tinted word in the palette's scheme; None: no tint."""
    name = TINT_OF.get(value)
    return None if name is None else family_tint(name)


def family_tint(name: str) -> tuple[QColor, QColor]:
    """(background, text) of one of TINTS' families ("green", "amber", ...) in the palette's
    scheme: the dialogs tint their own kinds of row with the same light and dark pairs."""
    variant = scheme()
    return QColor(TINTS[name][variant]), QColor(TEXT[variant])


def paint(cell: QTableWidgetItem, family: str) -> None:
    """A table cell tinted with a family's pair: its text colour goes with the background."""
    background, text = family_tint(family)
    cell.setBackground(background)
    cell.setForeground(text)


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    title: str
    numeric: bool = False
    tint: bool = False  # colour the cell by its value (change type, status)
    tooltip: str | None = None  # frame column whose text is this cell's tooltip


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class FrameModel(QAbstractTableModel):
    checks_changed = Signal()

    def __init__(
        self, columns: list[Col], *, check_key: str | None = None, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.columns = columns
        self.check_key = check_key  # a bool column shown as a checkbox in column 0
        self.frame = pd.DataFrame(columns=[c.key for c in columns])
        self._values = np.empty((0, len(columns)), dtype=object)
        self._tips: dict[int, np.ndarray] = {}
        self._mask: np.ndarray | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._rows = np.arange(0)

    # --- data in ------------------------------------------------------------------------

    def set_frame(self, frame: pd.DataFrame) -> None:
        """Replace the data (a reset: views keep their sort column through `_sort`)."""
        self.beginResetModel()
        self.frame = frame.reset_index(drop=True)
        keys = [c.key for c in self.columns]
        missing = [k for k in keys if k not in self.frame.columns]
        for k in missing:
            self.frame[k] = None
        self._values = self.frame[keys].to_numpy(dtype=object)
        self._tips = {
            i: self.frame[c.tooltip].to_numpy(dtype=object, copy=True)
            for i, c in enumerate(self.columns)
            if c.tooltip and c.tooltip in self.frame.columns
        }
        self._mask = None
        self._arrange()
        self.endResetModel()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show only the rows where mask is True (a pandas/numpy filter, computed once)."""
        self.beginResetModel()
        self._mask = mask
        self._arrange()
        self.endResetModel()

    def update_rows(self, key: str, updates: pd.DataFrame) -> int:
        """Write new values into the rows whose `key` column matches `updates[key]`, in place:
        the selection, the scroll position and the sort survive (a reset would lose them).
        Returns how many rows changed; only those are repainted."""
        if not len(updates) or not len(self.frame) or key not in self.frame.columns:
            return 0
        positions = pd.Index(self.frame[key]).get_indexer(updates[key])
        known = positions >= 0
        positions, updates = positions[known], updates[known]
        changed = np.zeros(len(self.frame), dtype=bool)
        rearrange = False
        keys = [c.key for c in self.columns]
        for name in updates.columns:
            if name == key or name not in self.frame.columns:
                continue
            new = updates[name].to_numpy(dtype=object)
            current = self.frame[name].to_numpy(dtype=object, copy=True)
            old = current[positions]
            differs = ~((old == new) | (pd.isna(old) & pd.isna(new)))
            if not differs.any():
                continue
            rows = positions[differs]
            current[rows] = new[differs]
            self.frame[name] = pd.Series(current).infer_objects()
            if name in keys:
                column = keys.index(name)
                self._values[rows, column] = new[differs]
                rearrange |= self._sort is not None and self._sort[0] == column
            for column, c in enumerate(self.columns):
                if c.tooltip == name and column in self._tips:
                    self._tips[column][rows] = new[differs]
            changed[rows] = True
        if not changed.any():
            return 0
        if rearrange:  # sorted on a changed column: the rows move, the selection with them
            self._relayout()
        else:
            shown = self._view_rows()[changed]
            shown = shown[shown >= 0]
            if len(shown):
                last = len(self.columns) - 1
                self.dataChanged.emit(
                    self.index(int(shown.min()), 0), self.index(int(shown.max()), last)
                )
        return int(changed.sum())

    def _view_rows(self) -> np.ndarray:
        """For each frame row, its row in the view (-1: filtered out)."""
        view_of = np.full(len(self._values), -1)
        view_of[self._rows] = np.arange(len(self._rows))
        return view_of

    def _relayout(self) -> None:
        """Re-sort in place: persistent indexes (the selection, the current row) follow
        their rows to where the new order puts them."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        frame_rows = [int(self._rows[i.row()]) for i in before]
        self._arrange()
        view_of = self._view_rows()
        after = [
            self.index(int(view_of[r]), i.column()) if view_of[r] >= 0 else QModelIndex()
            for i, r in zip(before, frame_rows, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _arrange(self) -> None:
        rows = np.arange(len(self._values))
        if self._mask is not None and len(self._mask) == len(rows):
            rows = rows[self._mask]
        if self._sort is not None:
            col, order = self._sort
            keys = pd.Series(self._values[rows, col])
            if self.columns[col].numeric:
                keys = pd.to_numeric(keys, errors="coerce")
            else:
                keys = keys.map(_text).str.casefold()
            ranked = keys.sort_values(
                kind="stable", na_position="last", ascending=order == Qt.SortOrder.AscendingOrder
            )
            rows = rows[ranked.index.to_numpy()]
        self._rows = rows

    def sample_texts(self, column: int, count: int) -> list[str]:
        """The display texts of a column's first `count` rows in view order."""
        rows = self._rows[:count]
        return [_text(v) for v in self._values[rows, column]] if len(rows) else []

    def frame_row(self, view_row: int) -> int:
        return int(self._rows[view_row])

    def record(self, view_row: int) -> pd.Series:
        return self.frame.iloc[self.frame_row(view_row)]

    def visible_frame(self) -> pd.DataFrame:
        return self.frame.iloc[self._rows]

    def shown_table(self, columns: Sequence[int]) -> tuple[list[str], list[list[Any]]]:
        """The rows as shown (filtered, sorted) in the given columns: their titles, and the
        values as the cells show them (numbers kept numbers, the checkbox as yes / no)."""
        titles = [self.columns[c].title or ("Sync" if c == 0 else "") for c in columns]
        out: list[list[Any]] = []
        for r in self._rows:
            line: list[Any] = []
            for c in columns:
                value = self._values[r, c]
                if self.check_key and c == 0:
                    line.append("yes" if bool(value) else "no")
                elif self.columns[c].numeric and _text(value):
                    number = pd.to_numeric(value, errors="coerce")
                    line.append(int(number) if float(number).is_integer() else float(number))
                else:
                    line.append(_text(value))
            out.append(line)
        return titles, out

    # --- Qt model API -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].title
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.check_key and index.column() == 0:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = int(self._rows[index.row()]), index.column()
        col = self.columns[c]
        value = self._values[r, c]
        if role == Qt.ItemDataRole.DisplayRole:
            if self.check_key and c == 0:
                return None
            return _text(value)
        if role == Qt.ItemDataRole.CheckStateRole and self.check_key and c == 0:
            return Qt.CheckState.Checked if bool(value) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in TINT_ROLES and col.tint:
            colours = tint(_text(value))
            if colours is None:
                return None
            return QBrush(colours[0 if role == Qt.ItemDataRole.BackgroundRole else 1])
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = self._tips.get(c)
            text = _text(tips[r]) if tips is not None else _text(value)
            return text or None
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not (self.check_key and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole):
            return False
        r = int(self._rows[index.row()])
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self._values[r, 0] = checked
        self.frame.at[r, self.check_key] = checked
        self.dataChanged.emit(index, index, [role])
        self.checks_changed.emit()
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Column -1 is Qt's "no sort" (the view asks for it when sorting is switched on).
        self._sort = (column, order) if 0 <= column < len(self.columns) else None
        self._relayout()


def text_mask(frame: pd.DataFrame, keys: list[str], needle: str) -> np.ndarray | None:
    """Rows whose given columns contain `needle` (case-insensitive); None for no filter."""
    needle = needle.strip().casefold()
    if not needle:
        return None
    mask = np.zeros(len(frame), dtype=bool)
    for key in keys:
        mask |= frame[key].astype(str).str.casefold().str.contains(needle, regex=False).to_numpy()
    return mask


def value_mask(frame: pd.DataFrame, key: str, allowed: Callable[[Any], bool]) -> np.ndarray:
    return frame[key].map(allowed).to_numpy(dtype=bool)
