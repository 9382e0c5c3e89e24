"""The main window: prompt tree on the left; Edit, History, Compare and Runs tabs.

It wires the widgets together and owns the desktop habits (shortcuts, window state,
external-change watching). All work on git, SQLite and providers goes through
Services (tasks, engine), never here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QFileSystemWatcher, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
import shiboken6
from PySide6.QtWidgets import (QApplication, QInputDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from promptbench.core.errors import PromptbenchError
from promptbench.gui.workspace.prompt_tree import PromptTree
from promptbench.gui.services import Services

TAB_EDIT, TAB_HISTORY, TAB_COMPARE, TAB_EVAL, TAB_RUNS, TAB_RANK, TAB_LEADERBOARD, TAB_DASHBOARD = range(8)
TAB_NAMES = ("Edit", "History", "Compare", "Eval", "Runs", "Rank", "Leaderboard", "Dashboard")
NEW_PROMPT = """\
name: {name}
description: ""
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  maxTokens: 256
messages:
  - role: system
    content: You are a helpful assistant.
  - role: user
    content: "{{{{input}}}}"
testData:
  - input: Hello!
"""


class MainWindow(QMainWindow):
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

    # -- menus and shortcuts ------------------------------------------------------------------
    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, context=Qt.ShortcutContext.WindowShortcut):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(context)
            act.triggered.connect(slot)
            menu.addAction(act)
            self.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "&New prompt…", self.new_prompt, QKeySequence.StandardKey.New)
        action(file_menu, "&Open workspace…", self.open_workspace, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Recent workspaces")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        self.save_action = action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        # Preferences and Quit have no standard key on every platform (none on Linux's
        # generic theme): give them the usual ones.
        action(file_menu, "Se&ttings…", self.open_settings, "Ctrl+,")
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, "Ctrl+Q")

        run_menu = self.menuBar().addMenu("&Run")
        self.run_action = action(run_menu, "&Run compare", self.run_compare, "Ctrl+Return")
        self.addAction(self._alias(self.run_action, "Ctrl+Enter"))
        self.cancel_action = action(run_menu, "&Cancel all runs", self.cancel_all, "Esc")
        # Esc belongs to the compare view only: elsewhere it closes find bars and the like.
        self.removeAction(self.cancel_action)
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.compare.addAction(self.cancel_action)
        run_menu.addSeparator()
        action(run_menu, "Ran&k the last comparison", self.rank_last_comparison, "Ctrl+R")
        action(run_menu, "New ranking &session…", self.new_ranking_session, "Ctrl+Shift+R")

        view_menu = self.menuBar().addMenu("&View")
        for index, name in enumerate(TAB_NAMES):
            action(view_menu, name, lambda _=False, i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}")
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&Getting started", self.show_welcome)
        action(help_menu, "&Keyboard shortcuts", self.show_shortcuts)
        action(help_menu, "&README (how promptbench works)", self.open_readme)
        help_menu.addSeparator()
        action(help_menu, "About promptbench", self._about)

    # -- first start and help -----------------------------------------------------------------
    def show_welcome(self) -> None:
        self.welcome.show()

    def show_shortcuts(self) -> None:
        from promptbench.gui.workspace.welcome import ShortcutsDialog

        ShortcutsDialog(self).exec()

    def open_readme(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        readme = Path(__file__).resolve().parents[3] / "README.md"
        if readme.exists() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(readme))):
            self.status.setText(f"Opened {readme}")
        else:
            QMessageBox.information(self, "README", "The README is in promptbench's repository: "
                                    "https://github.com/ (README.md at its top). This installation has no copy of it.")

    def _on_welcome_step(self, step: str) -> None:
        from promptbench.gui.workspace.welcome import LOCAL_MODELS, SAMPLE

        if step == "open":
            if not self.tree.select(SAMPLE):
                self.status.setText(f"{SAMPLE} is not in this workspace; open any prompt in the list")
        elif step == "compare":
            self.tabs.setCurrentIndex(TAB_COMPARE)
        elif step == "run":
            if self.editor.current_rel() is None:
                self.tree.select(SAMPLE)
            self.tabs.setCurrentIndex(TAB_COMPARE)
            picker = self.compare.picker
            available = [m for m in LOCAL_MODELS if m in picker.available_names()]
            if available:
                picker.set_selected(available)
            self.run_compare()

    def _alias(self, target: QAction, shortcut: str) -> QAction:
        alias = QAction(self, shortcut=QKeySequence(shortcut))
        alias.triggered.connect(target.trigger)
        return alias

    def _fill_recent(self) -> None:
        from promptbench.gui.workspace.picker import recent_workspaces

        self.recent_menu.clear()
        for path in recent_workspaces(self.qsettings):
            self.recent_menu.addAction(path, lambda p=path: self.workspace_requested.emit(p))

    # -- prompts --------------------------------------------------------------------------------
    def refresh_prompts(self, select_first: bool = False) -> None:
        store, writer = self.store, self.services.drafts()
        claim, self._first_listing = self._first_listing, False

        def work():
            paths = store.list_prompts()
            damaged: list = []
            drafted: set[str] = set()
            if writer is not None:
                writer.flush(5.0)  # drafts just saved or discarded are gone from the listing too
                if claim:  # drafts of app runs that ended without saving become this window's
                    damaged += writer.store.claim_orphans()[1]
                mine, bad = writer.store.mine()
                damaged += bad
                drafted = set(mine)
            return paths, {p for p in paths if store.is_dirty(p)}, drafted, damaged

        self.services.tasks.run(work, on_done=lambda result: self._on_prompts_listed(*result, select_first=select_first),
                                key="list-prompts")

    def _on_prompts_listed(self, paths: list[str], dirty: set[str], drafted: set[str] | None = None,
                           damaged: list | None = None, select_first: bool = False) -> None:
        drafted = set(drafted or ())
        current = self.editor.current_rel()
        if current and self.editor.has_unsaved_edits():
            drafted.add(current)
        missing = {rel for rel in drafted if rel not in paths}
        if select_first and not self.qsettings.value("welcome/closed"):
            from promptbench.gui.workspace.welcome import SAMPLE

            self.welcome.setVisible(SAMPLE in paths)  # the sample workspace on a first start
        self._drafted, self._uncommitted = drafted, dirty
        self.tree.set_prompts(sorted([*paths, *missing]), dirty, self._unsaved_prompts(), missing)
        self._update_save_action()
        for found in damaged or ():
            self.status.setText(f"Ignored a damaged draft file ({found.reason}); it is kept as {found.path}")
        git_dir = self.store.git_dir  # commits, checkouts and branch switches made in a terminal
        wanted = {str(self.store.root), *(str(self.store.path(p)) for p in paths),
                  *(str(d) for d in (git_dir, git_dir / "refs" / "heads") if d.is_dir())}
        # Only the difference: removing and re-adding a path can lose its watch (inotify reuses
        # the descriptor, and the late IN_IGNORED for the old one then drops the new one).
        watched = set(self.watcher.directories() + self.watcher.files())
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))
        last = self.qsettings.value(f"lastPrompt/{self.store.root}")
        if select_first and not self.tree.current():
            listed = self.tree.paths()
            # Recovered unsaved edits come first: the person sees them (and their bar) at once.
            recovered = [p for p in listed if p in drafted]
            if recovered:
                self.tree.select(last if last in recovered else recovered[0])
            elif listed:
                self.tree.select(last if last in listed else listed[0])

    def _unsaved_prompts(self) -> set[str]:
        unsaved = set(self._drafted)
        current = self.editor.current_rel()
        if current:
            (unsaved.add if self.editor.has_unsaved_edits() else unsaved.discard)(current)
        return unsaved

    def _on_prompt_selected(self, rel: str) -> None:
        current = self.editor.current_rel()
        if rel == current:
            return
        if current and self.editor.is_dirty():
            # After the click that chose *rel* is done with: it would select it again.
            QTimer.singleShot(0, lambda: self._switch_when_settled(current, rel))
            return
        self._open_prompt(rel)

    def _switch_when_settled(self, current: str, rel: str) -> None:
        self.tree.select(current)  # stay until the edits are saved or discarded
        self.leave_prompt(lambda: self.tree.select(rel), f"open {rel}")

    def _open_prompt(self, rel: str) -> None:
        self.editor.load(rel)
        self.history.set_prompt(rel)
        if self.eval is not None:
            self.eval.set_prompt(rel)
        self.qsettings.setValue(f"lastPrompt/{self.store.root}", rel)
        self.setWindowTitle(f"{rel}[*] — promptbench — {self.store.root.name}")

    # -- unsaved edits ------------------------------------------------------------------------------
    def leave_prompt(self, then: Callable[[], None], doing: str = "continue",
                     cancelled: Callable[[], None] | None = None) -> None:
        """Run *then* once the open prompt has no unsaved edits: asks Save / Discard / Cancel.
        Save waits for the commit; if it fails the window stays as it is, with the edits and
        the reason shown, and *cancelled* runs instead."""
        rel = self.editor.current_rel()
        if not rel or not self.editor.is_dirty():
            then()
            return
        if self._leaving:
            return
        self._leaving = True
        focused = QApplication.focusWidget()
        answer = self.ask_unsaved(rel, doing)
        self._give_focus_back(focused)
        if answer == "save":
            self.status.setText(f"Saving {rel} before you {doing}…")

            def saved(ok: bool) -> None:
                self._leaving = False
                if ok and not self.editor.is_dirty():
                    then()
                elif ok:  # typed more while saving: ask again
                    self.leave_prompt(then, doing, cancelled)
                else:
                    self.tabs.setCurrentIndex(TAB_EDIT)
                    if cancelled:
                        cancelled()
            self.editor.save(on_finished=saved)
            return
        self._leaving = False
        if answer == "discard":
            self.editor.discard_edits()
            then()
        elif cancelled:
            cancelled()

    def _give_focus_back(self, widget) -> None:
        """After a question, the person goes on typing where they were (also without a
        window manager that would re-activate the window)."""
        self.activateWindow()
        if widget is not None and shiboken6.isValid(widget) and widget.window() is self:
            widget.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def ask_unsaved(self, rel: str, doing: str) -> str:
        """"save", "discard" or "cancel" for the unsaved edits of *rel* before *doing*."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved edits", f"{rel} has unsaved edits.", parent=self)
        box.setInformativeText(f"Save them as a new version before you {doing}? Discard throws them away.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel")

    def _before_rollback(self, rel: str, proceed: Callable[[], None]) -> None:
        if rel == self.editor.current_rel():
            self.leave_prompt(proceed, "roll back")
        else:
            proceed()

    def _ask_identity(self) -> tuple[str, str, bool] | None:
        from promptbench.gui.workspace.identity_dialog import IdentityDialog

        return IdentityDialog(str(self.store.root), self.qsettings, self).answer()

    def _update_save_action(self) -> None:
        current = self.editor.current_rel()
        self.save_action.setEnabled(bool(current) and (self.editor.has_unsaved_edits() or current in self._uncommitted))

    def save(self) -> None:
        if self.editor.current_rel():
            self.editor.save()

    def new_prompt(self) -> None:
        name, ok = QInputDialog.getText(self, "New prompt", "File name (e.g. support/triage.prompt.yml):")
        if not ok or not name.strip():
            return
        rel = name.strip()
        if not rel.endswith((".prompt.yml", ".prompt.yaml")):
            rel += ".prompt.yml"
        title = Path(rel).name.split(".")[0].replace("-", " ").title()
        store = self.store
        self.services.tasks.run(lambda: store.create(rel, NEW_PROMPT.format(name=title)),
                                on_done=lambda v: (self.refresh_prompts(), self.status.setText(f"Created {v.path}"),
                                                   QTimer.singleShot(300, lambda: self.tree.select(v.path))),
                                on_error=lambda e: QMessageBox.warning(self, "New prompt", str(e)))

    def _on_prompt_saved(self, rel: str, sha: str) -> None:
        self.status.setText(f"Saved {rel} as {sha[:8]}" if sha else f"{rel}: no changes to save")
        self.history.refresh()
        self.refresh_prompts()

    def _on_prompt_vanished(self, _rel: str) -> None:
        self.setWindowTitle(f"promptbench[*] — {self.store.root.name}")
        self.refresh_prompts(select_first=True)

    def _on_dirty_changed(self, dirty: bool) -> None:
        self.setWindowModified(dirty)
        self.tree.set_unsaved(self._unsaved_prompts())
        self._update_save_action()

    def _on_rolled_back(self, rel: str, sha: str) -> None:
        self.editor.load(rel)
        self.status.setText(f"Rolled back {rel}: new version {sha[:8]} (roll back again to undo)")
        self.refresh_prompts()

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

    # -- settings, workspace, about ----------------------------------------------------------------
    def open_settings(self, model: str | None = None) -> None:
        """Settings; with *model*, on the Models page with that model shown (to set its key)."""
        from promptbench.gui.settings import SettingsDialog

        dialog = SettingsDialog(self.services, self)
        if model:
            dialog.show_page("Models")
            dialog.models_page.refresh(select=model)
        dialog.exec()

    def open_workspace(self) -> None:
        from promptbench.gui.workspace.picker import ask_folder

        folder = ask_folder(self)
        if folder:
            self.workspace_requested.emit(str(folder))

    def _about(self) -> None:
        from promptbench._version import __version__

        QMessageBox.about(self, "About promptbench", f"<b>promptbench {__version__}</b><p>A desktop workbench for LLM prompts.</p>"
                          f"<p>Workspace: {self.store.root}</p>")

    # -- external changes ------------------------------------------------------------------------
    def _schedule_rescan(self, _path: str = "") -> None:
        self._rescan_timer.start()

    def _rescan(self) -> None:
        self.refresh_prompts()
        self.editor.check_external_change()
        self.history.refresh()

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
