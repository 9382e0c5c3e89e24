"""A short fault soak (benchmarks/soak.py has the 1,000-run one with timings and RSS).

Every fault kind the fake server knows, drawn at random (seeded) into comparisons of 8
runs, three comparisons streaming at once, first-token and idle timeouts of 1 s: every
run must end with its fault's status and error class, no comparison may outlast its
wait timeout, and the real SQLite RunStore must hold every run with a final status.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "promptbench_bench_soak", Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py")
soak_mod = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = soak_mod  # dataclasses look their module up there
_SPEC.loader.exec_module(soak_mod)


def test_fault_soak_every_run_ends_as_expected_and_is_stored(openai_server, tmp_path):
    result = soak_mod.soak(openai_server, tmp_path, runs=120, models_per_comparison=8, concurrent=3, seed=20240601,
                           first_token_s=1.0, idle_s=1.0, wave_timeout_s=8.0)
    everything = result.warmup + result.outcomes
    assert len(result.outcomes) == 120 and len(result.warmup) == len(soak_mod.KINDS)
    assert {o.kind for o in everything} == set(soak_mod.KINDS)  # the warm-up alone covers every kind
    assert result.hung_comparisons == 0
    assert [o for o in everything if o.status not in ("finished", "error", "cancelled")] == []
    unexpected = [o for o in everything if not o.expected]
    assert unexpected == [], unexpected[:5]
    assert result.db_rows == len(everything)
    assert result.db_statuses.get("running", 0) == 0 and set(result.db_statuses) <= {"finished", "error"}
    assert result.seconds < 60  # the wave timeouts bound it: 6 waves x 8 s at most, ~7 s in practice
