"""The offline embedding model (core/local/embeddings.py): load time and ms per text, next to
the lexical score (``similarity`` with ``model: lexical``) on the same texts, same run.

Run: .venv/bin/python benchmarks/embeddings.py [--rounds 3] [--sts PATH]

- load: a fresh process importing the module and loading the model (import onnxruntime,
  read the tokenizer, build the session), median of ``--rounds`` processes; the baseline
  is a fresh process that only imports the module.
- ms per text: sentences (8-20 words) and paragraphs (~110 tokens), embedded two per call
  as ``similarity`` does, and sentences 32 per call as a batch of outputs would be; the
  lexical score's time for the same pairs, per text, is the baseline.
- ``--sts PATH``: Spearman x 100 of the model's cosine (and of the lexical score) against
  the gold scores of an STS Benchmark file (sts-test.csv: tab-separated, score in column 5,
  the sentences in columns 6 and 7). The data is not shipped; MTEB publishes 82.03 for the
  fp32 model on the test split.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import p50, print_table  # noqa: E402

import numpy as np  # noqa: E402

from promptbench.core.eval.evaluators.overlap import lexical_similarity  # noqa: E402
from promptbench.core.local import embeddings  # noqa: E402

SUBJECTS = ["The engineer", "A small dog", "My neighbour", "The committee", "A tired student", "The old ship"]
VERBS = ["quietly reviewed", "slowly carried", "suddenly noticed", "carefully repaired", "happily described"]
OBJECTS = ["the broken bridge near the station", "a long letter from the bank", "the garden after the storm",
           "three boxes of old photographs", "the new schedule for the spring term"]
TAILS = ["before lunch.", "while it was raining outside.", "and then went home.", "without saying a word.", "."]


def sentences(n: int) -> list[str]:
    out = []
    for i in range(n):
        parts = (SUBJECTS[i % 6], VERBS[i // 6 % 5], OBJECTS[i // 30 % 5], TAILS[i // 150 % 5])
        out.append(" ".join(parts).replace(" .", "."))
    return out


def time_ms_per_text(fn, texts: list[str], per_call: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), per_call):
        fn(texts[i:i + per_call])
    return (time.perf_counter() - start) * 1000 / len(texts)


def lexical_pairs(texts: list[str]) -> None:
    for i in range(0, len(texts) - 1, 2):
        lexical_similarity(texts[i], texts[i + 1])


def fresh_process_s(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def spearman(a, b) -> float:
    def ranks(x):
        x = np.asarray(x, dtype=float)
        order = x.argsort()
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        return (np.bincount(inverse, weights=r) / counts)[inverse]  # ties share their mean rank

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def sts(path: Path) -> list[list[str]]:
    gold, left, right = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        gold.append(float(cols[4]))
        left.append(cols[5])
        right.append(cols[6])
    a, b = embeddings.embed(left), embeddings.embed(right)
    model = spearman(gold, (a * b).sum(axis=1)) * 100
    lexical = spearman(gold, [lexical_similarity(x, y) for x, y in zip(left, right)]) * 100
    return [[f"STS Spearman x 100 ({len(gold)} pairs, {path.name})", f"{model:.2f}", f"{lexical:.2f}",
             f"{model / lexical:.2f}x"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sts", type=Path, help="an STS Benchmark file (sts-test.csv) to measure quality on")
    args = ap.parse_args()

    loads = [fresh_process_s("from promptbench.core.local import embeddings; embeddings.load()")
             for _ in range(args.rounds)]
    imports = [fresh_process_s("from promptbench.core.local import embeddings") for _ in range(args.rounds)]

    short = sentences(400)
    paragraphs = [" ".join(short[i:i + 8]) for i in range(0, 320, 8)]
    model = embeddings.load()
    model.embed(short[:4])  # warm: the first run allocates onnxruntime's buffers
    rows = []
    for name, texts, per_call in (("sentences, 2 per call", short, 2), ("paragraphs, 2 per call", paragraphs, 2),
                                  ("sentences, 32 per call", short, 32)):
        ms = [time_ms_per_text(model.embed, texts, per_call) for _ in range(args.rounds)]
        base = [time_ms_per_text(lexical_pairs, texts, per_call) for _ in range(args.rounds)]
        rows.append([f"ms per text: {name}", f"{p50(ms):.2f}", f"{p50(base):.4f}", f"{p50(ms) / p50(base):.0f}x"])
    load_s, import_s = statistics.median(loads), statistics.median(imports)
    rows.insert(0, ["fresh process: import + load model (s)", f"{load_s:.2f}", f"{import_s:.2f}",
                    f"+{load_s - import_s:.2f} s"])
    if args.sts:
        rows += sts(args.sts)
    tokens = model.token_counts(paragraphs)
    print_table(f"Offline embeddings: {embeddings.MODEL_ID} (int8 ONNX, 1 thread) vs the lexical score, "
                f"median of {args.rounds} (paragraphs ~{statistics.mean(tokens):.0f} tokens)",
                ["figure", "model", "baseline: lexical / import only", "ratio"], rows)


if __name__ == "__main__":
    main()
