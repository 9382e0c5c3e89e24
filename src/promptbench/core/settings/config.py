"""Workspace settings and the model catalog: ``promptbench.toml`` at the workspace root.

The file is committed with the prompts, so it never holds a key: a model says *where*
its key comes from (``api_key_env`` or ``keyring``). :func:`load_settings` refuses a
literal ``api_key`` and any value shaped like a key. Nothing here imports litellm.
Reading only: :mod:`promptbench.core.settings.write` changes the file.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptbench.core.errors import PromptbenchError
from promptbench.core.providers.litellm_setup import provider_for
from promptbench.core.local.gguf import MODES as LOCAL_MODEL_MODES, AddedModel, name_problem, use_workspace_models
from promptbench.core.local.catalog import PREFIX as LOCAL_PREFIX, GEMMA3_ID, SMOLLM2_ID, list_local_models
from promptbench.core.settings.globs import glob_problem
from promptbench.core.redaction import looks_like_key

FILE_NAME = "promptbench.toml"
OLLAMA_BASE = "http://127.0.0.1:11434"
LOCAL_MODES = ("sequential", "parallel")
# [eval] judging: how an LLM judge's reply is read (core/eval/judging.py tells the two apart)
GITHUB, STRICT = "github", "strict"
JUDGING_MODES = (GITHUB, STRICT)
DEFAULT_PASS_THRESHOLD = 0.5  # [eval] pass_threshold: the strict reading passes at score >=
DEFAULT_COMPARE_MODELS = (SMOLLM2_ID, GEMMA3_ID)
SECRET_FIELDS = frozenset({"api_key", "apikey", "api-key", "secret", "secret_key", "password", "access_token", "auth_token"})
_MODEL_FIELDS = {"model": str, "api_base": str, "api_key_env": str, "keyring": str,
                 "input_cost_per_mtok": (int, float), "output_cost_per_mtok": (int, float),
                 "params": dict, "max_concurrency": int}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TO_DO = ("put the key in an environment variable and write api_key_env = \"OPENAI_API_KEY\", "
          "or store it in the OS keyring and write keyring = \"promptbench/openai\"; "
          "if this file was committed with the key, rotate the key")


class ConfigError(PromptbenchError):
    """promptbench.toml is unreadable or invalid; names the line, field and the fix."""


@dataclass(frozen=True)
class ModelConfig:
    name: str  # catalog name, or the raw string for ad-hoc models
    model: str  # litellm model string, or "local/<id>"
    provider: str  # "openai", "anthropic", "local", "ollama", ...; "unknown" if it cannot be told
    api_base: str | None = None
    api_key_env: str | None = None
    keyring: str | None = None  # "service/username" or "service" (username "api_key")
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    params: dict = field(default_factory=dict, hash=False)
    max_concurrency: int | None = None
    source: str = "ad-hoc"  # "catalog" | "local" | "ollama" | "ad-hoc"
    is_local: bool = False  # the embedded llama.cpp models ("local/..."); not ollama


@dataclass(frozen=True)
class Settings:
    local_mode: str = "sequential"
    default_models: list[str] = field(default_factory=lambda: list(DEFAULT_COMPARE_MODELS))
    models: dict[str, ModelConfig] = field(default_factory=dict)
    provider_concurrency: dict[str, int] = field(default_factory=dict)
    connect_timeout_s: float = 10.0
    first_token_timeout_s: float = 60.0
    idle_timeout_s: float = 30.0
    max_retries: int = 3
    eval_judge_model: str | None = None  # [eval] judge_model: judges every llm/uses evaluator (overrides modelId)
    eval_embedding_model: str | None = None  # [eval] embedding_model: similarity's default (None: the offline local/all-minilm-l6-v2)
    eval_concurrency: int = 4  # [eval] concurrency: cells of an eval in flight at once
    eval_judging: str = GITHUB  # [eval] judging: "github" or "strict" (core/eval/judging.py)
    eval_pass_threshold: float = DEFAULT_PASS_THRESHOLD  # [eval] pass_threshold: the strict reading passes at score >=
    local_models: dict[str, AddedModel] = field(default_factory=dict)  # [local.models.<name>]: added GGUF files
    prompt_globs: tuple[str, ...] = ()  # [workspace] prompt_globs: more files listed as prompts (core/settings/globs.py)


# -- loading ------------------------------------------------------------------

def config_path(workspace_root: Path) -> Path:
    return Path(workspace_root) / FILE_NAME


def load_settings(workspace_root: Path) -> Settings:
    """The workspace's settings; defaults if promptbench.toml is missing. Registers its
    added GGUF files as ``local/<name>`` (core/local_gguf.py)."""
    settings = parse_settings(read_config_text(workspace_root))
    use_workspace_models(settings.local_models, workspace_root)
    return settings


def read_prompt_globs(workspace_root: Path) -> tuple[str, ...]:
    """``[workspace] prompt_globs`` alone (all that listing prompts needs), checked as load_settings checks it."""
    text = read_config_text(workspace_root)
    return _prompt_globs(_load_toml(text), text)


def read_config_text(workspace_root: Path, *, as_written: bool = False) -> str:
    """The file's text ("" if there is none); ``as_written`` keeps its line endings (to rewrite it)."""
    path = config_path(workspace_root)
    try:
        return path.read_bytes().decode("utf-8") if as_written else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{FILE_NAME}: cannot read it ({exc}); check the file's permissions and encoding (UTF-8)") from None


