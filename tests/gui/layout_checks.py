"""What "nothing is clipped" means, checked on real widgets: every visible widget lies inside
its parent (the contents of scroll areas may extend past their viewport: that is what
scrolling is for), and no button is narrower than its text needs."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QComboBox, QMenu, QScrollBar, QSplitterHandle,
                               QTabBar, QToolButton, QWidget)

SLACK = 1  # px: rounding of layouts


def _in_scrolled_content(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea) or (parent.parentWidget() is not None and isinstance(
                parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport()):
            return True
        parent = parent.parentWidget()
    return False


def clipped_widgets(top: QWidget) -> list[str]:
    """Descriptions of the visible widgets under *top* that stick out of their parent or whose
    text does not fit."""
    problems: list[str] = []
    for widget in top.findChildren(QWidget):
        if not widget.isVisibleTo(top) or isinstance(widget, (QMenu, QScrollBar, QSplitterHandle)) or widget.isWindow():
            continue
        parent = widget.parentWidget()
        if parent is None or _in_scrolled_content(widget, top):
            continue
        if isinstance(parent, QTabBar) or isinstance(parent, QComboBox):
            continue  # a tab bar's scroll arrows and a combo's own parts
        inside = QRect(-SLACK, -SLACK, parent.width() + 2 * SLACK, parent.height() + 2 * SLACK)
        if widget.width() > 0 and widget.height() > 0 and not inside.contains(widget.geometry()):
            problems.append(f"{_describe(widget)} at {_rect(widget.geometry())} outside its parent {_describe(parent)} "
                            f"({parent.width()}x{parent.height()})")
        if isinstance(widget, QAbstractButton) and widget.text() and not isinstance(widget.parentWidget(), QTabBar):
            need = widget.sizeHint().width()
            if isinstance(widget, QToolButton) and widget.autoRaise():
                need -= 6  # auto-raise tool buttons draw no frame
            if widget.width() + SLACK < need:
                problems.append(f"{_describe(widget)} is {widget.width()} px wide, its text needs {need}")
    return problems


def _describe(widget: QWidget) -> str:
    text = getattr(widget, "text", None)
    label = text() if callable(text) else ""
    name = widget.objectName()
    return f"{type(widget).__name__}" + (f"#{name}" if name else "") + (f" {label!r:.40}" if label else "")


def _rect(rect: QRect) -> str:
    return f"({rect.x()},{rect.y()} {rect.width()}x{rect.height()})"
