"""The batch runner: many cells (prompt version x test case x model x repeat) through the engine.

Used by automated evaluation (``promptbench eval``) and by ranking sessions that need
outputs generated. ``plan()`` and ``estimate()`` are pure (core/batch_plan.py); the
batch and its cells live in the run store's database (core/batch_store.py).

Threads
-------
Each running batch has ONE runner thread ("promptbench-batch-<id>"). It starts cells
with the public ``Engine.compare`` (one comparison of one model per cell, at most
``concurrency`` in flight; the engine's per-provider limits still apply underneath),
receives their ends through a queue, records them and reports progress. The engine
thread only does a type check per event and, for the end of a batch comparison, one
``queue.put`` - it never waits for the runner or the database.

Each cell's comparison has its own listener (``Engine.compare(request, listener=...)``,
subscribed before the comparison starts): the cell's end is its one run's terminal event.

``on_progress(BatchProgress)`` is called on the batch's runner thread, at most
``PROGRESS_INTERVAL_S`` apart, plus once at the end (``final=True``); ``done`` never
decreases. It must not block for long: cell starts wait for it.

Resume and cancel: ``cancel`` stops scheduling and cancels the runs in flight; their
cells end "cancelled", cells never started stay "pending". ``resume`` runs only the
cells that are not finished: finished cells are NEVER run again; pending and cancelled
cells always are; errored cells are re-run when ``rerun_errors`` (the default, as most
errors - rate limits, timeouts, a server down - are transient; pass False to keep
them). A killed process leaves its batches "running": call ``mark_interrupted()`` at
start-up (after ``RunStore.mark_interrupted()``); their in-flight cells are still
"pending", so a resume runs them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from promptbench.core.engine import events as ev
from promptbench.core.batch.plan import BatchPlan, Cell
from promptbench.core.batch.plan import estimate as estimate_plan
from promptbench.core.batch.plan import plan as plan_batch
from promptbench.core.batch.store import BatchStore, CellResult
from promptbench.core.settings.config import ModelConfig, Settings
from promptbench.core.engine.engine import Engine
from promptbench.core.ids import new_id
from promptbench.core.errors import PromptbenchError
from promptbench.core.db.runs import RunStore
from promptbench.core.store.promptstore import PromptStore

__all__ = ["BatchRunner", "BatchPlan", "BatchProgress", "Cell"]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1   # at most ~10 progress calls a second
CANCEL_GRACE_S = 30.0        # after a cancel, how long to wait for in-flight runs to report their end
ETA_WINDOW = 32              # completions the rate is measured over


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    done: int                    # cells ended finished or error (incl. those finished before a resume)
    total: int                   # every cell of the batch
    errors: int
    running_cost_usd: float      # cost of the cells done so far (unknown prices count 0)
    elapsed_s: float             # since this start/resume
    eta_s: float | None          # from the recent completion rate; None until two cells ended
    final: bool = False          # the last call for this start/resume


class _Job:
    """One start/resume of a batch; its state belongs to its runner thread."""

    def __init__(self, batch_id: str, plan: BatchPlan, todo: list[Cell], *, concurrency: int,
                 on_progress, done: int, errors: int, cost: float):
        self.batch_id, self.plan, self.concurrency, self.on_progress = batch_id, plan, concurrency, on_progress
        self.todo = deque(todo)
        self.total = plan.total
        self.done, self.errors, self.cost = done, errors, cost
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.in_flight: dict[str, tuple[Cell, str | None]] = {}  # comparison id -> (cell, run id)
        self.cancelled = False
        self.engine_gone = False
        self.finished = threading.Event()
        self.thread: threading.Thread | None = None


class BatchRunner:
    def __init__(self, engine: Engine, runs: RunStore, store: PromptStore, settings: Settings):
        self.engine, self.runs, self.store, self.settings = engine, runs, store, settings
        self.batches = BatchStore(runs)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}          # batch id -> its running job

    # --- planning (pure) -------------------------------------------------------------------

    def plan(self, prompt_path: str, *, versions: list[str | None] | None = None, test_cases: list[int] | None = None,
             models: list[ModelConfig], repeats: int = 1) -> BatchPlan:
        """Cells = versions x test cases x models x repeats. Raises PromptbenchError (naming the file,
        version, test case and variable) if any test case lacks a variable; nothing is written.

        Local models run batched: nobody compares a batch's timings cell by cell, and their
        server decodes several cells at once (core/local/servers.py)."""
        rel = self.store.resolve(prompt_path)
        return plan_batch(self.store, rel, versions=versions, test_cases=test_cases, models=models,
                          repeats=repeats, local_mode="batched")

    @staticmethod
    def estimate(plan: BatchPlan) -> dict:
        return estimate_plan(plan)

    # --- running ---------------------------------------------------------------------------

    def start(self, plan: BatchPlan, *, on_progress: Callable[[BatchProgress], None] | None = None,
              concurrency: int = 8) -> str:
        """Record the batch and all its cells (pending, one transaction), then run them. Returns the id."""
        _check_concurrency(concurrency)
        batch_id = new_id()
        self.batches.create(batch_id, plan.prompt_path, plan.to_config(concurrency), plan.cells)
        self._launch(_Job(batch_id, plan, list(plan.cells), concurrency=concurrency, on_progress=on_progress,
                          done=0, errors=0, cost=0.0))
        return batch_id

    def resume(self, batch_id: str, *, on_progress: Callable[[BatchProgress], None] | None = None,
               concurrency: int | None = None, rerun_errors: bool = True) -> str:
        """Run the cells of a stopped batch that are not finished (errored ones too if ``rerun_errors``)."""
        with self._lock:
            if batch_id in self._jobs:
                raise PromptbenchError(f"batch {batch_id} is still running; wait for it or cancel it first")
        self.batches.barrier()
        batch = self.batches.get(batch_id)
        if batch is None:
            raise PromptbenchError(f"no batch {batch_id!r} in {self.runs.path}")
        plan = BatchPlan.from_config(batch["prompt_path"], batch["config"])
        concurrency = concurrency or int(batch["config"].get("concurrency") or 8)
        _check_concurrency(concurrency)
        by_key = {c.key: c for c in plan.cells}
        rows = self.batches.cells(batch_id)
        again = ("pending", "cancelled", "error") if rerun_errors else ("pending", "cancelled")
        todo = [by_key[r["cell_key"]] for r in rows if r["status"] in again]
        kept = [r for r in rows if r["status"] not in again]
        self.batches.set_status(batch_id, "running", ended=False)
        self._launch(_Job(batch_id, plan, todo, concurrency=concurrency, on_progress=on_progress,
                          done=len(kept), errors=sum(r["status"] == "error" for r in kept),
                          cost=sum(r["cost_usd"] or 0.0 for r in kept)))
        return batch_id

    def cancel(self, batch_id: str) -> None:
        """Stop scheduling and cancel the runs in flight; returns at once (``wait`` for the end)."""
        with self._lock:
            job = self._jobs.get(batch_id)
        if job is not None:
            job.inbox.put(("cancel",))

    def wait(self, batch_id: str, timeout: float | None = None) -> bool:
        """True once the batch is not running in this process (its final status is committed)."""
        with self._lock:
            job = self._jobs.get(batch_id)
        return True if job is None else job.finished.wait(timeout)

    def running(self) -> list[str]:
        with self._lock:
            return list(self._jobs)

    def mark_interrupted(self) -> int:
        """At start-up: batches left "running" by a process that ended -> "interrupted". Returns how many."""
        return self.batches.mark_interrupted(self.running())

    def results(self, batch_id: str) -> list[dict]:
        """Every cell in plan order joined with its run's output and metrics."""
        self.batches.barrier()
        return self.batches.results(batch_id)

    def get(self, batch_id: str) -> dict | None:
        self.batches.barrier()
        return self.batches.get(batch_id)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every running batch and wait for their runner threads."""
        for batch_id in self.running():
            self.cancel(batch_id)
        for batch_id in self.running():
            self.wait(batch_id, timeout)

    # --- the runner thread -----------------------------------------------------------------

    def _launch(self, job: _Job) -> None:
        with self._lock:
            if job.batch_id in self._jobs:  # two resumes at once
                raise PromptbenchError(f"batch {job.batch_id} is already running")
            self._jobs[job.batch_id] = job
        job.thread = threading.Thread(target=self._main, args=(job,), name=f"promptbench-batch-{job.batch_id}",
                                      daemon=True)
        job.thread.start()

    def _main(self, job: _Job) -> None:
        started = time.perf_counter()
        ends: deque[float] = deque(maxlen=ETA_WINDOW)
        last_report = float("-inf")
        due = False  # a change not reported yet
        give_up = None  # after a cancel: stop waiting for runs that never report (engine shut down)
        try:
            while True:
                while job.todo and not job.cancelled and len(job.in_flight) < job.concurrency:
                    if not self._start_cell(job, job.todo.popleft()):
                        break
                if not job.in_flight and (job.cancelled or not job.todo):
                    break
                now = time.perf_counter()
                if job.cancelled:
                    give_up = give_up or now + CANCEL_GRACE_S
                    if now >= give_up:
                        log.warning("batch %s: %d runs did not end after the cancel; their cells stay pending",
                                    job.batch_id, len(job.in_flight))
                        break
                wait = max(0.0, last_report + PROGRESS_INTERVAL_S - now) if due else None
                if give_up is not None:
                    wait = min(wait if wait is not None else CANCEL_GRACE_S, max(0.0, give_up - now))
                try:
                    messages = [job.inbox.get(timeout=wait)]
                except queue.Empty:
                    messages = []
                while True:  # take everything already queued: one database write for all of it
                    try:
                        messages.append(job.inbox.get_nowait())
                    except queue.Empty:
                        break
                results = []
                for msg in messages:
                    if msg[0] == "cancel":
                        self._cancel_in_flight(job)
                    else:
                        results.append(self._ended(job, msg[1], msg[2], ends))
                if results:
                    self.batches.update_cells(job.batch_id, results)
                    due = True
                now = time.perf_counter()
                if due and now - last_report >= PROGRESS_INTERVAL_S:
                    self._report(job, started, ends, now)
                    last_report, due = now, False
        except Exception:  # a bug here must still end the batch cleanly
            log.exception("batch %s: runner failed", job.batch_id)
            job.engine_gone = True
            self._cancel_in_flight(job)
        finally:
            self._end(job, started, ends)

    def _start_cell(self, job: _Job, cell: Cell) -> bool:
        comparison_id = new_id()
        job.in_flight[comparison_id] = (cell, None)
        inbox = job.inbox

        def on_event(event) -> None:  # engine thread: one type check, and one put at the end
            if type(event) in ev.END_STATUS:
                inbox.put(("end", comparison_id, event))
        try:
            run_ids = self.engine.compare(job.plan.request_for(cell, comparison_id), listener=on_event).run_ids
        except Exception as exc:  # the engine or the run store was shut down under us
            log.warning("batch %s: cannot start more cells: %s", job.batch_id, exc)
            del job.in_flight[comparison_id]
            job.todo.appendleft(cell)
            job.engine_gone = job.cancelled = True
            self._cancel_in_flight(job)
            return False
        job.in_flight[comparison_id] = (cell, run_ids[0])  # its end is handled on this thread, later
        return True

    def _cancel_in_flight(self, job: _Job) -> None:
        job.cancelled = True
        for comparison_id in list(job.in_flight):
            self.engine.cancel_all(comparison_id)

    def _ended(self, job: _Job, comparison_id: str, event, ends: deque) -> CellResult:
        cell, run_id = job.in_flight.pop(comparison_id)
        status = ev.END_STATUS.get(type(event), "error")
        if run_id is not None and getattr(event, "run_id", run_id) != run_id:  # the engine broke its ordering
            log.error("batch %s: end of run %s paired with run %s", job.batch_id, event.run_id, run_id)
            status, event = "error", None
        m = event.metrics if event is not None else ev.RunMetrics()
        if status != "cancelled":
            job.done += 1
            job.errors += status == "error"
            job.cost += m.cost_usd or 0.0
            ends.append(time.perf_counter())
        return CellResult(cell.key, status, run_id or getattr(event, "run_id", None),
                          getattr(event, "error_class", None) if status == "error" else None,
                          m.cost_usd, m.ttft_ms, m.total_ms, m.output_tokens)

    def _report(self, job: _Job, started: float, ends: deque, now: float, final: bool = False) -> None:
        if job.on_progress is None:
            return
        eta = None
        if len(ends) >= 2 and ends[-1] > ends[0]:
            rate = (len(ends) - 1) / (ends[-1] - ends[0])
            eta = 0.0 if job.done >= job.total else (job.total - job.done) / rate
        progress = BatchProgress(job.batch_id, job.done, job.total, job.errors, job.cost, now - started, eta, final)
        try:
            job.on_progress(progress)
        except Exception:  # noqa: BLE001 - a broken front must not stop the batch
            log.exception("batch %s: on_progress failed", job.batch_id)

    def _end(self, job: _Job, started: float, ends: deque) -> None:
        status = "interrupted" if job.engine_gone else "cancelled" if job.cancelled else "finished"
        try:
            self.batches.set_status(job.batch_id, status, ended=True)
        except Exception:  # noqa: BLE001 - the store is closed: the next start-up marks it interrupted
            log.exception("batch %s: could not record its end", job.batch_id)
        self._report(job, started, ends, time.perf_counter(), final=True)
        with self._lock:
            self._jobs.pop(job.batch_id, None)
        job.finished.set()


def _check_concurrency(concurrency: int) -> None:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise PromptbenchError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
