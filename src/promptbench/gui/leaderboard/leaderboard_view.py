"""LEADERBOARD: ratings with intervals from the stored votes — table, chart, win rates.

``refresh()`` reads and fits in a task (``leaderboard_data.load_board``: VoteStore
battles -> ``ranking.fit`` with 200 bootstrap rounds, seed 0 — the same numbers as
``promptbench leaderboard``). Prompt, session / import and date filters refit; the model
filter only hides rows. A recorded vote triggers a refresh (``_on_vote_recorded``).

Versions read as short sha + commit subject + labels (whole message on hover); the footer
speaks plain words, with the statistics in its tooltip. Fits a 1024 px window: the name
columns stretch and elide (whole text in their tooltips), the figures size to their
contents, and the filters take two rows.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableView, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.votes import VoteStore
from promptbench.core.figures import DASH
from promptbench.gui.leaderboard.leaderboard_data import (ALL_PROMPTS, BoardQuery, BoardResult, contestant_label, elide,
                                                   footer_texts, load_board, short_label, version_label,
                                                   version_tooltip, visible_ratings)
from promptbench.gui.leaderboard.leaderboard_models import ElideDelegate, RatingsModel, SortProxy, WinMatrixModel, fmt_rating
from promptbench.gui.leaderboard.rating_chart import RatingChart

REFRESH_DELAY_MS = 300


NAME_COLUMNS = (1, 2, 3)   # prompt, version, model: share the width, elided; the figures fit their contents


class LeaderboardView(QWidget):
    board_refreshed = Signal()

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.result: BoardResult | None = None
        self.board = None

        self.prompt_box = self._combo("All prompts", "Only votes on this prompt (versions × models)")
        self.tag_box = self._combo("All sessions and imports", "Only votes of this ranking session or import")
        self.model_box = self._combo("All models", "Show only this model's rows")
        self.group_box = QComboBox(toolTip="Rate each prompt version on each model, or each model over all prompts")
        self.group_box.addItem("Per version × model", False)
        self.group_box.addItem("Per model (all prompts)", True)
        self.since_check, self.since_edit = self._date("From", -30)
        self.until_check, self.until_edit = self._date("To", 0)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.state_label = QLabel()
        self.state_label.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        filters = QHBoxLayout()
        filters.setSpacing(6)
        for widget in (self.prompt_box, self.tag_box, self.model_box, self.group_box):
            filters.addWidget(widget, 1)
        filters.addWidget(self.refresh_button)
        dates = QHBoxLayout()
        dates.setSpacing(6)
        for widget in (self.since_check, self.since_edit, self.until_check, self.until_edit):
            dates.addWidget(widget)
        dates.addStretch(1)
        dates.addWidget(self.state_label)

        self.model = RatingsModel(self)
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
        self._setup_table(self.table)
        self._middle = ElideDelegate(Qt.TextElideMode.ElideMiddle, self)     # paths and model ids
        for column in NAME_COLUMNS:
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            if column != 2:                                                    # a version line keeps its start
                self.table.setItemDelegateForColumn(column, self._middle)
        self.chart = RatingChart()
        ratings = QSplitter(Qt.Orientation.Vertical)
        ratings.addWidget(self.table)
        ratings.addWidget(self.chart)
        ratings.setSizes([300, 300])
        ratings.setChildrenCollapsible(False)

        self.matrix_model = WinMatrixModel(self.palette(), self)
        self.matrix = QTableView()
        self.matrix.setModel(self.matrix_model)
        self._setup_table(self.matrix)
        self.matrix.verticalHeader().show()
        self.matrix.horizontalHeader().setMinimumSectionSize(84)
        matrix_page = QWidget()
        matrix_layout = QVBoxLayout(matrix_page)
        matrix_layout.setContentsMargins(0, 4, 0, 0)
        matrix_note = QLabel("How often the row beat the column (ties count half), with the number of votes."
                             " Rows and columns in rating order; column n is row n.")
        matrix_note.setWordWrap(True)
        matrix_layout.addWidget(matrix_note)
        matrix_layout.addWidget(self.matrix, 1)
        self.pivot = QTableWidget()
        self._setup_table(self.pivot)
        self.pivot.verticalHeader().show()
        self.pivot.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.pivot.setToolTip("Rating [95% interval] of each prompt version on each model")

        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(ratings, "Ratings")
        self.tabs.addTab(matrix_page, "Win rates")
        self.tabs.addTab(self.pivot, "Versions × models")
        self.footer = QLabel()
        self.footer.setWordWrap(True)
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(filters)
        layout.addLayout(dates)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.footer)

        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        for box in (self.prompt_box, self.tag_box, self.group_box):
            box.currentIndexChanged.connect(self._refresh_timer.start)
        self.model_box.currentIndexChanged.connect(self._show)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._refresh_timer.start)
            edit.dateChanged.connect(self._refresh_timer.start)
        self.refresh()

    def _combo(self, everything: str, tip: str) -> QComboBox:
        box = QComboBox(toolTip=tip)
        box.addItem(everything, None)
        # long prompt paths and session names must not widen the window: elide, whole on hover
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(14)
        box.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        box.currentIndexChanged.connect(lambda _=0, b=box, t=tip: b.setToolTip(f"{b.currentText()}\n{t}"))
        return box

    def _date(self, label: str, days: int) -> tuple[QCheckBox, QDateEdit]:
        edit = QDateEdit(QDate.currentDate().addDays(days), calendarPopup=True, displayFormat="yyyy-MM-dd")
        edit.setEnabled(False)
        return QCheckBox(label), edit

    @staticmethod
    def _setup_table(table) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    # -- loading ---------------------------------------------------------------------------
    def query(self) -> BoardQuery:
        def day(edit: QDateEdit, extra: int) -> datetime:
            return datetime.combine(edit.date().toPython() + timedelta(days=extra), time.min).astimezone()

        return BoardQuery(prompt=self.prompt_box.currentData(), tag=self.tag_box.currentData(),
                          since=day(self.since_edit, 0) if self.since_check.isChecked() else None,
                          until=day(self.until_edit, 1) if self.until_check.isChecked() else None,
                          by_model=bool(self.group_box.currentData()))

    def refresh(self) -> None:
        self._refresh_timer.stop()
        query, runs = self.query(), self.services.runs
        self.state_label.setText("fitting…")
        store = getattr(self.services, "store", None)
        self.services.tasks.run(lambda: load_board(VoteStore(runs()), query, store), on_done=self._on_board_loaded,
                                on_error=self._on_board_failed, key=f"leaderboard-{id(self)}")

    def _on_vote_recorded(self, vote_id: str = "") -> None:
        self._refresh_timer.start()   # several votes in a row refit once

    def _on_board_failed(self, exc: Exception) -> None:
        self.state_label.setText("")
        self.footer.setText(f"Could not read the votes: {exc}")

    def _on_board_loaded(self, result: BoardResult) -> None:
        self.result, self.board = result, result.board
        self.state_label.setText("")
        self._fill(self.prompt_box, [(p, p) for p in result.prompts])
        self._fill(self.tag_box, result.tags)
        self._fill(self.model_box, [(m, m) for m in result.models])
        self._show()
        self.board_refreshed.emit()

    @staticmethod
    def _fill(box: QComboBox, choices: list[tuple[str, str]]) -> None:
        current = box.currentData()
        wanted = [(None, box.itemText(0))] + list(choices)
        if current is not None and current not in [v for v, _ in choices]:
            wanted.append((current, current))      # keep a chosen value that now has no votes
        if [(box.itemData(i), box.itemText(i)) for i in range(box.count())] == wanted:
            return
        box.blockSignals(True)
        box.clear()
        for value, label in wanted:
            box.addItem(label, value)
        box.setCurrentIndex(max(0, box.findData(current)) if current is not None else 0)
        box.blockSignals(False)

    # -- drawing ---------------------------------------------------------------------------
    def _labels(self, rows, label=contestant_label) -> list[str]:
        several = len({r.contestant.prompt for r in rows}) > 1
        versions = self.result.versions if self.result else {}
        return [label(r.contestant, with_prompt=several, versions=versions) for r in rows]

    def _show(self) -> None:
        result = self.result
        board = result.board if result else None
        rows = visible_ratings(board, self.model_box.currentData())
        self.model.set_rows(rows, result.rubric if result else {}, result.criteria() if result else [],
                            result.versions if result else {})
        self.table.sortByColumn(self.proxy.sortColumn() if self.proxy.sortColumn() >= 0 else 4,
                                self.proxy.sortOrder())
        labels = self._labels(rows)
        self.chart.set_ratings(rows, labels, self._labels(rows, short_label))
        self.matrix_model.set_matrix([r.contestant.key() for r in rows], labels, board.win_matrix if board else {})
        self._fill_pivot(rows)
        text, tip = footer_texts(board, len(rows))
        self.footer.setText(text)
        self.footer.setToolTip(tip)

    def _fill_pivot(self, rows) -> None:
        versions = sorted({(r.contestant.prompt, r.contestant.version) for r in rows})
        models = sorted({r.contestant.model for r in rows})
        cells = {(r.contestant.prompt, r.contestant.version, r.contestant.model): r for r in rows}
        several = len({p for p, _ in versions}) > 1
        self.pivot.clear()
        self.pivot.setRowCount(len(versions))
        self.pivot.setColumnCount(len(models))
        self.pivot.setHorizontalHeaderLabels(models)
        known = self.result.versions if self.result else {}
        for i, (prompt, version) in enumerate(versions):
            c = Contestant(prompt, version, "")
            name = ALL_PROMPTS if prompt == ALL_PROMPTS else version_label(c, known)
            header = QTableWidgetItem(elide(f"{prompt} @ {name}" if several and prompt != ALL_PROMPTS else name))
            header.setToolTip(f"{prompt}\n{version_tooltip(c, known)}")
            self.pivot.setVerticalHeaderItem(i, header)
        for i, (prompt, version) in enumerate(versions):
            for j, model in enumerate(models):
                r = cells.get((prompt, version, model))
                text = DASH if r is None else (f"{fmt_rating(r.rating)}  "
                                               f"[{fmt_rating(r.ci_low)}, {fmt_rating(r.ci_high)}]")
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if r is not None:
                    item.setToolTip(f"rank {r.rank} · {r.votes} votes")
                self.pivot.setItem(i, j, item)
