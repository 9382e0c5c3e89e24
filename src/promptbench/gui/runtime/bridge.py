"""The one bridge from the engine thread to the GUI thread.

The engine calls ``on_event`` on its own thread for every event (hundreds a second
when 8 panes stream). Each call only appends to a deque; a 30 ms timer on the GUI
thread drains it and emits one ``events_arrived(list)`` per tick, so widgets repaint
at most ~33 times a second however fast tokens arrive.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

TICK_MS = 30


class EngineBridge(QObject):
    events_arrived = Signal(list)

    def __init__(self, parent: QObject | None = None, tick_ms: int = TICK_MS):
        super().__init__(parent)
        self._pending: deque = deque()
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._drain)
        self._timer.start()

    def on_event(self, event) -> None:
        """Called on the engine thread: cheap and thread-safe (deque.append is atomic)."""
        self._pending.append(event)

    def _drain(self) -> None:
        if not self._pending:
            return
        batch = []
        pop = self._pending.popleft
        try:
            while True:
                batch.append(pop())
        except IndexError:
            pass
        self.events_arrived.emit(batch)

    def flush(self) -> None:
        """Deliver whatever is pending now (tests, and before closing)."""
        self._drain()

    def stop(self) -> None:
        """No more deliveries (the workspace is closing): stop the timer, drop what is pending."""
        self._timer.stop()
        self._pending.clear()
