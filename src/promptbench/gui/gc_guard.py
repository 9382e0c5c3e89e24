"""Run Python's cyclic garbage collector only on the GUI thread.

Left automatic, the collector runs in whichever thread happens to allocate, and can
free a QObject caught in a reference cycle from a worker thread; Qt then finds a
deleted timer in its list and crashes. Same remedy as pyqtgraph's GarbageCollector:
disable automatic collection and collect from a GUI-thread timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
