"""From a prompt file's ``modelParameters``/``responseFormat`` to OpenAI-style request params."""

from __future__ import annotations

import json

_RENAMES = {"maxTokens": "max_tokens", "topP": "top_p", "frequencyPenalty": "frequency_penalty",
            "presencePenalty": "presence_penalty", "maxCompletionTokens": "max_completion_tokens",
            "stop": "stop", "seed": "seed", "temperature": "temperature"}


def snake(key: str) -> str:
    if key in _RENAMES:
        return _RENAMES[key]
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def request_params(model_parameters: dict | None, response_format: str | None = None,
                   json_schema: dict | str | None = None, catalog_params: dict | None = None) -> dict:
    """Catalog params are defaults; the prompt file's parameters win."""
    params = {snake(k): v for k, v in (catalog_params or {}).items()}
    params.update({snake(k): v for k, v in (model_parameters or {}).items() if v is not None})
    if response_format == "json_object":
        params["response_format"] = {"type": "json_object"}
    elif response_format == "json_schema" and json_schema:
        schema = json.loads(json_schema) if isinstance(json_schema, str) else json_schema
        if "schema" not in schema:
            schema = {"name": schema.get("title", "response"), "schema": schema}
        params["response_format"] = {"type": "json_schema", "json_schema": schema}
    return params
