"""What an eval runs: models, versions, test cases, repeats, judge model, concurrency.

Filled from a :class:`~promptbench.gui.evalview.jobs.Setup` worked out in a task; it
only reports what is checked (``choice()``) and says so when that changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QListWidget, QListWidgetItem, QScrollArea,
                               QSpinBox, QVBoxLayout, QWidget)

from promptbench.gui.evalview.jobs import EvalChoice, Setup

DATA = Qt.ItemDataRole.UserRole
MAX_REPEATS = 50
MAX_CONCURRENCY = 64


def _title(text: str) -> QLabel:
    label = QLabel(text)
    bold = QFont(label.font())
    bold.setBold(True)
    label.setFont(bold)
    return label


def _check_list(rows: int) -> QListWidget:
    widget = QListWidget()
    widget.setUniformItemSizes(True)
    widget.setAlternatingRowColors(True)
    widget.setTextElideMode(Qt.TextElideMode.ElideRight)
    height = widget.fontMetrics().height() + 6
    widget.setMinimumHeight(height * 2 + 6)
    widget.setMaximumHeight(height * rows + 6)
    return widget


def _add(widget: QListWidget, text: str, data, checked: bool, tooltip: str = "") -> None:
    item = QListWidgetItem(text)
    item.setData(DATA, data)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    item.setToolTip(tooltip or text)
    widget.addItem(item)


def _checked(widget: QListWidget) -> list:
    return [widget.item(i).data(DATA) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


class SetupPanel(QScrollArea):
    choice_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._setup: Setup | None = None
        self._models_checked: set[str] | None = None  # kept across prompts once the person chose

        self.models = _check_list(8)
        self.versions = _check_list(6)
        self.all_cases = QCheckBox("All test cases")
        self.all_cases.setChecked(True)
        self.cases = _check_list(6)
        self.cases.setEnabled(False)
        self.repeats = QSpinBox(minimum=1, maximum=MAX_REPEATS, value=1)
        self.repeats.setToolTip("Run every cell this many times, to see how stable the results are")
        self.judge = QComboBox(editable=True)
        self.judge.setMinimumContentsLength(12)
        self.judge.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.judge.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.judge.setToolTip("The model that judges llm and github/… evaluators (overrides their modelId)")
        self.judge.currentTextChanged.connect(self._show_judge_note)
        self.judge_note = QLabel()
        self.judge_note.setWordWrap(True)
        self.judge_note.setStyleSheet("QLabel { color: #e65100; }")
        self.judge_note.hide()
        self.concurrency = QSpinBox(minimum=1, maximum=MAX_CONCURRENCY, value=4)
        self.concurrency.setToolTip("How many cells run (and are judged) at once")
        self.status = QLabel("Pick a prompt in the tree to evaluate it.")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Repeats", self.repeats)
        form.addRow("Judge model", self.judge)
        form.addRow(self.judge_note)
        form.addRow("Concurrency", self.concurrency)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(_title("Models"))
        layout.addWidget(self.models)
        layout.addSpacing(4)
        layout.addWidget(_title("Versions"))
        layout.addWidget(self.versions)
        layout.addSpacing(4)
        layout.addWidget(_title("Test cases"))
        layout.addWidget(self.all_cases)
        layout.addWidget(self.cases)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.setWidget(body)

        for widget in (self.models, self.versions, self.cases):
            widget.itemChanged.connect(self._on_item_changed)
        self.all_cases.toggled.connect(self._on_all_cases_toggled)
        self.repeats.valueChanged.connect(self.choice_changed)
        self.concurrency.valueChanged.connect(self.choice_changed)
        self.judge.currentTextChanged.connect(self.choice_changed)

    # -- filling -----------------------------------------------------------------------
    def populate(self, setup: Setup) -> None:
        """Show what *setup* offers, keeping the person's model choice."""
        previous = self._setup
        if previous is not None:
            self._models_checked = set(_checked(self.models))
        self._setup = setup
        wanted = self._models_checked if self._models_checked is not None else set(setup.default_models)
        blockers = [w.blockSignals(True) for w in (self.models, self.versions, self.cases, self.judge,
                                                     self.all_cases, self.concurrency)]
        try:
            self.models.clear()
            for name in setup.models:
                _add(self.models, name, name, name in wanted)
            same_prompt = previous is not None and previous.rel == setup.rel
            kept_versions = set(_checked(self.versions)) if same_prompt else {None}
            self.versions.clear()
            for rev, text, tip in setup.versions:
                _add(self.versions, text, rev, rev in kept_versions, tip)
            self.cases.clear()
            for i, text in enumerate(setup.test_cases):
                _add(self.cases, text, i, True)
            self.all_cases.setChecked(True)
            self.all_cases.setEnabled(bool(setup.test_cases))
            self.cases.setEnabled(False)
            self._fill_judges(setup)
            if not same_prompt:
                self.concurrency.setValue(setup.concurrency)
        finally:
            for w, was in zip((self.models, self.versions, self.cases, self.judge, self.all_cases, self.concurrency),
                              blockers):
                w.blockSignals(was)
        self.status.setText(setup.problem or "")
        self.status.setVisible(bool(setup.problem))
        self.choice_changed.emit()

    def _fill_judges(self, setup: Setup) -> None:
        current = self.judge.currentText() if self.judge.currentIndex() > 0 else None
        self.judge.clear()
        self.judge.addItem(f"Default: {setup.judge_default}" if setup.judge_default else "Default: per evaluator", None)
        self.judge.setItemData(0, "The judge named in [eval] judge_model, else each evaluator's modelId "
                               "(github/… built-ins: openai/gpt-4o)", Qt.ItemDataRole.ToolTipRole)
        for name in setup.models:
            self.judge.addItem(name, name)
        if current:
            self.judge.setCurrentText(current)
        self.judge.setEnabled(setup.has_judges)
        if not setup.has_judges:
            self.judge.setToolTip("This prompt has no llm or github/… evaluators: nothing needs a judge")
        self._show_judge_note()

    def effective_judge(self) -> str | None:
        """The judge an eval started now would use (None: each evaluator's own modelId)."""
        chosen = self.choice().judge_model if self._setup is not None else None
        return chosen or (self._setup.judge_default if self._setup is not None else None)

    def _show_judge_note(self, *_args) -> None:
        # The start of the name is what tells models apart: an editable combo would show its tail.
        self.judge.lineEdit().setCursorPosition(0)
        from promptbench.core.eval.judges import small_judge_warning

        note = small_judge_warning(self.effective_judge()) if self._setup is not None and self._setup.has_judges else None
        self.judge_note.setText(note or "")
        self.judge_note.setVisible(bool(note))

    # -- reading -----------------------------------------------------------------------
    def is_loaded(self) -> bool:
        return self._setup is not None

    def setup(self) -> Setup | None:
        return self._setup

    def can_run(self) -> bool:
        return self._setup is not None and self._setup.problem is None and bool(_checked(self.models)) \
            and bool(_checked(self.versions)) and (self.all_cases.isChecked() or bool(_checked(self.cases)))

    def choice(self) -> EvalChoice:
        versions = tuple(_checked(self.versions))
        cases = None if self.all_cases.isChecked() or not self.cases.count() else tuple(_checked(self.cases))
        text = self.judge.currentText().strip()
        judge = None if not text or text == self.judge.itemText(0) else text
        return EvalChoice(models=tuple(_checked(self.models)), versions=None if versions == (None,) else versions,
                          test_cases=cases, repeats=self.repeats.value(), judge_model=judge,
                          concurrency=self.concurrency.value())

    def set_models(self, names: list[str]) -> None:
        """Check exactly these models (tests and "run again with")."""
        for i in range(self.models.count()):
            item = self.models.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(DATA) in names else Qt.CheckState.Unchecked)

    def set_running(self, running: bool) -> None:
        self.widget().setEnabled(not running)

    # -- slots -------------------------------------------------------------------------
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if item.listWidget() is self.models:
            self._models_checked = set(_checked(self.models))
        self.choice_changed.emit()

    def _on_all_cases_toggled(self, checked: bool) -> None:
        self.cases.setEnabled(not checked)
        self.choice_changed.emit()
