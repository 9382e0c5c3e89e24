"""Which models a comparison runs: a checkable list grouped by where each model comes from.

The list (catalog, embedded local models, Ollama models found by a 0.3 s probe) and
each model's key status are worked out in a task. The picker shows whether a key is
available and where it comes from, never the key. Any litellm model string can be
added as an ad-hoc line. Before a run, the compare view fills in per-model estimates.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.figures import fmt_cost, local_mode_label, plural

GROUPS = (("catalog", "Catalog"), ("local", "Local (embedded)"), ("ollama", "Detected (Ollama)"), ("ad-hoc", "Ad hoc"))
NAME_ROLE = Qt.ItemDataRole.UserRole
COL_MODEL, COL_KEY, COL_INPUT, COL_COST = range(4)
_MISSING = QColor("#e53935")


def _describe_models(settings, extra_names: list[str], detect_ollama: bool = True) -> list[tuple]:
    """(ModelConfig, key status) for every listed model plus ``extra_names`` (runs in a task)."""
    from promptbench.core.settings.config import list_all_models, resolve_model
    from promptbench.core.settings.secrets import key_status

    models = list_all_models(settings, detect_ollama=detect_ollama)
    known = {m.name for m in models}
    for name in extra_names:
        if name not in known:
            try:
                models.append(resolve_model(settings, name))
                known.add(name)
            except Exception:
                continue
    return [(cfg, key_status(cfg)) for cfg in models]


def key_text(status: dict) -> tuple[str, bool]:
    """(short text, ok) for the Key column; the full detail goes in its tooltip. "missing"
    (red) only when a key is configured (or the provider's default variable is expected)
    and absent: such a run is not sent. Without any key configured (a gateway, a local
    server) the request goes out without one."""
    if not status.get("required") and status.get("source") is None:
        return "–", True  # nothing to set (a local model, a gateway): the tooltip says so
    if status.get("source") is None:
        return "none set", True
    if status.get("available"):
        return "✓ set", True
    return "missing", False


class ModelPicker(QWidget):
    selection_changed = Signal()
    models_loaded = Signal()

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._checked: set[str] | None = None  # None until the first load picks the defaults
        self._loaded = False

        title = QLabel("Models")
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("List the models again (catalog, local, Ollama) and re-check keys")
        self.reload_button.clicked.connect(self.load)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.reload_button)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Key", "Input", "Max cost"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_MODEL, QHeaderView.ResizeMode.Stretch)
        for col in (COL_KEY, COL_INPUT, COL_COST):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setToolTip(COL_INPUT, "Estimated input tokens of the rendered prompt")
        self.tree.headerItem().setToolTip(COL_COST, "The most this run can cost: input + max output tokens")
        self.tree.itemChanged.connect(self._on_item_changed)
        self._groups: dict[str, QTreeWidgetItem] = {}
        for source, label in GROUPS:
            group = QTreeWidgetItem([label])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setFont(COL_MODEL, bold)
            self.tree.addTopLevelItem(group)
            group.setExpanded(True)
            group.setHidden(True)
            self._groups[source] = group

        self.ad_hoc = QLineEdit()
        self.ad_hoc.setPlaceholderText("Any litellm model, e.g. anthropic/claude-3-5-haiku-latest")
        self.ad_hoc.setClearButtonEnabled(True)
        self.ad_hoc.returnPressed.connect(self._on_add_clicked)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._on_add_clicked)
        ad_hoc_row = QHBoxLayout()
        ad_hoc_row.addWidget(self.ad_hoc, 1)
        ad_hoc_row.addWidget(self.add_button)

        self.local_mode_box = QComboBox()
        for mode in ("sequential", "parallel"):
            self.local_mode_box.addItem(local_mode_label(mode), mode)
        self.local_mode_box.setToolTip("How embedded local models share the CPU: one at a time keeps their timings "
                                       "comparable; in parallel finishes sooner")
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Local models run"))
        mode_row.addWidget(self.local_mode_box, 1)

        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.status_label = QLabel("Listing models…")
        self.status_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(ad_hoc_row)
        layout.addLayout(mode_row)
        layout.addWidget(self.estimate_label)
        layout.addWidget(self.status_label)
        services.settings_changed.connect(self._on_settings_changed)

    def wanted_width(self) -> int:
        """The width at which every listed name shows whole (the other columns at their size)."""
        header = self.tree.header()
        metrics = self.tree.fontMetrics()
        names = [metrics.horizontalAdvance(item.text(COL_MODEL)) for item in self._items()]
        check = self.tree.style().pixelMetric(self.tree.style().PixelMetric.PM_IndicatorWidth) + 12
        model = max(names, default=0) + check + self.tree.indentation() + 12
        others = sum(header.sectionSize(col) for col in (COL_KEY, COL_INPUT, COL_COST))
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        return model + others + scrollbar + 2 * self.tree.frameWidth()

    # -- loading -----------------------------------------------------------------------
    def load(self) -> None:
        services = self.services
        extra = sorted(self._checked or set()) + [self._item_name(i) for i in self._items("ad-hoc")]

        def work():
            settings = services.settings()
            return settings, _describe_models(settings, extra + list(settings.default_models))
        self.status_label.setText("Listing models…")
        self.status_label.show()
        services.tasks.run(work, on_done=self._on_models_listed, on_error=self._on_models_failed,
                           key=f"compare.models:{id(self)}")

    def _on_settings_changed(self) -> None:
        self.load()

    def _on_models_failed(self, exc: Exception) -> None:
        self.status_label.setText(f"Could not list the models: {exc}")
        self.status_label.show()

    def _on_models_listed(self, result) -> None:
        settings, rows = result
        if self._checked is None:
            self._checked = set(settings.default_models)
            self.set_local_mode(settings.local_mode)
        self.tree.blockSignals(True)
        for group in self._groups.values():
            group.takeChildren()
        for cfg, status in rows:
            self._add_item(cfg, status)
        self.tree.blockSignals(False)
        self._loaded = True
        self.status_label.hide()
        self.models_loaded.emit()
        self.selection_changed.emit()

    def _add_item(self, cfg, status: dict) -> QTreeWidgetItem:
        source = cfg.source if cfg.source in self._groups else "ad-hoc"
        group = self._groups[source]
        item = QTreeWidgetItem([cfg.name, "", "", ""])
        item.setData(COL_MODEL, NAME_ROLE, cfg.name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
        item.setCheckState(COL_MODEL, Qt.CheckState.Checked if cfg.name in (self._checked or ()) else Qt.CheckState.Unchecked)
        tip = cfg.model if cfg.model == cfg.name else f"{cfg.name}: {cfg.model}"
        item.setToolTip(COL_MODEL, f"{tip}\nprovider: {cfg.provider}" + (f"\n{cfg.api_base}" if cfg.api_base else ""))
        text, ok = key_text(status)
        item.setText(COL_KEY, text)
        item.setToolTip(COL_KEY, status.get("detail") or ("No key needed" if text == "–" else ""))
        if not ok:
            item.setForeground(COL_KEY, QBrush(_MISSING))
        group.addChild(item)
        group.setHidden(False)
        return item

    # -- selection ---------------------------------------------------------------------
    def _items(self, source: str | None = None) -> list[QTreeWidgetItem]:
        groups = [self._groups[source]] if source else [self._groups[s] for s, _ in GROUPS]
        return [g.child(i) for g in groups for i in range(g.childCount())]

    @staticmethod
    def _item_name(item: QTreeWidgetItem) -> str:
        return item.data(COL_MODEL, NAME_ROLE)

    def is_loaded(self) -> bool:
        return self._loaded

    def available_names(self) -> list[str]:
        return [self._item_name(i) for i in self._items()]

    def selected_names(self) -> list[str]:
        if not self._loaded:
            return sorted(self._checked or ())
        return [self._item_name(i) for i in self._items() if i.checkState(COL_MODEL) == Qt.CheckState.Checked]

    def set_selected(self, names) -> None:
        wanted = set(names)
        self._checked = set(wanted)
        self.tree.blockSignals(True)
        for item in self._items():
            item.setCheckState(COL_MODEL, Qt.CheckState.Checked if self._item_name(item) in wanted else Qt.CheckState.Unchecked)
        self.tree.blockSignals(False)
        self.selection_changed.emit()

    def local_mode(self) -> str:
        return self.local_mode_box.currentData()

    def set_local_mode(self, mode: str) -> None:
        index = self.local_mode_box.findData(mode)
        if index >= 0:
            self.local_mode_box.setCurrentIndex(index)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != COL_MODEL or item.parent() is None:
            return
        name = self._item_name(item)
        if item.checkState(COL_MODEL) == Qt.CheckState.Checked:
            self._checked = (self._checked or set()) | {name}
        else:
            (self._checked or set()).discard(name)
        self.selection_changed.emit()

    def _on_add_clicked(self) -> None:
        name = self.ad_hoc.text().strip()
        if not name:
            return
        self.ad_hoc.clear()
        for item in self._items():
            if self._item_name(item) == name:
                item.setCheckState(COL_MODEL, Qt.CheckState.Checked)
                return
        self._checked = (self._checked or set()) | {name}
        services = self.services

        def work():
            from promptbench.core.settings.config import resolve_model
            from promptbench.core.settings.secrets import key_status

            settings = services.settings()
            cfg = resolve_model(settings, name)
            return cfg, key_status(cfg)
        services.tasks.run(work, on_done=self._on_ad_hoc_resolved, on_error=self._on_models_failed)

    def _on_ad_hoc_resolved(self, result) -> None:
        cfg, status = result
        if cfg.name in self.available_names():
            return
        self.tree.blockSignals(True)
        self._add_item(cfg, status)
        self.tree.blockSignals(False)
        self.selection_changed.emit()

    # -- estimates ---------------------------------------------------------------------
    def show_estimates(self, rows: list[dict] | None, note: str = "", for_what: str = "") -> None:
        """Per-model input tokens and max cost (``core.compare.estimate`` rows) for *for_what*
        (what the run would run); None clears."""
        by_name = {r["model"]: r for r in rows or []}
        for item in self._items():
            row = by_name.get(self._item_name(item))
            item.setText(COL_INPUT, (f"{row['input_tokens']}" if row.get("input_tokens_exact") else f"~{row['input_tokens']}")
                         if row else "")
            item.setText(COL_COST, fmt_cost(row["max_cost_usd"]) if row else "")
            item.setToolTip(COL_COST, (row.get("cost_note") or "") if row else "")
        if rows:
            known = [r["max_cost_usd"] for r in rows if r["max_cost_usd"] is not None]
            unknown = len(rows) - len(known)
            total = (("free" if sum(known) == 0 else f"at most {fmt_cost(sum(known))}") if known
                     else "price unknown")
            extra = f" (+{unknown} with unknown price)" if unknown and known else ""
            max_out = rows[0]["max_output_tokens"]
            what = f" {for_what}:" if for_what else ":"
            self.estimate_label.setText(f"Before running{what} {total}{extra} for {plural(len(rows), 'model')}, "
                                        f"up to {max_out} output tokens each.")
        else:
            self.estimate_label.setText(note)
        self.estimate_label.setVisible(bool(rows) or bool(note))
