"""Menus of the history panel: the Label… menu and the context menu of a version."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget

from promptbench.gui.history.version_table import WORKTREE

STANDARD_LABELS = ("production", "staging")


def _add_label_actions(menu: QMenu, panel, rev: str, standard: bool = True) -> None:
    """Set any label here (known names first, then a new name), and remove labels on rev."""
    on_rev = panel.labels_of(rev)
    known = (*STANDARD_LABELS, *panel.labels_in_use()) if standard else panel.labels_in_use()
    names = [n for n in known if n not in on_rev and (standard or n not in STANDARD_LABELS)]
    for name in dict.fromkeys(names):
        menu.addAction(f"Set “{name}” here", lambda n=name: panel.set_label(n, rev))
    menu.addAction("New label…", panel.label_selected_as)
    if on_rev:
        menu.addSeparator()
        for name in on_rev:
            menu.addAction(f"Remove label “{name}”", lambda n=name: panel.remove_label(n))


def fill_label_menu(panel, parent: QWidget) -> QMenu:
    """The menu behind the Label… button; rebuilt each time it opens."""
    menu = QMenu(parent)

    def rebuild() -> None:
        menu.clear()
        rev = panel._single_committed()
        if rev:
            _add_label_actions(menu, panel, rev)

    menu.aboutToShow.connect(rebuild)
    return menu


def build_context_menu(panel, rev: str) -> QMenu:
    menu = QMenu(panel)
    committed = rev != WORKTREE
    copy = menu.addAction("Copy version id (sha)", lambda: QGuiApplication.clipboard().setText(rev))
    copy.setEnabled(committed)
    menu.addSeparator()
    menu.addAction("Compare with previous version", lambda: (panel.table.select_revs([rev]), panel.set_base("previous")))
    working = menu.addAction("Compare with working copy", lambda: panel.compare_with_working_copy(rev))
    working.setEnabled(committed)
    for label in STANDARD_LABELS:
        target = next((v.sha for v in panel.table.versions() if label in v.labels), None)
        if target and target != rev:
            menu.addAction(f"Compare with {label}", lambda t=target: (panel.table.select_revs([rev]), panel.set_base(t)))
    if not committed:
        return menu
    menu.addSeparator()
    rollback = menu.addAction("Roll back to this version", lambda: panel.rollback_to(rev))
    rollback.setEnabled(panel.can_roll_back_to(rev))
    menu.addSeparator()
    labels = panel.labels_of(rev)
    for label in STANDARD_LABELS:
        action = menu.addAction(f"Promote to {label}", lambda n=label: panel.set_label(n, rev))
        action.setEnabled(label not in labels and not panel._writing)
    _add_label_actions(menu.addMenu("Label"), panel, rev, standard=False)
    return menu
