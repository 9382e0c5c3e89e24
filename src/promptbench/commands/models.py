"""``promptbench models``: the catalog, embedded local and detected Ollama models.

Shows where each model's key comes from and whether it is available: never the key.
"""

from __future__ import annotations

import argparse
import json
import sys

from promptbench.core.settings.config import list_all_models, load_settings
from promptbench.core.errors import PromptbenchError
from promptbench.core.local.catalog import get_local_model, list_local_models
from promptbench.core.providers.pricing import price_per_mtok
from promptbench.core.redaction import redact
from promptbench.core.settings.secrets import key_status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models you can run: catalog (promptbench.toml), local, Ollama")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-ollama", action="store_true", help="do not look for an Ollama server on 127.0.0.1:11434")
    p.set_defaults(handler=cmd_models)


def model_rows(settings, detect_ollama: bool = True) -> list[dict]:
    """One dict per model, ready for JSON or a table. Holds no key."""
    local_specs = {spec.id: spec for spec in list_local_models()}
    rows = []
    for cfg in list_all_models(settings, detect_ollama=detect_ollama):
        status = key_status(cfg)
        price_in, price_out, price_note = price_per_mtok(cfg)
        local_available, local_detail = _local_status(cfg, local_specs) if cfg.is_local else (None, None)
        rows.append({
            "name": cfg.name, "model": cfg.model, "provider": cfg.provider, "source": cfg.source,
            "api_base": cfg.api_base, "default": cfg.name in settings.default_models or cfg.model in settings.default_models,
            "key_source": status["source"], "key_available": status["available"], "key_detail": status["detail"],
            "input_cost_per_mtok": price_in, "output_cost_per_mtok": price_out, "price_note": price_note,
            "local_available": local_available, "local_detail": local_detail,
        })
    return rows


def _local_status(cfg, specs: dict) -> tuple[bool, str]:
    spec = specs.get(cfg.model)
    if spec is None:  # local/file:... or a name registered elsewhere
        try:
            spec = get_local_model(cfg.model)
        except PromptbenchError as exc:
            return False, str(exc)
    return spec.available, spec.why_unavailable or spec.description


def _price(value: float | None) -> str:
    return "unknown" if value is None else f"${value:g}"


def _table(rows: list[dict]) -> str:
    header = ("NAME", "MODEL", "PROVIDER", "SOURCE", "KEY", "PRICE IN/OUT PER MTOK", "STATUS")
    lines = [header]
    for row in rows:
        if row["local_available"] is not None:
            status = "ready" if row["local_available"] else f"unavailable: {row['local_detail']}"
        elif row["key_available"]:
            status = "ready"
        else:
            status = row["key_detail"]
        key = row["key_source"] or "-"
        if row["key_source"]:
            key += " (set)" if row["key_available"] else " (missing)"
        price = "unknown" if row["input_cost_per_mtok"] is None and row["output_cost_per_mtok"] is None \
            else f"{_price(row['input_cost_per_mtok'])} / {_price(row['output_cost_per_mtok'])}"
        name = row["name"] + (" *" if row["default"] else "")
        lines.append((name, row["model"], row["provider"], row["source"], key, price, status))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    out = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + str(line[-1]) for line in lines]
    return "\n".join(out) + "\n* = compared by default ([compare] default_models)\n"


def cmd_models(args) -> int:
    from promptbench.commands._common import workspace_dir

    settings = load_settings(workspace_dir(args))
    rows = model_rows(settings, detect_ollama=not args.no_ollama)
    if args.json:
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    else:
        text = _table(rows)
    sys.stdout.write(redact(text))  # belt and braces: nothing we print carries a key
    return 0
