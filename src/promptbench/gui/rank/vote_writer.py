"""Votes go to disk in tasks, one after another, and none is dropped when a write fails.

``VoteStore.record_*`` is durable when it returns and may wait behind queued run writes,
so it never runs on the GUI thread. Jobs are written in the order they were cast, one
task at a time. A job that fails stays at the head of the queue (with every job behind
it) and is retried: when the user asks, when the next vote is cast, and on a backoff
timer. A vote whose row was written but whose rubric scores failed resumes where it
stopped, so nothing is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from promptbench.core.ranking.votes import VoteStore

RETRY_FIRST_MS = 3000
RETRY_MAX_MS = 60000


@dataclass
class VoteJob:
    kind: str                       # "pairwise" (record_vote) or "ranking" (record_ranking)
    args: dict[str, Any]            # keyword arguments of that record_* call
    rubric: list[dict[str, Any]] = field(default_factory=list)  # record_rubric kwargs, without vote_id
    vote_id: str | None = None      # set once the vote row is on disk
    error: str | None = None        # the last write error, while the job waits for a retry


def _write(runs_provider, job: VoteJob) -> str:
    """Worker thread: write the vote (unless already written), then its rubric scores."""
    votes = VoteStore(runs_provider())
    if job.vote_id is None:
        record = votes.record_vote if job.kind == "pairwise" else votes.record_ranking
        job.vote_id = record(**job.args)
    while job.rubric:
        votes.record_rubric(vote_id=job.vote_id, **job.rubric[0])
        job.rubric.pop(0)
    return job.vote_id


class VoteWriter(QObject):
    vote_saved = Signal(object, str)      # job, vote id
    write_failed = Signal(object, str)    # job, message (the job stays queued)
    queue_drained = Signal()              # every cast vote is on disk

    def __init__(self, services, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.queue: list[VoteJob] = []
        self._writing = False
        self._retry_ms = RETRY_FIRST_MS
        self._retry_timer = QTimer(self, singleShot=True)
        self._retry_timer.timeout.connect(self.retry)

    def submit(self, job: VoteJob) -> None:
        self.queue.append(job)
        self.retry()   # a new vote is also a good moment to retry a failed one

    def pending(self) -> int:
        return len(self.queue)

    def failed(self) -> bool:
        return bool(self.queue) and self.queue[0].error is not None

    def retry(self) -> None:
        self._retry_timer.stop()
        self._pump()

    def _pump(self) -> None:
        if self._writing or not self.queue:
            return
        job = self.queue[0]
        self._writing = True
        task = self.services.tasks.run(lambda: _write(self.services.runs, job),
                                       on_done=lambda vote_id: self._on_written(job, vote_id),
                                       on_error=lambda exc: self._on_failed(job, exc))
        if task < 0:        # the task runner is closed (shutting down): nothing more will run
            self._writing = False

    def _on_written(self, job: VoteJob, vote_id: str) -> None:
        self._writing = False
        self._retry_ms = RETRY_FIRST_MS
        job.error = None
        if self.queue and self.queue[0] is job:
            self.queue.pop(0)
        self.vote_saved.emit(job, vote_id)
        if self.queue:
            self._pump()
        else:
            self.queue_drained.emit()

    def _on_failed(self, job: VoteJob, exc: Exception) -> None:
        self._writing = False
        job.error = str(exc) or type(exc).__name__
        self.write_failed.emit(job, job.error)
        self._retry_timer.start(self._retry_ms)
        self._retry_ms = min(self._retry_ms * 2, RETRY_MAX_MS)
