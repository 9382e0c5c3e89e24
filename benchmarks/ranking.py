"""Preference ranking: fit + cluster bootstrap on 40 contestants, 20,000 votes, 200 rounds.

Run: .venv/bin/python benchmarks/ranking.py [--contestants 40] [--votes 20000] [--cases 500] [--rounds 200]
Votes are simulated from known Davidson strengths with ties (nu = 0.5) and a left-side
advantage (gamma = 1.25).  Prints the time to turn battles into count tables and fit once
(``fit(..., bootstrap_rounds=0)``), the bootstrap on top of that, the total against the 2 s
target, and how well the fit recovered the true order and parameters.
Exit status 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import p50, print_table  # noqa: E402

TARGET_S = 2.0
TRUE_NU, TRUE_GAMMA = 0.5, 1.25


def simulate(k: int, n: int, cases: int, seed: int):
    from promptbench.core.ranking.leaderboard import Battle, Contestant

    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 0.8, k)
    cs = [Contestant(f"prompt{i:02d}", f"v{i % 4}", f"model{i % 5}") for i in range(k)]
    i = rng.integers(0, k, n)
    j = (i + rng.integers(1, k, n)) % k
    b_left = rng.random(n) < 0.5
    s_left = np.exp(np.where(b_left, theta[j], theta[i])) * TRUE_GAMMA
    s_right = np.exp(np.where(b_left, theta[i], theta[j]))
    s_tie = TRUE_NU * np.sqrt(s_left * s_right)
    u = rng.random(n) * (s_left + s_right + s_tie)
    outcome = np.where(u < s_left, 0, np.where(u < s_left + s_right, 1, 2))
    bad = rng.random(n) < 0.3
    case = rng.integers(0, cases, n)
    battles = []
    for t in range(n):
        if outcome[t] == 2:
            winner = "both_bad" if bad[t] else "tie"
        else:
            winner = "a" if (outcome[t] == 0) != bool(b_left[t]) else "b"
        battles.append(Battle(cs[i[t]], cs[j[t]], winner, f"case{case[t]}", "b" if b_left[t] else "a"))
    return theta, cs, battles


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    upper = np.triu_indices(len(x), 1)
    return float((dx[upper] * dy[upper]).mean())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contestants", type=int, default=40)
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions; the median is reported")
    args = parser.parse_args()
    from promptbench.core.ranking.leaderboard import fit

    theta, cs, battles = simulate(args.contestants, args.votes, args.cases, seed=1)
    fit(battles[:200], bootstrap_rounds=5)          # warm numpy/BLAS once, outside the timings
    fit_s, total_s = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        fit(battles, bootstrap_rounds=0)
        fit_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        lb = fit(battles, bootstrap_rounds=args.rounds, seed=0)
        total_s.append(time.perf_counter() - start)
    fit_t, total_t = p50(fit_s), p50(total_s)
    boot_t = max(total_t - fit_t, 0.0)
    ok = total_t <= TARGET_S

    by = {r.contestant: r for r in lb.ratings}
    est = np.array([by[c].rating for c in cs])
    truth = 1000 + 400 / math.log(10) * (theta - theta.mean())
    covered = np.mean([by[c].ci_low <= t <= by[c].ci_high for c, t in zip(cs, truth)])
    width = np.mean([r.ci_high - r.ci_low for r in lb.ratings])

    print_table(
        f"ranking: {args.contestants} contestants, {args.votes:,} votes on {args.cases} test cases, "
        f"{args.rounds} bootstrap rounds (median of {args.repeat})",
        ["phase", "seconds", "per round ms"],
        [
            ["prepare + full-data fit", f"{fit_t:.3f}", ""],
            ["cluster bootstrap", f"{boot_t:.3f}", f"{1000 * boot_t / max(args.rounds, 1):.2f}"],
            ["total", f"{total_t:.3f}", ""],
            ["target", f"{TARGET_S:.3f}", f"{'ok' if ok else 'MISSED'} ({total_t / TARGET_S:.0%} of target)"],
        ],
    )
    print_table(
        "recovery (truth = simulated log-strengths centred to mean 0)",
        ["measure", "value"],
        [
            ["Spearman(rating, truth)", f"{spearman(est, theta):.4f}"],
            ["Kendall tau(rating, truth)", f"{kendall(est, theta):.4f}"],
            ["max |rating - truth| (points)", f"{np.abs(est - truth).max():.1f}"],
            [f"{lb.confidence:.0%} intervals covering truth", f"{covered:.0%} of {len(cs)}"],
            ["mean interval width (points)", f"{width:.1f}"],
            ["tie strength nu (true 0.5)", f"{lb.tie_strength:.3f}  [{lb.tie_strength_ci[0]:.3f}, {lb.tie_strength_ci[1]:.3f}]"],
            [f"left advantage gamma (true {TRUE_GAMMA})",
             f"{lb.left_advantage:.3f}  [{lb.left_advantage_ci[0]:.3f}, {lb.left_advantage_ci[1]:.3f}]"],
        ],
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
