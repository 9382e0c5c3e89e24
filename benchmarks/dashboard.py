"""Realistic synthetic run history for the dashboard benchmark and screenshots.

``populate(runs, n=100_000, days=90, seed=7)`` fills a RunStore with ``n`` finished
runs spread over ``days`` days ending now: 8 models on 4 providers, 6 prompts with
3-6 versions each (a new version takes over from its release day on), ~3 % errors
whose classes depend on the provider, a few latency spikes, output length drifting
with the version, plus thumbs and pairwise votes on some runs (and evaluation results
when the ``eval_results`` table exists). The same seed gives the same data.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import datetime, timedelta, timezone

# name, litellm model, provider, median TTFT ms, tokens/s, $ per M input, $ per M output, quality
MODELS = [
    ("gpt-4o-mini", "openai/gpt-4o-mini", "openai", 380, 95, 0.15, 0.60, 0.62),
    ("gpt-4o", "openai/gpt-4o", "openai", 520, 70, 2.50, 10.0, 0.74),
    ("claude-haiku", "anthropic/claude-3-5-haiku", "anthropic", 450, 85, 0.80, 4.00, 0.66),
    ("claude-sonnet", "anthropic/claude-3-5-sonnet", "anthropic", 700, 60, 3.00, 15.0, 0.80),
    ("gemini-flash", "gemini/gemini-1.5-flash", "google", 330, 140, 0.075, 0.30, 0.58),
    ("gemini-pro", "gemini/gemini-1.5-pro", "google", 610, 65, 1.25, 5.00, 0.72),
    ("smollm2-135m", "local/smollm2-135m-instruct", "local", 120, 12, 0.0, 0.0, 0.25),
    ("gemma3-270m", "local/gemma3-270m", "local", 160, 9, 0.0, 0.0, 0.30),
]
MODEL_WEIGHTS = [24, 10, 14, 9, 16, 8, 11, 8]
PROMPTS = ["summarize.prompt.yml", "classify-ticket.prompt.yml", "extract-invoice.prompt.yml",
           "translate.prompt.yml", "support/reply.prompt.yml", "sql-helper.prompt.yml"]  # fmt: skip
ERRORS = {  # provider -> (error class, weight), message
    "openai": [("rate_limit", 6, "Rate limit reached for gpt-4o-mini in organization org-demo on tokens per min"),
               ("server", 2, "The server had an error while processing your request"),
               ("timeout", 1, "Request timed out after 60 s")],
    "anthropic": [("server", 5, "Overloaded"), ("rate_limit", 2, "rate_limit_error: Number of requests exceeded"),
                  ("connection", 1, "Connection reset by peer")],
    "google": [("rate_limit", 3, "Resource has been exhausted (e.g. check quota)"),
               ("content_filter", 2, "Response blocked by safety settings"), ("server", 1, "Internal error")],
    "local": [("timeout", 4, "local server did not answer within 120 s"), ("connection", 3, "connection refused")],
}  # fmt: skip
WORDS = ("the model answers with a short and clear summary of each point in the request while keeping "
         "names dates and amounts exactly as given and it avoids adding facts").split()  # fmt: skip


def _sha(*parts) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _versions(rng: random.Random, days: int) -> dict[str, list[tuple[float, str, float]]]:
    """prompt -> [(release day, version sha, output length factor)], oldest first."""
    out = {}
    for i, prompt in enumerate(PROMPTS):
        k = rng.randint(3, 6)
        starts = sorted([0.0] + [rng.uniform(3, days - 2) for _ in range(k - 1)])
        factor, items = 1.0, []
        for j, start in enumerate(starts):
            items.append((start, _sha(prompt, j), factor))
            factor *= rng.uniform(0.75, 1.35)  # each version drifts the output length
        out[prompt] = items
    return out


def _text(rng: random.Random, n_chars: int) -> str:
    words, size = [], 0
    while size < n_chars:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)[:n_chars]


def generate(n: int = 100_000, days: int = 90, seed: int = 7, end: datetime | None = None,
             text_chars: int = 160):  # fmt: skip
    """Yield ``n`` run rows for ``RunStore.insert_many_runs`` (oldest first)."""
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc).replace(microsecond=0)
    start = end - timedelta(days=days)
    versions = _versions(rng, days)
    spikes = {rng.randrange(days): rng.choice(["openai", "anthropic", "google"]) for _ in range(4)}
    offsets = sorted(rng.random() * days for _ in range(n))
    for i, day_f in enumerate(offsets):
        name, model, provider, ttft_med, tps_mean, p_in, p_out, _q = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        prompt = rng.choice(PROMPTS)
        live = [v for v in versions[prompt] if v[0] <= day_f]
        _, version, factor = live[-1] if rng.random() < 0.85 or len(live) == 1 else rng.choice(live[:-1])
        started = start + timedelta(days=day_f)
        spike = 3.0 if spikes.get(int(day_f)) == provider else 1.0
        ttft = rng.lognormvariate(math.log(ttft_med * spike), 0.35)
        tps = max(1.0, rng.gauss(tps_mean, tps_mean * 0.12))
        out_tokens = max(1, int(rng.lognormvariate(math.log(180 * factor), 0.45)))
        in_tokens = 150 + PROMPTS.index(prompt) * 170 + rng.randint(0, 120)
        row = {"id": f"run{i:06d}-{_sha(seed, i)[:8]}", "prompt_path": prompt, "prompt_version": version,
               "test_case": rng.randrange(6), "model_name": name, "model": model, "provider": provider,
               "params": {"temperature": 0.2}, "started_at": started}  # fmt: skip
        roll = rng.random()
        if roll < 0.03 * (2.5 if spike > 1 else 1.0):
            cls, _w, message = rng.choices(ERRORS[provider], [e[1] for e in ERRORS[provider]])[0]
            total = ttft * rng.uniform(0.5, 3)
            row.update(status="error", error_class=cls, error=message, ttft_ms=None, tokens_per_s=None,
                       total_ms=total, input_tokens=in_tokens, output_tokens=0, cost_usd=0.0 if p_in == 0 else None,
                       output="", output_chars=0, ended_at=started + timedelta(milliseconds=total))  # fmt: skip
        else:
            total = ttft + out_tokens / tps * 1000
            cost = (in_tokens * p_in + out_tokens * p_out) / 1e6
            status = "cancelled" if roll > 0.996 else "finished"
            row.update(status=status, ttft_ms=round(ttft, 2), tokens_per_s=round(tps, 2),
                       itl_p50_ms=round(1000 / tps, 2), itl_p95_ms=round(1600 / tps, 2), total_ms=round(total, 2),
                       input_tokens=in_tokens, input_tokens_reported=True, output_tokens=out_tokens,
                       tokens_reported=True, cost_usd=cost, finish_reason="stop",
                       output=_text(rng, min(text_chars, int(out_tokens * 4.3))),
                       output_chars=int(out_tokens * 4.3), ended_at=started + timedelta(milliseconds=total))  # fmt: skip
        row["messages"] = [{"role": "user", "content": f"{prompt} case {row['test_case']}"}]
        yield row


def _quality(model_name: str) -> float:
    return next(m[7] for m in MODELS if m[0] == model_name)


def populate(runs, n: int = 100_000, days: int = 90, seed: int = 7, judgements: bool = True,
             end: datetime | None = None) -> int:  # fmt: skip
    """Fill ``runs`` (a RunStore) with ``n`` runs and, with ``judgements``, thumbs on ~3 % of
    them, pairwise votes on ~1 % and (when the table exists) evaluation results on ~10 %.
    Blocks until everything is written. Returns the number of runs."""
    from promptbench.core.db import to_utc_iso

    rng = random.Random(seed + 1)
    rows = list(generate(n, days, seed, end))
    runs.insert_many_runs(rows)
    if judgements:
        thumbs, votes, evals = [], [], []
        by_key: dict[tuple, dict] = {}
        for r in rows:
            if r["status"] != "finished":
                continue
            q = _quality(r["model_name"])
            created = to_utc_iso(r["ended_at"] + timedelta(minutes=rng.randint(1, 600)))
            if rng.random() < 0.03:
                thumbs.append({"id": f"th-{r['id']}", "created_at": created, "run_id": r["id"], "prompt": r["prompt_path"],
                               "version": r["prompt_version"], "model": r["model_name"], "test_case": str(r["test_case"]),
                               "value": 1 if rng.random() < q else -1, "voter": "demo"})  # fmt: skip
            if rng.random() < 0.10:
                evals.append({"batch_id": "demo", "run_id": r["id"], "prompt_path": r["prompt_path"],
                              "prompt_version": r["prompt_version"], "model_name": r["model_name"],
                              "test_case": r["test_case"], "evaluator": "contains keywords", "kind": "string",
                              "passed": int(rng.random() < q + 0.15), "score": None, "reason": None, "error": None,
                              "created_at": created})  # fmt: skip
            key = (r["prompt_path"], r["prompt_version"], r["test_case"])
            other = by_key.get(key)
            if other is not None and other["model_name"] != r["model_name"] and rng.random() < 0.08:
                qa, qb = _quality(other["model_name"]), _quality(r["model_name"])
                roll = rng.random()
                winner = "tie" if roll < 0.1 else "both_bad" if roll < 0.13 else ("a" if rng.random() < qa / (qa + qb) else "b")
                votes.append({"id": f"vote-{r['id']}", "created_at": created, "voter": "demo", "blind": 1,
                              "kind": "pairwise", "test_case": str(r["test_case"]), "prompt_path": r["prompt_path"],
                              "source": "app", "a_prompt": key[0], "a_version": key[1], "a_model": other["model_name"],
                              "b_prompt": key[0], "b_version": key[1], "b_model": r["model_name"],
                              "a_run_id": other["id"], "b_run_id": r["id"], "winner": winner,
                              "left_side": rng.choice("ab")})  # fmt: skip
                by_key.pop(key)
            else:
                by_key[key] = r

        def write(db):  # bulk demo data straight through the store's one writer thread
            with db.atomic():
                db.table("thumbs").insert_all(thumbs, batch_size=500)
                db.table("votes").insert_all(votes, batch_size=500)
                if "eval_results" in db.table_names():
                    db.table("eval_results").insert_all(evals, batch_size=500)

        runs._writer.submit("demo judgements", write)
    runs.flush(timeout=600)
    return len(rows)


def create_eval_table(runs) -> None:
    """The ``eval_results`` table as migration m004_eval will create it, for a benchmark
    database made before that migration exists (never call this on a real workspace)."""

    def fn(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS eval_results (id INTEGER PRIMARY KEY, batch_id TEXT, run_id TEXT,"
            " prompt_path TEXT, prompt_version TEXT, model_name TEXT, test_case INTEGER, evaluator TEXT, kind TEXT,"
            " passed INTEGER, score REAL, reason TEXT, error TEXT, created_at TEXT NOT NULL)"
        )

    runs._writer.submit("eval_results for the benchmark", fn, wait=True, timeout=60)


if __name__ == "__main__":  # quick look at a few rows
    for row in list(generate(5, seed=1)):
        print(json.dumps(row, default=str)[:300])
