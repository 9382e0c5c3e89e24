"""The main window: prompt tree on the left; Edit, History, Compare, Eval, Runs, Rank,
Leaderboard and Dashboard tabs.

It wires the widgets together and owns the desktop habits (window state, external-change
watching); its menus are in gui/window/menus.py and moving between prompts (with the
unsaved-edits question) in gui/window/prompts.py. All work on git, SQLite and providers goes through
Services (tasks, engine), never here.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QFileSystemWatcher, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from promptbench.core.errors import PromptbenchError
from promptbench.gui.workspace.prompt_tree import PromptTree
from promptbench.gui.services import Services
from promptbench.gui.window.menus import MenusMixin
from promptbench.gui.window.prompts import PromptsMixin
from promptbench.gui.window.tabs import (  # noqa: F401  (re-exported: tests and tabs use the names)
    TAB_COMPARE, TAB_DASHBOARD, TAB_EDIT, TAB_EVAL, TAB_HISTORY, TAB_LEADERBOARD, TAB_NAMES, TAB_RANK, TAB_RUNS,
)


class MainWindow(MenusMixin, PromptsMixin, QMainWindow):
    workspace_requested = Signal(str)  # the user asked to open another workspace

    def __init__(self, services: Services, qsettings: QSettings | None = None):
        super().__init__()
        from promptbench.gui.compare import CompareView
        from promptbench.gui.editor import PromptEditor
        from promptbench.gui.history import HistoryPanel
        from promptbench.gui.rank import RankView
        from promptbench.gui.runs.runs_view import RunsView

        self.services = services
        services.setParent(self)  # freed with the window, on the GUI thread
        self.store = services.store
        self.qsettings = qsettings or QSettings()
        self.setWindowTitle(f"promptbench[*] — {self.store.root.name}")
        screen = self.screen().availableGeometry()  # a first start on a small screen: fit it
        self.resize(min(1280, screen.width()), min(820, screen.height()))
        self._drafted: set[str] = set()     # prompts with a draft on disk (this instance's, recovered ones included)
        self._uncommitted: set[str] = set()
        self._first_listing = True
        self._leaving = False               # a Save / Discard / Cancel question or its save is under way

        self.tree = PromptTree()
        self.editor = PromptEditor(services)
        self.history = HistoryPanel(services)
        self.compare = CompareView(services)
        self.runs = RunsView(services)
        self.rank = RankView(services)
        self.leaderboard = None  # built on first view: it loads pyqtgraph
        self.dashboard = None
        self.eval = None
        self._last_comparison: str | None = None
        self.compare.set_source(self._compare_source)
        self.rank.session_requested.connect(self.new_ranking_session)
        self.rank.leaderboard_requested.connect(lambda: self.tabs.setCurrentIndex(TAB_LEADERBOARD))

        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.editor, "Edit")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(QWidget(), "Eval")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.rank, "Rank")
        self.tabs.addTab(QWidget(), "Leaderboard")
        self.tabs.addTab(QWidget(), "Dashboard")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.tabs)
        self.tree.setMinimumWidth(170)  # prompt names stay readable whatever a tab needs
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([240, 1040])
        from promptbench.gui.workspace.welcome import WelcomePanel

        self.welcome = WelcomePanel()
        self.welcome.hide()
        self.welcome.step_requested.connect(self._on_welcome_step)
        self.welcome.closed.connect(lambda: self.qsettings.setValue("welcome/closed", True))
        for key in self.qsettings.value("welcome/done", [], type=list) or []:
            self.welcome.mark_done(str(key))
        self.welcome.step_done.connect(lambda _key: self.qsettings.setValue("welcome/done", self.welcome.done_steps()))
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.welcome)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        run_here = QPushButton("▶ Run")
        run_here.setToolTip("Run this prompt in Compare on the checked models (Ctrl+Enter)")
        run_here.clicked.connect(self.run_compare)
        self.editor.tabs.setCornerWidget(run_here, Qt.Corner.TopRightCorner)
        self.edit_run_button = run_here

        self.status = QLabel()
        self.progress = QProgressBar(maximumWidth=120, maximum=0, textVisible=False)
        self.progress.hide()
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._build_menus()

        self.tree.prompt_selected.connect(self._on_prompt_selected)
        self.tree.new_prompt_requested.connect(self.new_prompt)
        self.editor.prompt_loaded.connect(lambda rel: rel.endswith("summarize.prompt.yml") and self.welcome.mark_done("open"))
        self.compare.comparison_started.connect(lambda _cid: self.welcome.mark_done("run"))
        self.compare.settings_requested.connect(lambda name: self.open_settings(name))
        self.editor.prompt_saved.connect(self._on_prompt_saved)
        self.editor.dirty_changed.connect(self._on_dirty_changed)
        self.editor.prompt_vanished.connect(self._on_prompt_vanished)
        self.editor.ask_identity = self._ask_identity
        # The compare estimate follows what is on screen: another prompt, an edit, a test case.
        for signal in (self.editor.prompt_loaded, self.editor.text_changed, self.editor.variables_changed):
            signal.connect(self._estimate_when_shown)
        self.history.before_rollback = self._before_rollback
        self.history.rolled_back.connect(self._on_rolled_back)
        self.history.labels_changed.connect(lambda rel: self.status.setText(f"Labels of {rel} updated"))
        self.compare.comparison_finished.connect(self._remember_comparison)
        self.runs.comparison_opened.connect(self._remember_comparison)
        self.editor.status_posted.connect(self.status.setText)
        self.history.notice_posted.connect(self.status.setText)
        services.tasks.busy_changed.connect(self.progress.setVisible)
        services.tasks.task_failed.connect(self.status.setText)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._schedule_rescan)
        self.watcher.fileChanged.connect(self._schedule_rescan)
        self._rescan_timer = QTimer(self, singleShot=True, interval=250)
        self._rescan_timer.timeout.connect(self._rescan)
        self._restore_state()
        self.refresh_prompts(select_first=True)

    # -- compare ------------------------------------------------------------------------------
    def _compare_source(self):
        rel = self.editor.current_rel()
        prompt = self.editor.current_prompt()
        if rel is None or prompt is None:
            raise PromptbenchError("open a valid prompt first (fix the problems shown in the editor)")
        return rel, self.editor.current_text().encode("utf-8"), prompt, self.editor.selected_test_case(), self.editor.variable_values()

    def run_compare(self) -> None:
        self.tabs.setCurrentIndex(TAB_COMPARE)
        self.compare.run()

    def cancel_all(self) -> None:
        self.compare.cancel_all()

    # -- ranking ------------------------------------------------------------------------------
    def _remember_comparison(self, comparison_id: str) -> None:
        self._last_comparison = comparison_id

    def rank_last_comparison(self) -> None:
        if not self._last_comparison:
            self.status.setText("Run a comparison (or open one in Runs) first, then rank its outputs")
            return
        self.tabs.setCurrentIndex(TAB_RANK)
        self.rank.rank_comparison(self._last_comparison)

    def new_ranking_session(self) -> None:
        from promptbench.gui.rank.items import least_certain
        from promptbench.gui.rank.session_dialog import SessionDialog

        rel = self.editor.current_rel()
        if rel is None:
            self.status.setText("Open a prompt first")
            return
        dialog = SessionDialog(self.services, rel, self)

        def start(items, session_id):
            self.tabs.setCurrentIndex(TAB_RANK)
            self.rank.start_queue(items, pair_chooser=least_certain, session_id=session_id)
        dialog.session_ready.connect(start)
        dialog.open()

    def _estimate_when_shown(self, *_args) -> None:
        self._estimate_stale = True
        if self.tabs.currentIndex() == TAB_COMPARE:
            self._estimate_stale = False
            self.compare.refresh_estimate()

    def _on_tab_changed(self, index: int) -> None:
        if index == TAB_COMPARE:
            self.welcome.mark_done("compare")
        if index == TAB_COMPARE and getattr(self, "_estimate_stale", True):
            self._estimate_stale = False
            self.compare.refresh_estimate()
        if index == TAB_LEADERBOARD and self.leaderboard is None:
            from promptbench.gui.rank import LeaderboardView

            self.leaderboard = LeaderboardView(self.services)
            self.rank.vote_recorded.connect(self.leaderboard._on_vote_recorded)
            self._replace_tab(TAB_LEADERBOARD, self.leaderboard)
            self.leaderboard.refresh()
        elif index == TAB_EVAL and self.eval is None:
            from promptbench.gui.evalview import EvalView

            self.eval = EvalView(self.services)
            self._replace_tab(TAB_EVAL, self.eval)
            if self.editor.current_rel():
                self.eval.set_prompt(self.editor.current_rel())
        elif index == TAB_DASHBOARD and self.dashboard is None:
            from promptbench.gui.dashboard import DashboardView

            self.dashboard = DashboardView(self.services)
            self.dashboard.runs_requested.connect(self._on_runs_requested)
            self._replace_tab(TAB_DASHBOARD, self.dashboard)

    def _replace_tab(self, index: int, widget: QWidget) -> None:
        self.tabs.blockSignals(True)
        old = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, TAB_NAMES[index])
        self.tabs.setCurrentIndex(index)
        self.tabs.blockSignals(False)
        old.deleteLater()

    def _on_runs_requested(self, filters: dict) -> None:
        self.tabs.setCurrentIndex(TAB_RUNS)
        self.runs.show_filtered(filters)

    # -- settings ----------------------------------------------------------------
    def open_settings(self, model: str | None = None) -> None:
        """Settings; with *model*, on the Models page with that model shown (to set its key)."""
        from promptbench.gui.settings import SettingsDialog

        dialog = SettingsDialog(self.services, self)
        if model:
            dialog.show_page("Models")
            dialog.models_page.refresh(select=model)
        dialog.exec()

    # -- state ------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.qsettings.value("mainWindow/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self.qsettings.value("mainWindow/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        tab = self.qsettings.value("mainWindow/tab", 0)
        self.tabs.setCurrentIndex(int(tab) if str(tab).isdigit() else 0)

    def closeEvent(self, event) -> None:
        if self.editor.current_rel() and self.editor.is_dirty():
            event.ignore()  # closes again once the edits are saved or discarded
            self.leave_prompt(lambda: QTimer.singleShot(0, self.close), "close the window")
            return
        unsaved = self.rank.unsaved_votes()
        if unsaved and QMessageBox.question(
                self, "Votes not saved yet", f"{unsaved} vote(s) could not be written yet. Close anyway and lose them?") \
                != QMessageBox.StandardButton.Yes:
            event.ignore()
            return
        self.qsettings.setValue("mainWindow/geometry", self.saveGeometry())
        self.qsettings.setValue("mainWindow/splitter", self.splitter.saveState())
        self.qsettings.setValue("mainWindow/tab", self.tabs.currentIndex())
        self.compare.shutdown()
        if self.eval is not None:
            self.eval.shutdown()
        self.services.close()
        super().closeEvent(event)
