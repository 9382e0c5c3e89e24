"""Run Python's cyclic garbage collector only on the GUI thread.

Left automatic, the collector runs in whichever thread happens to allocate, and can
free a QObject caught in a reference cycle from a worker thread; Qt then finds a
deleted timer in its list and crashes. Same remedy as pyqtgraph's GarbageCollector:
disable automatic collection and collect from a GUI-thread timer.

A full collection walks every object: with Qt, numpy and litellm loaded that is 40 to
150 ms on this machine, a visible stall in the middle of typing. Nearly all of those
objects are modules, classes and functions that live as long as the app, so after new
imports the collector freezes what there is (``gc.freeze``; after a full collection the first
time only): later collections only walk what the app made since.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._modules = 0
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        if len(sys.modules) != self._modules:  # start-up or a lazy import: move the long-lived objects aside
            self.freeze()
            return
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

    def freeze(self) -> None:
        # The first time (start-up) a full collection, so start-up garbage is not frozen.
        # Later imports come while the app works (a stream's lazy imports), when even a
        # young-generation collection of what was made since took 16-130 ms in the middle
        # of 8 streams (benchmarks/gui.py): those freeze without collecting; the periodic
        # collections have left at most a second's garbage to keep.
        if not self._modules:
            gc.collect()
        gc.freeze()
        self._modules = len(sys.modules)

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
        gc.enable()


GIL_SWITCH_INTERVAL_S = 0.001


def keep_gui_responsive(app: QObject) -> GuiThreadGarbageCollector:
    """What the app sets up for a GUI thread that never stalls: garbage collected on the GUI
    thread (start-up objects frozen), and a 1 ms GIL switch interval instead of 5 ms. Each
    PySide call gives the GIL up and takes it back; with a background thread busy in pure
    Python (parsing a big prompt, patching it) every take-back could wait the whole interval,
    and a key press makes dozens of them (benchmarks/typing_stalls.py: max stall 19 -> 12 ms)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    return GuiThreadGarbageCollector(app)

