"""Reads, in a task, what the versions on screen are: short sha + commit subject + labels.

``VersionReader.read(contestants)`` asks git (``core.ranking_versions``) for the versions
it has not read yet; ``versions_read`` fires with everything known so far. Without a
workspace store (a view built alone in a test) it reads nothing and versions stay shas.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from promptbench.core.ranking.versions import describe_prompt_versions

log = logging.getLogger(__name__)


class VersionReader(QObject):
    versions_read = Signal(object)   # dict (prompt, version) -> VersionInfo: all known so far

    def __init__(self, services, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.versions: dict = {}

    def read(self, contestants) -> None:
        wanted = sorted({(c.prompt, c.version) for c in contestants} - set(self.versions))
        store = getattr(self.services, "store", None)
        if wanted and store is not None:
            self.services.tasks.run(lambda: describe_prompt_versions(store, wanted), on_done=self._on_done,
                                    on_error=lambda exc: log.info("version subjects not read: %s", exc),
                                    key=f"rank-versions-{id(self)}")

    def _on_done(self, infos: dict) -> None:
        self.versions.update(infos)
        self.versions_read.emit(self.versions)
