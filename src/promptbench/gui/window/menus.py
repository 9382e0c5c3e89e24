"""The main window's menus and shortcuts, the first-start panel's steps and the Help menu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from promptbench.gui.window.tabs import TAB_COMPARE, TAB_NAMES


class MenusMixin:
    """Part of MainWindow (gui/mainwindow.py): needs its tabs, editor, compare view and status."""

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

        readme = Path(__file__).resolve().parents[4] / "README.md"
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

    def open_workspace(self) -> None:
        from promptbench.gui.workspace.picker import ask_folder

        folder = ask_folder(self)
        if folder:
            self.workspace_requested.emit(str(folder))

    def _about(self) -> None:
        from promptbench._version import __version__

        QMessageBox.about(self, "About promptbench", f"<b>promptbench {__version__}</b><p>A desktop workbench for LLM prompts.</p>"
                          f"<p>Workspace: {self.store.root}</p>")
