"""The filter controls the Runs tab and the Dashboard share: an "all" combo box and a day picker."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit


def filter_combo(everything: str, tip: str, min_chars: int) -> QComboBox:
    """A combo box whose first item, ``everything`` (data None), filters nothing."""
    box = QComboBox()
    box.addItem(everything, None)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    box.setMinimumContentsLength(min_chars)
    return box


def day_filter(label: str, days: int, tip: str = "") -> tuple[QCheckBox, QDateEdit]:
    """A check box that turns on a day picker (``days`` from today, disabled until checked)."""
    check = QCheckBox(label)
    edit = QDateEdit(QDate.currentDate().addDays(days))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    if tip:
        check.setToolTip(tip)
        edit.setToolTip(tip)
    edit.setEnabled(False)
    return check, edit