def parse_settings(text: str) -> Settings:
    data = _load_toml(text)
    refuse_secrets(data, (), text)
    return _build_settings(data, text)


def _load_toml(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{FILE_NAME}:{m.group(1)}" if m else FILE_NAME
        raise ConfigError(f"{where}: invalid TOML: {exc}; fix the syntax (strings need quotes, tables [name])") from None
    except (ValueError, RecursionError):  # a 5,000-digit number, arrays nested thousands deep
        raise ConfigError(f"{FILE_NAME}: a value is too large or nested too deeply to read; fix the file") from None


def _fail(text: str, path: tuple[str, ...], message: str) -> ConfigError:
    line = line_of(text, path)
    where = f"{FILE_NAME}:{line}" if line else FILE_NAME
    return ConfigError(f"{where}: {'.'.join(path)}: {message}")


def refuse_secrets(value: Any, path: tuple[str, ...], text: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in SECRET_FIELDS:
                raise _fail(text, (*path, key), f"a literal key is refused here ({FILE_NAME} is committed to git); {_TO_DO}")
            refuse_secrets(item, (*path, str(key)), text)
    elif isinstance(value, list):
        for item in value:
            refuse_secrets(item, path, text)
    elif isinstance(value, str):
        if looks_like_key(value) or (path[-1:] == ("api_key_env",) and _high_entropy(value)):
            raise _fail(text, path, f"this value looks like an API key, which must never be in {FILE_NAME}; {_TO_DO}")


def _high_entropy(value: str) -> bool:
    """A long random-looking string (a key pasted where an env var *name* belongs)."""
    n = len(value)
    entropy = -sum(value.count(c) / n * math.log2(value.count(c) / n) for c in set(value)) if n >= 20 else 0.0
    digits = sum(c.isdigit() for c in value) / max(n, 1)
    cases = any(c.islower() for c in value) and any(c.isupper() for c in value) and digits > 0
    return entropy > 3.5 and ("_" not in value or digits >= 0.2 or cases or not _ENV_NAME.match(value))


def _table(data: dict, key: str, text: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(text, (key,), f"expected a table [{key}], got {type(value).__name__}")
    return value


def _as_float(value) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _typed(table: dict, key: str, types: Any, path: tuple[str, ...], text: str, default: Any = None,
           above: float | None = None, at_least: float | None = None) -> Any:
    """table[key] checked against ``types`` (bool is never a number) and a lower bound."""
    if key not in table:
        return default
    value, kinds = table[key], (types if isinstance(types, tuple) else (types,))
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(t.__name__ for t in kinds).replace("int or float", "a number")
        raise _fail(text, (*path, key), f"expected {names}, got {type(value).__name__}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(_as_float(value)):
        raise _fail(text, (*path, key), "must be a finite number of reasonable size")
    if (above is not None and value <= above) or (at_least is not None and value < at_least):
        bound = f"> {above}" if above is not None else f">= {at_least}"
        raise _fail(text, (*path, key), f"must be {bound}, got {value}")
    return value


def _build_settings(data: dict, text: str) -> Settings:
    local, compare = _table(data, "local", text), _table(data, "compare", text)
    timeouts, retries, evals = _table(data, "timeouts", text), _table(data, "retries", text), _table(data, "eval", text)
    for name, table, known in (("local", local, {"mode", "models"}), ("compare", compare, {"default_models"}),
                               ("timeouts", timeouts, {"connect_s", "first_token_s", "idle_s"}), ("retries", retries, {"max"}),
                               ("eval", evals, {"judge_model", "embedding_model", "concurrency", "judging", "pass_threshold"})):
        for key in table:
            if key not in known:
                raise _fail(text, (name, key), f"unknown field; known: {', '.join(sorted(known))}")
    mode = _typed(local, "mode", str, ("local",), text, "sequential")
    if mode not in LOCAL_MODES:
        raise _fail(text, ("local", "mode"), f"expected \"sequential\" or \"parallel\", got {mode!r}")
    defaults = _typed(compare, "default_models", list, ("compare",), text, list(DEFAULT_COMPARE_MODELS))
    if not all(isinstance(m, str) and m for m in defaults):
        raise _fail(text, ("compare", "default_models"), "expected a list of model names (strings)")
    providers = {}
    for prov, table in _table(data, "providers", text).items():
        if not isinstance(table, dict) or set(table) - {"max_concurrency"}:
            raise _fail(text, ("providers", prov), "expected a table with only max_concurrency = <int>")
        if "max_concurrency" in table:
            providers[prov] = _typed(table, "max_concurrency", int, ("providers", prov), text, above=0)
    models = {name: _model_from_table(name, table, text) for name, table in _table(data, "models", text).items()}
    added = {name: _added_model(name, table, text) for name, table in _typed(local, "models", dict, ("local",), text, {}).items()}
    num, t, e = (int, float), ("timeouts",), ("eval",)
    judging = _typed(evals, "judging", str, e, text, GITHUB)
    if judging not in JUDGING_MODES:
        raise _fail(text, ("eval", "judging"), f"expected \"github\" or \"strict\", got {judging!r}")
    return Settings(
        local_mode=mode, default_models=list(defaults), models=models, provider_concurrency=providers,
        connect_timeout_s=float(_typed(timeouts, "connect_s", num, t, text, 10.0, above=0)),
        first_token_timeout_s=float(_typed(timeouts, "first_token_s", num, t, text, 60.0, above=0)),
        idle_timeout_s=float(_typed(timeouts, "idle_s", num, t, text, 30.0, above=0)),
        max_retries=_typed(retries, "max", int, ("retries",), text, 3, at_least=0),
        eval_judge_model=_typed(evals, "judge_model", str, e, text) or None,  # "" = unset, like a deleted line
        eval_embedding_model=_typed(evals, "embedding_model", str, e, text) or None,
        eval_concurrency=_typed(evals, "concurrency", int, e, text, 4, above=0), local_models=added, eval_judging=judging,
        eval_pass_threshold=float(_typed(evals, "pass_threshold", num, e, text, DEFAULT_PASS_THRESHOLD)),
        prompt_globs=_prompt_globs(data, text),
    )


def _prompt_globs(data: dict, text: str) -> tuple[str, ...]:
    """``[workspace] prompt_globs = ["**/*_prompt.yml"]``: patterns from the workspace root, never out of it."""
    table = _table(data, "workspace", text)
    for key in table:
        if key != "prompt_globs":
            raise _fail(text, ("workspace", key), "unknown field; known: prompt_globs")
    globs = _typed(table, "prompt_globs", list, ("workspace",), text, [])
    for pattern in globs:
        problem = "expected a list of glob patterns (strings)" if not isinstance(pattern, str) else glob_problem(pattern)
        if problem:
            raise _fail(text, ("workspace", "prompt_globs"), problem)
    return tuple(globs)


def _added_model(name: str, table: Any, text: str) -> AddedModel:
    path = ("local", "models", name)
    if not isinstance(table, dict):
        raise _fail(text, path, f"expected a table [local.models.{name}] with path = \"/path/to/model.gguf\"")
    for key in table:
        if key not in ("path", "mode"):
            raise _fail(text, (*path, key), "unknown field; known: path, mode")
    problem = name_problem(name)
    if problem:
        raise _fail(text, path, f"not a usable name: {problem[0].lower()}{problem[1:]}")
    file, mode = _typed(table, "path", str, path, text), _typed(table, "mode", str, path, text)
    if not file:
        raise _fail(text, path, "missing path = \"/path/to/model.gguf\"")
    if mode is not None and mode not in LOCAL_MODEL_MODES:
        raise _fail(text, (*path, "mode"), f"expected \"chat\" or \"transcript\", got {mode!r}")
    return AddedModel(name=name, path=file, mode=mode)


def _model_from_table(name: str, table: Any, text: str) -> ModelConfig:
    path = ("models", name)
    if not isinstance(table, dict):
        raise _fail(text, path, f"expected a table [models.{name}] with at least model = \"provider/model\"")
    for key in table:
        if key not in _MODEL_FIELDS:
            raise _fail(text, (*path, key), f"unknown field; known: {', '.join(_MODEL_FIELDS)}")
    vals = {key: _typed(table, key, types, path, text, at_least=0 if "cost" in key else None,
                        above=0 if key == "max_concurrency" else None) for key, types in _MODEL_FIELDS.items()}
    if not vals["model"]:
        raise _fail(text, path, "missing model = \"provider/model\" (a litellm model string or local/<id>)")
    if vals["api_key_env"] is not None and not _ENV_NAME.match(vals["api_key_env"]):
        raise _fail(text, (*path, "api_key_env"), "expected the NAME of an environment variable (letters, digits, _), e.g. OPENAI_API_KEY")
    if vals["keyring"] is not None and not vals["keyring"].split("/", 1)[0]:
        raise _fail(text, (*path, "keyring"), "expected \"service/username\" or \"service\", e.g. \"promptbench/openai\"")
    return _make_config(name, vals, source="catalog")


def _make_config(name: str, vals: dict, source: str) -> ModelConfig:
    model = vals["model"]
    provider = "local" if model.startswith(LOCAL_PREFIX) else provider_for(model)
    api_base = vals.get("api_base") or (OLLAMA_BASE if provider == "ollama" else None)
    costs = {k: (float(vals[k]) if vals.get(k) is not None else None) for k in ("input_cost_per_mtok", "output_cost_per_mtok")}
    return ModelConfig(name=name, model=model, provider=provider, api_base=api_base, api_key_env=vals.get("api_key_env"),
                       keyring=vals.get("keyring"), params=dict(vals.get("params") or {}),
                       max_concurrency=vals.get("max_concurrency"), source=source, is_local=provider == "local", **costs)


def line_of(text: str, path: tuple[str, ...]) -> int | None:
    """Best-effort 1-based line of a dotted field (for messages); None if not found."""
    table: tuple[str, ...] = ()
    best = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _header_path(line)
        if header is not None:
            table = header
            if header == path[: len(header)] and len(header) == len(path):
                best = best or number
            continue
        m = re.match(r"\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\-]+)\s*=", line)
        if m:
            full = table + tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            if full == path[: len(full)] and full:
                return number
    return best


def _header_path(line: str) -> tuple[str, ...] | None:
    m = re.match(r"\s*\[\[?\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$", line)
    if not m:
        return None
    try:
        parsed = tomllib.loads(f"{m.group(1)} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        path.append(key)
    return tuple(path)


# -- resolving and listing ------------------------------------------------------

def resolve_model(settings: Settings, name_or_model: str) -> ModelConfig:
    """A catalog name -> its config; ``local/...``, ``ollama/...`` or any litellm string -> a config."""
    text = (name_or_model or "").strip()
    if not text:
        raise ConfigError("empty model name; use a name from promptbench.toml [models.*], local/<id> or a litellm model string")
    if text in settings.models:
        return settings.models[text]
    if text.startswith(LOCAL_PREFIX):
        return _make_config(text, {"model": text, "input_cost_per_mtok": 0.0, "output_cost_per_mtok": 0.0}, "local")
    return _make_config(text, {"model": text}, "ollama" if text.startswith(("ollama/", "ollama_chat/")) else "ad-hoc")


def detect_ollama_models(timeout_s: float = 0.3) -> list[ModelConfig]:
    """Models of an Ollama server on 127.0.0.1:11434; [] quickly if none runs (a refused
    connection returns at once, a silent port after ``timeout_s``). Never raises.

    Plain http.client, no proxy: importing httpx and making its client (TLS context
    included) takes ~0.2 s, far more than asking a loopback port."""
    import http.client
    import json
    from urllib.parse import urlsplit

    try:
        url = urlsplit(OLLAMA_BASE)
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout_s)
        try:
            conn.request("GET", url.path.rstrip("/") + "/api/tags")
            response = conn.getresponse()
            if response.status != 200:
                return []
            names = [m.get("name") or m.get("model") for m in json.loads(response.read()).get("models", [])]
        finally:
            conn.close()
    except Exception:
        return []
    return [resolve_model(Settings(), f"ollama/{n}") for n in names if isinstance(n, str) and n]


def list_all_models(settings: Settings, detect_ollama: bool = True) -> list[ModelConfig]:
    """Catalog models, then the embedded local models, then detected Ollama models."""
    found: dict[str, ModelConfig] = dict(settings.models)
    # A catalog entry stands for the embedded or detected model it names, unless it is a
    # variant with its own parameters (e.g. a fixed seed): then both are listed.
    catalog_strings = {cfg.model for cfg in settings.models.values() if not cfg.params}
    extra = [resolve_model(settings, spec.id) for spec in list_local_models()]
    extra += detect_ollama_models() if detect_ollama else []
    for cfg in extra:
        if cfg.name not in found and cfg.model not in catalog_strings:
            found[cfg.name] = cfg
    return list(found.values())
