"""Automated evaluation: a batch (core/batch.py) whose cells are scored by the prompt
file's ``evaluators`` as soon as their runs end.

An eval IS a batch: its row in ``batches`` has ``"kind": "eval"`` in its config, with
the evaluator specs, the judge override and the text of the file the evaluators came
from (so a resume judges exactly as planned, even after the file changed). Results go
to ``eval_results`` (core/eval_store.py): one row per (cell run, evaluator).

Which evaluators: those of the prompt file as it is on disk now, for every version in
the eval - so versions are compared with the same yardstick.

Threads
-------
Each running eval has ONE worker thread ("promptbench-eval-<id>") with its own asyncio
loop. The batch runner's ``on_progress`` (called after it queued the cells that ended)
wakes it; the worker waits for those writes (a barrier), reads the finished cells it has
not seen and evaluates them, ``concurrency`` cells at a time. Nothing runs on the engine
thread but one dict lookup per run end (to settle judge runs).

Judges run THROUGH THE ENGINE (core/eval_judge.py), so local judges work offline;
judge runs are stored runs but never cells.

How judges' replies are read (``[eval] judging`` / ``pass_threshold``, core/judging.py) is
stored with the eval, so a resume reads them alike and a report says which reading decided.

Judge model: ``start(judge_model=)``, else ``[eval] judge_model`` from the settings; when
set it judges every ``llm`` and ``uses:`` evaluator, overriding their ``modelId``. When
neither is set, ``llm`` evaluators use their ``modelId`` and ``uses:`` built-ins
``openai/gpt-4o`` (as GitHub does).

Cancel and resume: ``cancel`` stops the batch (core/batch.py semantics) and the judges
in flight; a cell whose evaluation was cut short records nothing. ``resume`` re-runs no
finished cell and re-evaluates no evaluated cell; cells that finished but were never
evaluated (a process that died, a cancel) are evaluated first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from promptbench.core.batch.runner import BatchProgress, BatchRunner
from promptbench.core.batch.plan import BatchPlan
from promptbench.core.settings.config import ModelConfig, Settings, resolve_model
from promptbench.core.engine.engine import Engine
from promptbench.core.errors import PromptbenchError
from promptbench.core.eval.judges import CellInfo, EngineJudges, build_eval_evaluators, check_judge_models
from promptbench.core.eval.plan import EvalPlan, PreparedEval
from promptbench.core.eval.store import EvalStore, metrics_of
from promptbench.core.eval.evaluators import EvalContext, Evaluator, evaluate_all
from promptbench.core.eval.evaluators.judge import JudgeEvaluator, read_judges_as
from promptbench.core.eval.judging import judging_of
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt_bytes
from promptbench.core.db.runs import RunStore
from promptbench.core.store.promptstore import PromptStore

__all__ = ["EvalRunner", "EvalProgress", "PreparedEval"]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class EvalProgress:
    eval_id: str
    done: int                  # cells whose run ended (finished or error), incl. before a resume
    total: int
    errors: int                # cells whose run errored
    running_cost_usd: float    # of the cells (judges not included)
    elapsed_s: float
    eta_s: float | None        # of the runs (from the batch's completion rate)
    evaluated: int             # cells with their evaluation recorded
    evaluating: int            # cells being evaluated now (or waiting for a slot)
    final: bool = False


class _Job:
    """One start/resume of an eval; its mutable state belongs to its worker thread."""

    def __init__(self, eval_id: str | None, plan: BatchPlan, evaluators: list[Evaluator], prompt: PromptFile, *,
                 concurrency: int, on_progress, seen: set[str], evaluated: int):
        self.eval_id, self.plan, self.evaluators, self.prompt = eval_id, plan, evaluators, prompt
        self.concurrency, self.on_progress = concurrency, on_progress
        self.test_data = {v.version: v.prompt.test_data for v in plan.versions}
        self.judge_models = {e.name: e.model for e in evaluators if isinstance(e, JudgeEvaluator)}
        self.seen = set(seen)            # run ids evaluated, or being evaluated
        self.evaluated, self.evaluating = evaluated, 0
        self.cancelled = False
        self.batch_final = False
        self.batch_progress: BatchProgress | None = None
        self.judging: set[str] = set()   # comparison ids of judge runs in flight
        self.started = time.perf_counter()
        self.loop = asyncio.new_event_loop()
        self.wake = asyncio.Event()
        self.finished = threading.Event()
        self.report_lock = threading.Lock()
        self.last_report = float("-inf")
        self.thread: threading.Thread | None = None


class EvalRunner:
    def __init__(self, engine: Engine, runs: RunStore, store: PromptStore, settings: Settings, *,
                 batch: BatchRunner | None = None):
        self.engine, self.runs, self.store, self.settings = engine, runs, store, settings
        self.batch = batch or BatchRunner(engine, runs, store, settings)
        self.evals = EvalStore(runs)
        self.judges = EngineJudges(engine, settings)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    # --- starting ----------------------------------------------------------------------------

    def start(self, prompt_path: str, *, models: list[ModelConfig | str], versions: list[str | None] | None = None,
              test_cases: list[int] | None = None, repeats: int = 1, judge_model: str | None = None,
              concurrency: int | None = None, on_progress: Callable[[EvalProgress], None] | None = None) -> str:
        """Check the evaluators, plan and start the batch; returns the eval id (the batch id).
        Every input error is raised here, before anything runs or is written."""
        prepared = self.prepare(prompt_path, models=models, versions=versions, test_cases=test_cases, repeats=repeats,
                                judge_model=judge_model)
        return self.launch(prepared, concurrency=concurrency, on_progress=on_progress)

    def prepare(self, prompt_path: str, *, models: list[ModelConfig | str], versions: list[str | None] | None = None,
                test_cases: list[int] | None = None, repeats: int = 1, judge_model: str | None = None) -> PreparedEval:
        """``start`` without starting (pure): the evaluators checked and the batch planned, for an estimate."""
        rel = self.store.resolve(prompt_path)
        raw = self.store.read_bytes(rel)
        prompt = parse_prompt_bytes(raw, rel)
        judge = judge_model or self.settings.eval_judge_model
        embedding = self.settings.eval_embedding_model
        evaluators = build_eval_evaluators(prompt, rel, judge_model=judge, embedding_model=embedding,
                                           make_judge=self.judges.make)
        check_judge_models(self.settings, rel, evaluators)
        if not models:  # as gh models eval: the file's model; else the workspace's default models
            models = [prompt.model] if prompt.model else list(self.settings.default_models)
            if not models:
                raise PromptbenchError(f"{rel}: no model to run: the file names none (model:) and the workspace has "
                                       "no [compare] default_models; give -m MODEL")
        configs = [m if isinstance(m, ModelConfig) else resolve_model(self.settings, m) for m in models]
        plan = self.batch.plan(rel, versions=versions, test_cases=test_cases, models=configs, repeats=repeats)
        judging = {"mode": self.settings.eval_judging, "pass_threshold": self.settings.eval_pass_threshold}
        read_judges_as(evaluators, judging)
        eval_config = {"evaluators": prompt.evaluators, "judge_model": judge, "embedding_model": embedding,
                       "evaluator_kinds": [[e.name, e.kind] for e in evaluators], "source_content": raw.decode("utf-8"),
                       "judging": judging}
        return PreparedEval(EvalPlan.wrap(plan, eval_config), evaluators, prompt)

    def launch(self, prepared: PreparedEval, *, concurrency: int | None = None,
               on_progress: Callable[[EvalProgress], None] | None = None) -> str:
        """Record and start a prepared eval; returns its id."""
        concurrency = self.settings.eval_concurrency if concurrency is None else concurrency
        _check_concurrency(concurrency)
        plan = prepared.plan
        job = _Job(None, plan, prepared.evaluators, prepared.prompt, concurrency=concurrency, on_progress=on_progress,
                   seen=set(), evaluated=0)
        self._launch(job)
        try:
            eval_id = self.batch.start(plan, on_progress=lambda p: self._on_batch_progress(job, p), concurrency=concurrency)
        except BaseException:
            self._stop_worker(job)
            raise
        job.eval_id = eval_id
        job.thread.name = f"promptbench-eval-{eval_id}"
        with self._lock:
            if not job.finished.is_set():
                self._jobs[eval_id] = job
        return eval_id

    def resume(self, eval_id: str, *, on_progress: Callable[[EvalProgress], None] | None = None,
               concurrency: int | None = None) -> str:
        """Evaluate the finished cells never evaluated, and run (then evaluate) the cells not finished."""
        with self._lock:
            if eval_id in self._jobs:
                raise PromptbenchError(f"eval {eval_id} is still running; wait for it or cancel it first")
        batch = self.get(eval_id)
        config = batch["config"]
        plan = BatchPlan.from_config(batch["prompt_path"], config)
        evaluators, prompt = self._rebuild(batch)
        if concurrency is None:
            concurrency = int(config.get("concurrency") or self.settings.eval_concurrency)
        _check_concurrency(concurrency)
        seen = self.evals.evaluated_runs(eval_id)
        evaluated = sum(1 for _, run_id in self.evals.finished_cells(eval_id) if run_id in seen)
        job = _Job(eval_id, plan, evaluators, prompt, concurrency=concurrency, on_progress=on_progress, seen=seen,
                   evaluated=evaluated)
        with self._lock:
            if eval_id in self._jobs:  # another resume got here first
                raise PromptbenchError(f"eval {eval_id} is still running; wait for it or cancel it first")
            self._jobs[eval_id] = job
        self._launch(job)
        self._wake(job)  # cells that finished unevaluated: at once, not after the first run ends
        try:
            self.batch.resume(eval_id, on_progress=lambda p: self._on_batch_progress(job, p), concurrency=concurrency)
        except BaseException:
            self._stop_worker(job)
            raise
        return eval_id

    def get(self, eval_id: str) -> dict:
        """The eval's batch row (config parsed); PromptbenchError if there is no such eval."""
        batch = self.batch.get(eval_id)
        if batch is None:
            raise PromptbenchError(f"no eval {eval_id!r} in {self.runs.path}; use the id printed when the eval started")
        if batch["config"].get("kind") != "eval":
            raise PromptbenchError(f"{eval_id} is a batch but not an eval (it has no evaluators)")
        return batch

    def list_evals(self, *, prompt_path: str | None = None, limit: int = 50) -> list[dict]:
        """Evals newest first (batch rows without config)."""
        ids = {r["id"] for r in self.runs.db.query("SELECT id FROM batches WHERE json_extract(config, '$.kind') = 'eval'")}
        return [b for b in self.batch.batches.list(prompt_path=prompt_path, limit=10_000) if b["id"] in ids][:limit]

    def _rebuild(self, batch: dict) -> tuple[list[Evaluator], PromptFile]:
        config, rel = batch["config"], batch["prompt_path"]
        spec = config["eval"]
        prompt = parse_prompt_bytes(spec["source_content"].encode("utf-8"), rel)
        evaluators = build_eval_evaluators(prompt, rel, spec["evaluators"], judge_model=spec.get("judge_model"),
                                           embedding_model=spec.get("embedding_model"), make_judge=self.judges.make)
        read_judges_as(evaluators, judging_of(spec))
        return evaluators, prompt

    # --- control -----------------------------------------------------------------------------

    def cancel(self, eval_id: str) -> None:
        """Stop running cells and judges; returns at once (``wait`` for the end)."""
        with self._lock:
            job = self._jobs.get(eval_id)
        if job is None:
            return
        job.cancelled = True
        self.batch.cancel(eval_id)
        self.judges.cancel(job)
        self._wake(job)

    def wait(self, eval_id: str, timeout: float | None = None) -> bool:
        """True once the eval is not running in this process (its results are committed)."""
        with self._lock:
            job = self._jobs.get(eval_id)
        return True if job is None else job.finished.wait(timeout)

    def running(self) -> list[str]:
        with self._lock:
            return list(self._jobs)

    def mark_interrupted(self) -> int:
        return self.batch.mark_interrupted()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every running eval and wait for them."""
        for eval_id in self.running():
            self.cancel(eval_id)
        for eval_id in self.running():
            self.wait(eval_id, timeout)
        self.batch.close(timeout)

    # --- reports -----------------------------------------------------------------------------

    def report(self, eval_id: str, *, baseline: str | None = None) -> dict:
        from promptbench.core.eval.report import build_report

        return build_report(self, eval_id, baseline=baseline)

    def judge_agreement(self, prompt_path: str | None = None) -> list[dict]:
        from promptbench.core.eval.report import judge_agreement

        self.evals.barrier()
        return judge_agreement(self.evals, prompt_path)

    # --- the worker thread -------------------------------------------------------------------

    def _launch(self, job: _Job) -> None:
        job.thread = threading.Thread(target=self._worker, args=(job,), daemon=True,
                                      name=f"promptbench-eval-{job.eval_id or 'starting'}")
        job.thread.start()

    def _stop_worker(self, job: _Job) -> None:
        job.cancelled = job.batch_final = True
        self._wake(job)
        job.finished.wait(30)
        with self._lock:
            if job.eval_id is not None and self._jobs.get(job.eval_id) is job:
                del self._jobs[job.eval_id]

    @staticmethod
    def _wake(job: _Job) -> None:
        try:
            job.loop.call_soon_threadsafe(job.wake.set)
        except RuntimeError:  # the worker ended
            pass

    def _on_batch_progress(self, job: _Job, progress: BatchProgress) -> None:
        """On the batch's runner thread, after the cells that ended were queued for writing."""
        job.eval_id = job.eval_id or progress.batch_id
        job.batch_progress = progress
        if progress.final:
            job.batch_final = True
        self._wake(job)
        self._report(job, throttle=False)

    def _worker(self, job: _Job) -> None:
        asyncio.set_event_loop(job.loop)
        try:
            job.loop.run_until_complete(self._main(job))
        except Exception:  # a bug here must still end the eval cleanly; unevaluated cells wait for a resume
            log.exception("eval %s: worker failed", job.eval_id)
        finally:
            job.loop.close()
            self._end(job)

    async def _main(self, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(job.concurrency)
        tasks: set[asyncio.Task] = set()
        while True:
            await job.wake.wait()
            job.wake.clear()
            final = job.batch_final  # read BEFORE the scan: a final batch has every cell written
            if not job.cancelled and job.eval_id is not None:
                for cell in self._new_cells(job):
                    job.seen.add(cell["run_id"])
                    job.evaluating += 1
                    task = loop.create_task(self._evaluate(job, cell, slots))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if final:
                break
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _new_cells(self, job: _Job) -> list[dict]:
        self.evals.barrier()
        fresh = [run_id for _, run_id in self.evals.finished_cells(job.eval_id) if run_id and run_id not in job.seen]
        return self.evals.cells_for_runs(job.eval_id, fresh) if fresh else []

    async def _evaluate(self, job: _Job, cell: dict, slots: asyncio.Semaphore) -> None:
        try:
            async with slots:
                if job.cancelled:
                    return
                with self.judges.cell(CellInfo(job, cell["run_id"], cell["test_case"])) as info:
                    results = await evaluate_all(job.evaluators, self._context(job, cell))
                if any((r.details or {}).get("error_class") == "cancelled" for r in results):
                    return  # cut short by a cancel: nothing recorded, a resume evaluates it again
                self.evals.write_cell(job.eval_id, job.plan.prompt_path, cell, results, judge_models=job.judge_models,
                                      judge_runs=info.judge_runs)
                job.evaluated += 1
        except Exception:  # noqa: BLE001 - a bug: the cell stays unevaluated, a resume retries it
            log.exception("eval %s: evaluating run %s failed", job.eval_id, cell.get("run_id"))
        finally:
            job.evaluating -= 1
            self._report(job)

    def _context(self, job: _Job, cell: dict) -> EvalContext:
        version, tc = cell["prompt_version"], cell["test_case"]
        cases = job.test_data.get(version) or []
        rendered = job.plan.rendered.get((version, tc))
        return EvalContext(output=cell["output"] or "", test_case=cases[tc] if tc is not None and tc < len(cases) else {},
                           messages=list(rendered.messages) if rendered else [], metrics=metrics_of(cell),
                           prompt=job.prompt)

    def _report(self, job: _Job, *, throttle: bool = True, final: bool = False) -> None:
        if job.on_progress is None or job.eval_id is None:
            return
        with job.report_lock:
            now = time.perf_counter()
            if throttle and not final and now - job.last_report < PROGRESS_INTERVAL_S:
                return
            job.last_report = now
            p = job.batch_progress
            progress = EvalProgress(job.eval_id, p.done if p else 0, p.total if p else job.plan.total,
                                    p.errors if p else 0, p.running_cost_usd if p else 0.0, now - job.started,
                                    p.eta_s if p else None, job.evaluated, max(0, job.evaluating), final)
            try:
                job.on_progress(progress)
            except Exception:  # noqa: BLE001 - a broken front must not stop the eval
                log.exception("eval %s: on_progress failed", job.eval_id)

    def _end(self, job: _Job) -> None:
        try:
            self.evals.barrier()  # every result this job queued is committed
        except Exception:  # noqa: BLE001 - the store is closed: nothing more to wait for
            log.exception("eval %s: could not wait for its results to be written", job.eval_id)
        if job.eval_id is not None:
            self.batch.wait(job.eval_id, 30)  # the batch's own end is committed too
        self._report(job, final=True)
        with self._lock:  # finished is set under the lock: start() registers only a job not yet finished
            if job.eval_id is not None and self._jobs.get(job.eval_id) is job:
                del self._jobs[job.eval_id]
            job.finished.set()


def _check_concurrency(concurrency: int) -> None:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise PromptbenchError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
