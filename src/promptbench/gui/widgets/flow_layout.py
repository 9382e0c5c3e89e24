"""A layout that puts its widgets in a row and wraps them onto the next row when the row
is too narrow (filter bars): a narrow window gets two rows, never a clipped field."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout --------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        width = sum(i.sizeHint().width() for i in self._items) + self.spacing() * max(0, len(self._items) - 1)
        height = max((i.sizeHint().height() for i in self._items), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # -- placing ----------------------------------------------------------------------------------
    def _arrange(self, rect: QRect, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, row_height = area.x(), area.y(), 0
        row: list[tuple[QLayoutItem, QSize]] = []
        rows: list[tuple[int, int, list]] = []
        for item in self._items:
            widget = item.widget()
            if widget is not None and not widget.isVisibleTo(widget.parentWidget()):
                continue
            hint = item.sizeHint()
            if row and x + hint.width() > area.right() + 1:
                rows.append((y, row_height, row))
                x, y, row_height, row = area.x(), y + row_height + self.spacing(), 0, []
            row.append((item, hint))
            x += hint.width() + self.spacing()
            row_height = max(row_height, hint.height())
        if row:
            rows.append((y, row_height, row))
        if apply:
            for top, height, items in rows:
                left = area.x()
                for item, hint in items:
                    # Fields centred on the row's line, as in a box layout.
                    offset = (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(left, top + offset), QSize(min(hint.width(), area.width()), hint.height())))
                    left += hint.width() + self.spacing()
        total = (rows[-1][0] + rows[-1][1] - area.y()) if rows else 0
        return total + margins.top() + margins.bottom()


def flow_row(*widgets: QWidget, spacing: int = 6) -> QWidget:
    """A widget holding *widgets* in a FlowLayout, sized to wrap within its width."""
    box = QWidget()
    layout = FlowLayout(box, spacing)
    for widget in widgets:
        layout.addWidget(widget)
    policy = box.sizePolicy()
    policy.setHeightForWidth(True)
    policy.setHorizontalPolicy(QSizePolicy.Policy.Preferred)
    box.setSizePolicy(policy)
    return box


def together(*widgets: QWidget, spacing: int = 4) -> QWidget:
    """Widgets that wrap as one (a check box and the field it enables)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return box
