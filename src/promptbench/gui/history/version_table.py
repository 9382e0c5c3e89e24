"""The list of a prompt's versions: sha, labels as coloured chips, message, kind, author, date.

Plain presentation: ``version_kind`` reads what a commit was (an edit, a rename, a
restore, a rollback, a snapshot of outside edits) from its change letter and message;
``readable_date`` shows a commit time in local time the way people say it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTreeWidget, QTreeWidgetItem, QWidget)

from promptbench.core.store.history import Version
from promptbench.core.store.promptstore import WORKTREE
from promptbench.gui.history.theme import change_color, chip_colors

ROLLBACK_TRAILER = "Promptbench-Rollback-To:"
REV_ROLE = Qt.ItemDataRole.UserRole
LABELS_ROLE = Qt.ItemDataRole.UserRole + 1
COL_VERSION, COL_LABELS, COL_MESSAGE, COL_CHANGE, COL_AUTHOR, COL_DATE = range(6)
HEADERS = ("Version", "Labels", "Message", "Change", "Author", "Date")


def rollback_target(version: Version) -> str | None:
    for line in version.message.splitlines():
        if line.startswith(ROLLBACK_TRAILER):
            return line[len(ROLLBACK_TRAILER):].strip() or None
    return None


def version_kind(version: Version) -> tuple[str, str]:
    """(kind, text for the Change column): created, edited, renamed, deleted, restored, rollback, snapshot."""
    target = rollback_target(version)
    if target:
        return "rollback", f"↺ rollback to {target[:8]}"
    if version.change == "A":
        return "created", "created"
    if version.change == "R":
        return "renamed", "renamed"
    if version.change == "D":
        return "deleted", "deleted"
    if version.subject.startswith("Restore "):
        return "restored", "restored"
    if version.subject.startswith("Snapshot of "):
        return "snapshot", "snapshot of outside edits"
    return "edited", "edited"


def readable_date(timestamp: int, now: datetime | None = None) -> str:
    when = datetime.fromtimestamp(timestamp)
    now = now or datetime.now()
    clock = when.strftime("%H:%M")
    if when.date() == now.date():
        return f"Today {clock}"
    if when.date() == (now - timedelta(days=1)).date():
        return f"Yesterday {clock}"
    day = f"{when.day} {when.strftime('%b')}"
    return f"{day} {clock}" if when.year == now.year else f"{day} {when.year} {clock}"


class LabelChipDelegate(QStyledItemDelegate):
    """Draws a cell's labels as rounded chips: production green, staging amber, others grey."""

    PAD, GAP = 7, 4

    def _font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        font.setPointSizeF(max(font.pointSizeF() * 0.88, 7.0))
        font.setBold(True)
        return font

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        labels = index.data(LABELS_ROLE) or []
        if not labels:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = self._font(option)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        height = metrics.height() + 4
        x = option.rect.left() + self.GAP
        y = option.rect.top() + (option.rect.height() - height) // 2
        for label in labels:
            width = metrics.horizontalAdvance(label) + 2 * self.PAD
            if x + width > option.rect.right() and x > option.rect.left() + self.GAP:
                painter.setPen(option.palette.color(option.palette.ColorRole.Text))
                painter.drawText(QRect(x, y, 20, height), Qt.AlignmentFlag.AlignCenter, "…")
                break
            bg, fg = chip_colors(label, option.palette)
            chip = QRect(x, y, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(chip, height / 2, height / 2)
            painter.setPen(fg)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
            x += width + self.GAP
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        base = super().sizeHint(option, index)
        labels = index.data(LABELS_ROLE) or []
        font = self._font(option)
        metrics = QFontMetrics(font)
        width = sum(metrics.horizontalAdvance(label) + 2 * self.PAD + self.GAP for label in labels) + self.GAP
        return QSize(max(width, 60), max(base.height(), metrics.height() + 10))


class VersionTable(QTreeWidget):
    """Versions newest first, with an optional "Working copy" row on top."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(len(HEADERS))
        self.setHeaderLabels(list(HEADERS))
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setAllColumnsShowFocus(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegateForColumn(COL_LABELS, LabelChipDelegate(self))
        header = self.header()
        header.setStretchLastSection(False)
        for column in range(len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_MESSAGE, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_VERSION, 95), (COL_LABELS, 150), (COL_CHANGE, 160), (COL_AUTHOR, 120), (COL_DATE, 115)):
            header.resizeSection(column, width)
        self._versions: list[Version] = []

    def set_versions(self, versions: list[Version], dirty: bool) -> None:
        self.clear()
        self._versions = list(versions)
        items = []
        if dirty:
            item = QTreeWidgetItem(["Working copy", "", "Uncommitted changes on disk (not saved as a version)", "uncommitted", "", ""])
            item.setData(COL_VERSION, REV_ROLE, WORKTREE)
            font = QFont(item.font(0))
            font.setItalic(True)
            for column in range(len(HEADERS)):
                item.setFont(column, font)
            item.setToolTip(COL_MESSAGE, "The file on disk differs from its last committed version.")
            item.setForeground(COL_CHANGE, change_color("changed", self.palette()))
            items.append(item)
        for version in versions:
            items.append(self._item(version))
        self.addTopLevelItems(items)

    def _item(self, version: Version) -> QTreeWidgetItem:
        kind, change_text = version_kind(version)
        item = QTreeWidgetItem([version.short, "", version.subject, change_text, version.author,
                                readable_date(version.timestamp)])
        item.setData(COL_VERSION, REV_ROLE, version.sha)
        item.setData(COL_LABELS, LABELS_ROLE, _ordered_labels(version.labels))
        item.setFont(COL_VERSION, _mono(item.font(COL_VERSION)))
        item.setToolTip(COL_VERSION, version.sha)
        item.setToolTip(COL_LABELS, ", ".join(version.labels))
        item.setToolTip(COL_MESSAGE, version.message)
        item.setToolTip(COL_AUTHOR, f"{version.author} <{version.email}>")
        item.setToolTip(COL_DATE, version.date)
        item.setToolTip(COL_CHANGE, f"{change_text} — {version.path}" if kind == "renamed" else change_text)
        if kind in ("rollback", "renamed", "restored", "snapshot"):
            item.setForeground(COL_CHANGE, change_color("rollback" if kind == "rollback" else "changed", self.palette()))
        return item

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):  # the full sha, not the short one shown
            revs = [rev for rev in self.selected_revs() if rev != WORKTREE]
            if revs:
                QGuiApplication.clipboard().setText("\n".join(revs))
            return
        super().keyPressEvent(event)

    # -- reading ---------------------------------------------------------------------------
    def versions(self) -> list[Version]:
        return list(self._versions)

    def revs(self) -> list[str]:
        return [self.topLevelItem(i).data(COL_VERSION, REV_ROLE) for i in range(self.topLevelItemCount())]

    def rev_of(self, item: QTreeWidgetItem | None) -> str | None:
        return item.data(COL_VERSION, REV_ROLE) if item is not None else None

    def row_of(self, rev: str) -> int:
        revs = self.revs()
        return revs.index(rev) if rev in revs else -1

    def version(self, rev: str) -> Version | None:
        return next((v for v in self._versions if v.sha == rev), None)

    def selected_revs(self) -> list[str]:
        """Selected revisions, top (newest) first."""
        rows = sorted(self.indexOfTopLevelItem(item) for item in self.selectedItems())
        return [self.topLevelItem(row).data(COL_VERSION, REV_ROLE) for row in rows]

    def select_revs(self, revs: list[str]) -> None:
        rows = [self.row_of(rev) for rev in revs]
        rows = [row for row in rows if row >= 0]
        self.blockSignals(True)
        try:
            self.clearSelection()
            for row in rows:
                self.topLevelItem(row).setSelected(True)
            if rows:
                self.setCurrentItem(self.topLevelItem(rows[0]), 0, self.selectionModel().SelectionFlag.NoUpdate)
        finally:
            self.blockSignals(False)
        self.itemSelectionChanged.emit()


def _ordered_labels(labels) -> list[str]:
    rank = {"production": 0, "staging": 1}
    return sorted(labels, key=lambda name: (rank.get(name, 2), name))


def _mono(font: QFont) -> QFont:
    mono = QFont(font)
    mono.setFamily("monospace")
    mono.setStyleHint(QFont.StyleHint.Monospace)
    return mono
