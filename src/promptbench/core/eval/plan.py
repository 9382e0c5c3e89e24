"""What an eval is before it runs: a batch plan that records itself as an eval."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from promptbench.core.batch.plan import BatchPlan
from promptbench.core.batch.plan import estimate as estimate_plan
from promptbench.core.eval.evaluators import Evaluator
from promptbench.core.prompts.promptfile import PromptFile


@dataclass
class EvalPlan(BatchPlan):
    """A BatchPlan whose stored config also says it is an eval and how to judge it."""

    eval_config: dict = field(default_factory=dict)

    def to_config(self, concurrency: int) -> dict:
        return {**super().to_config(concurrency), "kind": "eval", "eval": self.eval_config}

    @classmethod
    def wrap(cls, plan: BatchPlan, eval_config: dict) -> EvalPlan:
        fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(BatchPlan)}
        return cls(**{**fields, "run_kind": "eval_cell"}, eval_config=eval_config)


@dataclass
class PreparedEval:
    """An eval checked and planned but not started (``EvalRunner.prepare``)."""

    plan: EvalPlan
    evaluators: list[Evaluator]
    prompt: PromptFile

    def estimate(self) -> dict:
        """Cells, input tokens and the most the runs can cost (judges not included)."""
        return estimate_plan(self.plan)
