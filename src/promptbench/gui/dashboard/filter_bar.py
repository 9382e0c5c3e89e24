"""The dashboard's filters: kinds of runs, prompt, version, model, provider and a date range (UTC days)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QWidget

from promptbench.core.dashboard.series import version_label
from promptbench.core.dashboard.sql import Filters
from promptbench.gui.widgets.filters import day_filter, filter_combo
from promptbench.gui.widgets.flow_layout import FlowLayout, together
from promptbench.gui.widgets.kind_box import KindBox


class FilterBar(QWidget):
    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._versions: dict[str, dict[str, str]] = {}  # prompt -> {version: first run}
        self.kind_box = KindBox()
        self.prompt_box = filter_combo("All prompts", "Only runs of this prompt", 9)
        self.version_box = filter_combo("All versions", "Only runs of this version of the prompt (choose a prompt first)", 9)
        self.version_box.setEnabled(False)
        self.model_box = filter_combo("All models", "Only runs of this model", 9)
        self.provider_box = filter_combo("All providers", "Only runs through this provider", 9)
        self.since_check, self.since_edit = day_filter("From", -30, "Only runs started on or after this day (UTC)")
        self.until_check, self.until_edit = day_filter("To", 0, "Only runs started on or before this day (UTC)")
        self.flow = FlowLayout(self, 6)  # a narrow window gets two rows, not a wider window
        for widget in (self.kind_box, self.prompt_box, self.version_box, self.model_box, self.provider_box,
                       together(self.since_check, self.since_edit), together(self.until_check, self.until_edit)):  # fmt: skip
            self.flow.addWidget(widget)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.prompt_box.currentIndexChanged.connect(self._on_prompt_changed)
        for box in (self.kind_box, self.version_box, self.model_box, self.provider_box):
            box.currentIndexChanged.connect(self.filters_changed)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.filters_changed)
            edit.dateChanged.connect(self.filters_changed)

    def add_trailing(self, widget: QWidget) -> None:
        """A button that wraps with the filters (Refresh)."""
        self.flow.addWidget(widget)

    def filters(self) -> Filters:
        def day(edit: QDateEdit, extra: int) -> datetime:
            return datetime.combine(edit.date().toPython() + timedelta(days=extra), time.min, tzinfo=timezone.utc)

        return Filters(prompt_path=self.prompt_box.currentData(), prompt_version=self.version_box.currentData(),
                       model_name=self.model_box.currentData(), provider=self.provider_box.currentData(),
                       since=day(self.since_edit, 0) if self.since_check.isChecked() else None,
                       until=day(self.until_edit, 1) if self.until_check.isChecked() else None,
                       kinds=self.kind_box.kinds())  # fmt: skip

    # -- options -------------------------------------------------------------------------
    def add_options(self, versions: dict, models, providers) -> None:
        """Merge newly seen values into the lists (filtering never removes an option)."""
        for prompt, seen in versions.items():
            have = self._versions.setdefault(prompt, {})
            for version, first in seen.items():
                have[version] = min(have.get(version, first), first)
        self._merge(self.prompt_box, [(p, p) for p in sorted(self._versions, key=str) if p is not None])
        self._merge(self.model_box, [(m, m) for m in models if m is not None])
        self._merge(self.provider_box, [(p, p) for p in providers if p is not None])
        self._fill_versions()

    def _merge(self, box: QComboBox, items: list[tuple[str, str]]) -> None:
        known = {box.itemData(i) for i in range(1, box.count())}
        new = [(label, value) for label, value in items if value not in known]
        if not new:
            return
        current = box.currentData()
        everything = sorted([(box.itemText(i), box.itemData(i)) for i in range(1, box.count())] + new, key=str)
        box.blockSignals(True)
        while box.count() > 1:
            box.removeItem(1)
        for label, value in everything:
            box.addItem(label, value)
        box.setCurrentIndex(max(0, box.findData(current)) if current is not None else 0)
        box.blockSignals(False)

    def _fill_versions(self) -> None:
        prompt = self.prompt_box.currentData()
        versions = self._versions.get(prompt, {}) if prompt is not None else {}
        wanted = [(f"{version_label(prompt, v, False)}  ({first[:10]})", v)
                  for v, first in sorted(versions.items(), key=lambda kv: kv[1], reverse=True)]  # fmt: skip
        have = [(self.version_box.itemText(i), self.version_box.itemData(i)) for i in range(1, self.version_box.count())]
        if have != wanted:
            current = self.version_box.currentData()
            self.version_box.blockSignals(True)
            while self.version_box.count() > 1:
                self.version_box.removeItem(1)
            for label, value in wanted:
                self.version_box.addItem(label, value)
            self.version_box.setCurrentIndex(max(0, self.version_box.findData(current)) if current is not None else 0)
            self.version_box.blockSignals(False)
        self.version_box.setEnabled(prompt is not None)

    def _on_prompt_changed(self, _index: int) -> None:
        self.version_box.blockSignals(True)
        self.version_box.setCurrentIndex(0)
        self.version_box.blockSignals(False)
        self._fill_versions()
        self.filters_changed.emit()
