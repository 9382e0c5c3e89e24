"""The JSON shapes of OpenAI's chat and legacy completions APIs, streamed and whole."""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sse(obj: Any) -> bytes:
    return b"data: " + dumps(obj) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


class Shapes:
    """Builds the objects of one response; ``chat`` picks chat vs legacy completions."""

    def __init__(self, chat: bool, rid: str, created: int, model: str, usage_field: bool):
        self.chat = chat
        self.rid = rid
        self.created = created
        self.model = model
        self.usage_field = usage_field  # with include_usage, OpenAI adds "usage": null to every chunk

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": self.rid,
            "object": "chat.completion.chunk" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
        }
        if self.usage_field:
            obj["usage"] = None
        return obj

    def _choice(self, content: str | None, finish: str | None, role: bool = False) -> dict[str, Any]:
        if not self.chat:
            return {"text": content or "", "index": 0, "logprobs": None, "finish_reason": finish}
        delta: dict[str, Any] = {}
        if role:
            delta["role"] = "assistant"
        if content is not None:
            delta["content"] = content
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    def first(self) -> dict[str, Any] | None:
        """The role chunk that opens a chat stream; legacy completions have none."""
        return self._chunk([self._choice("", None, role=True)]) if self.chat else None

    def delta(self, text: str) -> dict[str, Any]:
        return self._chunk([self._choice(text, None)])

    def finish(self, reason: str) -> dict[str, Any]:
        return self._chunk([self._choice(None if self.chat else "", reason)])

    def usage(self, usage: dict[str, int]) -> dict[str, Any]:
        obj = self._chunk([])
        obj["usage"] = usage
        return obj

    def whole(self, content: str, reason: str, usage: dict[str, int]) -> dict[str, Any]:
        if self.chat:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": reason,
            }
        else:
            choice = {"text": content, "index": 0, "logprobs": None, "finish_reason": reason}
        return {
            "id": self.rid,
            "object": "chat.completion" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [choice],
            "usage": usage,
        }
