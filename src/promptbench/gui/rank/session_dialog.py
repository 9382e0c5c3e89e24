"""New ranking session: choose versions, models and test cases; generate what is missing; judge.

Stored outputs for a (version, test case, model) are reused; the missing ones run as one
batch through the engine, with progress here. Then every pair per test case goes to the
Rank view, least-certain pair first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QVBoxLayout)

from promptbench.core.figures import test_case_label
from promptbench.core.ranking.versions import VersionInfo


class SessionDialog(QDialog):
    session_ready = Signal(list, str)  # RankItems, session id

    def __init__(self, services, prompt_path: str, parent=None):
        super().__init__(parent)
        self.services, self.prompt_path = services, prompt_path
        self.setWindowTitle(f"New ranking session — {prompt_path}")
        self.versions, self.models, self.cases = QListWidget(), QListWidget(), QListWidget()
        self.info = QLabel("Choose what to judge. Stored outputs are reused; only missing ones are generated.")
        self.info.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start session")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Versions", self.versions)
        form.addRow("Models", self.models)
        form.addRow("Test cases", self.cases)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self._batch_id: str | None = None
        self._session = None
        self._poll = QTimer(self, interval=200)
        self._poll.timeout.connect(self._on_poll)
        self.resize(560, 620)
        services.tasks.run(self._load_choices, on_done=self._on_choices, on_error=self._on_failed, key="session-choices")

    # -- choices -------------------------------------------------------------------------------
    def _load_choices(self):
        from promptbench.core.settings.config import list_all_models

        store = self.services.store
        settings = self.services.settings()
        versions = store.history(self.prompt_path)
        prompt = store.read(self.prompt_path)
        return versions, list_all_models(settings, detect_ollama=False), settings.default_models, len(prompt.test_data)

    def _on_choices(self, result) -> None:
        versions, models, defaults, n_cases = result
        for i, v in enumerate(versions):   # as the rank view and the leaderboard name them
            info = VersionInfo(v.sha, v.short, v.subject, tuple(v.labels), v.message, True)
            self._add(self.versions, info.line(), v.sha, checked=i < 2 or bool(v.labels), tip=info.tooltip())
        for m in models:
            self._add(self.models, m.name, m.name, checked=m.name in defaults)
        for i in range(n_cases):
            self._add(self.cases, test_case_label(i), i, checked=True)

    @staticmethod
    def _add(widget: QListWidget, text: str, data, checked: bool, tip: str = "") -> None:
        item = QListWidgetItem(text)
        item.setToolTip(tip)
        item.setData(Qt.ItemDataRole.UserRole, data)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        widget.addItem(item)

    @staticmethod
    def _checked(widget: QListWidget) -> list:
        return [widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
                if widget.item(i).checkState() == Qt.CheckState.Checked]

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        versions, names, cases = self._checked(self.versions), self._checked(self.models), self._checked(self.cases)
        if len(versions) * len(names) < 2:
            self.info.setText("Pick at least two contestants: two versions, two models, or both.")
            return
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.info.setText("Looking for stored outputs…")
        self.services.tasks.run(lambda: self._plan(versions, names, cases), on_done=self._on_planned,
                                on_error=self._on_failed, key="session-plan")

    def _plan(self, versions, names, cases):
        from promptbench.core.engine.requests import resolve_models
        from promptbench.core.ranking.session import plan_session

        runner = self.services.batch_runner()
        models = resolve_models(self.services.settings(), names)
        session = plan_session(runner, self.services.runs(), self.prompt_path, versions=versions, models=models,
                               test_cases=cases or None)
        batch_id = runner.start(session.plan) if session.missing else None
        return session, batch_id

    def _on_planned(self, result) -> None:
        self._session, self._batch_id = result
        if self._batch_id is None:
            self._finish()
            return
        self.info.setText(f"Generating {self._session.missing} missing outputs ({len(self._session.reused)} reused)…")
        self.progress.setRange(0, self._session.missing)
        self.progress.show()
        self._poll.start()

    def _on_poll(self) -> None:
        runner = self.services.batch_runner()
        row = runner.get(self._batch_id) or {}
        counts = row.get("cells") or {}
        done = sum(v for k, v in counts.items() if k != "pending") if isinstance(counts, dict) else 0
        self.progress.setValue(min(done, self.progress.maximum()))
        if self._batch_id not in runner.running():
            self._poll.stop()
            self._finish()

    def _finish(self) -> None:
        self.info.setText("Preparing the pairs…")
        self.services.tasks.run(self._pairs, on_done=self._on_pairs, on_error=self._on_failed, key="session-pairs")

    def _pairs(self):
        from promptbench.core.ranking.session import all_cells, session_pairs
        from promptbench.core.ranking.votes import VoteStore

        runs = self.services.runs()
        results = self.services.batch_runner().results(self._batch_id) if self._batch_id else []
        pairs = session_pairs(runs, self.prompt_path, all_cells(self._session, results))
        session_id = VoteStore(runs).create_session(
            name=f"{self.prompt_path} session", prompt_path=self.prompt_path,
            config={"versions": sorted({p.outputs[0].contestant.version for p in pairs} | {p.outputs[1].contestant.version for p in pairs}),
                    "models": sorted({o.contestant.model for p in pairs for o in p.outputs}),
                    "test_cases": sorted({p.test_case for p in pairs if p.test_case is not None}), "blind": True})
        return pairs, session_id

    def _on_pairs(self, result) -> None:
        items, session_id = result
        if not items:
            self.info.setText("No outputs to judge: the runs failed or produced no text. See the Runs tab.")
            return
        self.session_ready.emit(items, session_id)
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._poll.stop()
        self.info.setText(f"Could not start the session: {exc}")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
