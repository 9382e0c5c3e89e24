"""What changed between two versions of a prompt, as data and as one line of text.

``structured_diff`` returns plain JSON-able data for the GUI and the CLI;
``describe_change`` turns the same comparison into a short commit message.
Messages and test cases are aligned with difflib, so inserting one item in the middle
shows as one addition rather than every later item "changed".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from difflib import SequenceMatcher
from typing import Any

from promptbench.core.figures import plural
from promptbench.core.prompts.promptfile import PromptFile
from promptbench.core.prompts.schema import EVALUATOR_SECTIONS, GITHUB_IGNORED_PARAMETERS, KNOWN_FIELDS

SCALAR_FIELDS = ("name", "description", "model", "responseFormat", "jsonSchema")
_MAX_SUBJECT = 72


def _plain(prompt: PromptFile | dict | None) -> dict | None:
    if prompt is None:
        return None
    if isinstance(prompt, PromptFile):
        return prompt.to_plain()
    return dict(prompt)


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


Change = tuple[str, int | None, int | None]


def align(old: list, new: list, key: Callable[[Any], Hashable], loose: Callable[[Any], Hashable]) -> list[Change]:
    """(change, old_index, new_index) for every item that is not equal in both lists.
    Items are matched on *key*; inside a replaced run they are paired on *loose*
    (e.g. the role), so an edit next to an insertion is still one edit plus one add."""
    out: list[Change] = []
    matcher = SequenceMatcher(None, [key(x) for x in old], [key(x) for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            out.extend(("removed", i, None) for i in range(i1, i2))
            continue
        if tag == "insert":
            out.extend(("added", None, j) for j in range(j1, j2))
            continue
        inner = SequenceMatcher(None, [loose(x) for x in old[i1:i2]], [loose(x) for x in new[j1:j2]], autojunk=False)
        for itag, a1, a2, b1, b2 in inner.get_opcodes():
            pairs = min(a2 - a1, b2 - b1) if itag in ("equal", "replace") else 0
            out.extend(("changed", i1 + a1 + k, j1 + b1 + k) for k in range(pairs))
            out.extend(("removed", i1 + i, None) for i in range(a1 + pairs, a2))
            out.extend(("added", None, j1 + j) for j in range(b1 + pairs, b2))
    return out


def _pair(old: Any, new: Any) -> dict | None:
    return None if old == new else {"old": old, "new": new}


def _message_parts(message: Any) -> tuple[Any, Any]:
    message = _as_dict(message)
    return message.get("role"), message.get("content")


def _diff_messages(old: list, new: list) -> list[dict]:
    entries = []
    for change, oi, ni in align(old, new, _message_parts, lambda m: _message_parts(m)[0]):
        old_role, old_content = _message_parts(old[oi]) if oi is not None else (None, None)
        new_role, new_content = _message_parts(new[ni]) if ni is not None else (None, None)
        entries.append({
            "index": ni if ni is not None else oi,
            "old_index": oi,
            "new_index": ni,
            "change": change,
            "role": _pair(old_role, new_role),
            "content": _pair(old_content, new_content),
        })
    return entries


def _diff_keys(old: dict, new: dict, key_name: str) -> list[dict]:
    entries = []
    for key in [*new, *(k for k in old if k not in new)]:
        if key not in old:
            change = "added"
        elif key not in new:
            change = "removed"
        elif old[key] != new[key]:
            change = "changed"
        else:
            continue
        entries.append({key_name: key, "old": old.get(key), "new": new.get(key), "change": change})
    return entries


def _diff_test_data(old: list, new: list) -> list[dict]:
    entries = []
    for change, oi, ni in align(old, new, _frozen, lambda case: tuple(sorted(map(str, _as_dict(case))))):
        before = _as_dict(old[oi]) if oi is not None else {}
        after = _as_dict(new[ni]) if ni is not None else {}
        entries.append({
            "index": ni if ni is not None else oi,
            "old_index": oi,
            "new_index": ni,
            "change": change,
            "keys": _diff_keys(before, after, "key"),
        })
    return entries


def _diff_evaluators(old: dict, new: dict) -> list[dict]:
    """Evaluators by name across both sections (GitHub's ``evaluators`` and promptbench's
    own): one moved between them is ``changed``, with ``old_section`` and ``section``."""
    def by_name(data: dict) -> dict[str, tuple[str, Any]]:
        named: dict[str, tuple[str, Any]] = {}
        for section in EVALUATOR_SECTIONS:
            for i, ev in enumerate(_as_list(data.get(section))):
                name = _as_dict(ev).get("name")
                named.setdefault(name if isinstance(name, str) else f"#{i}", (section, ev))
        return named

    before, after = by_name(old), by_name(new)
    entries = []
    for name in [*after, *(n for n in before if n not in after)]:
        if name not in before:
            change = "added"
        elif name not in after:
            change = "removed"
        elif before[name] != after[name]:
            change = "changed"
        else:
            continue
        old_section, old_ev = before.get(name, (None, None))
        section, new_ev = after.get(name, (old_section, None))
        entries.append({"name": name, "change": change, "old": old_ev, "new": new_ev,
                        "section": section, "old_section": old_section or section})
    return entries


def structured_diff(old: PromptFile | dict | None, new: PromptFile | dict | None) -> dict:
    """Field-by-field comparison of two prompt versions (None = the file is absent)."""
    before, after = _plain(old), _plain(new)
    if before is None and after is None:
        status = "unchanged"
    elif before is None:
        status = "created"
    elif after is None:
        status = "deleted"
    else:
        status = "modified" if before != after else "unchanged"
    before, after = before or {}, after or {}
    unknown = [k for k in [*after, *before] if k not in KNOWN_FIELDS]
    diff = {
        "change": status,
        "fields": [
            {"field": f, "old": before.get(f), "new": after.get(f)}
            for f in SCALAR_FIELDS
            if before.get(f) != after.get(f)
        ],
        "modelParameters": _diff_keys(_as_dict(before.get("modelParameters")), _as_dict(after.get("modelParameters")), "key"),
        "messages": _diff_messages(_as_list(before.get("messages")), _as_list(after.get("messages"))),
        "testData": _diff_test_data(_as_list(before.get("testData")), _as_list(after.get("testData"))),
        "evaluators": _diff_evaluators(before, after),
        "other": _diff_keys({k: before[k] for k in unknown if k in before}, {k: after[k] for k in unknown if k in after}, "field"),
    }
    diff["summary"] = _summary(diff)
    return diff


# -- words -------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:29] + "…"


def _by_change(entries: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {"changed": [], "added": [], "removed": []}
    for entry in entries:
        groups[entry["change"]].append(entry)
    return groups


def _summary(diff: dict) -> str:
    if diff["change"] == "created":
        return "prompt created"
    if diff["change"] == "deleted":
        return "prompt deleted"
    parts = [
        f"{f['field']} changed" if f["field"] in ("description", "jsonSchema") else f"{f['field']} {_fmt(f['old'])}→{_fmt(f['new'])}"
        for f in diff["fields"]
    ]
    for section, noun in (("messages", "message"), ("testData", "test case"), ("evaluators", "evaluator")):
        for change, entries in _by_change(diff[section]).items():
            if entries:
                parts.append(f"{plural(len(entries), noun)} {change}")
    for entry in diff["modelParameters"]:
        parts.append(f"{entry['key']} {_fmt(entry['old'])}→{_fmt(entry['new'])}")
    parts.extend(f"{entry['field']} {entry['change']}" for entry in diff["other"])
    return ", ".join(parts) or "no change"


def _message_label(entry: dict, new_messages: list) -> str:
    index = entry["new_index"] if entry["new_index"] is not None else entry["old_index"]
    role = (entry["role"] or {}).get("new") if entry["change"] == "added" else None
    if role is None:
        source = new_messages[entry["new_index"]] if entry["new_index"] is not None else None
        role = _message_parts(source)[0] if source is not None else (entry["role"] or {}).get("old")
    roles = [_message_parts(m)[0] for m in new_messages]
    if isinstance(role, str) and roles.count(role) <= 1:
        return f"{role} message"
    return f"message {index + 1}"


def _message_phrases(diff: dict, new_messages: list) -> list[str]:
    phrases = []
    verbs = {"changed": "Edit", "added": "Add", "removed": "Remove"}
    for change, entries in _by_change(diff["messages"]).items():
        if len(entries) > 1:
            phrases.append(f"{verbs[change]} {len(entries)} messages")
        elif entries:
            entry = entries[0]
            if change == "changed" and entry["content"] is None and entry["role"]:
                phrases.append(f"Change message {entry['new_index'] + 1} role to {_fmt(entry['role']['new'])}")
            elif change == "removed":
                phrases.append(f"Remove {_fmt((entry['role'] or {}).get('old'))} message")
            else:
                phrases.append(f"{verbs[change]} {_message_label(entry, new_messages)}")
    return phrases


def describe_change(old: PromptFile | dict | None, new: PromptFile | dict | None) -> str:
    """A one-line commit message such as "Edit system message; temperature 0.2 → 0.7"."""
    diff = structured_diff(old, new)
    if diff["change"] == "created":
        return "Create prompt"
    if diff["change"] == "deleted":
        return "Delete prompt"
    phrases: list[str] = []
    for entry in diff["fields"]:
        name, value = entry["field"], entry["new"]
        if name == "name":
            phrases.append(f"Rename to {_fmt(value)}" if value else "Remove name")
        elif name == "model":
            phrases.append(f"Change model to {_fmt(value)}" if value else "Remove model")
        elif name == "responseFormat":
            phrases.append(f"Set response format to {_fmt(value or 'text')}")
        else:
            phrases.append({"description": "Edit description", "jsonSchema": "Edit JSON schema"}[name])
    phrases += _message_phrases(diff, _as_list((_plain(new) or {}).get("messages")))
    params = diff["modelParameters"]
    for old, new_key in GITHUB_IGNORED_PARAMETERS.items():  # e.g. the editor's fix max_tokens -> maxTokens
        gone = next((e for e in params if e["key"] == old and e["change"] == "removed"), None)
        came = next((e for e in params if e["key"] == new_key and e["change"] == "added"), None)
        if gone and came and gone["old"] == came["new"]:
            phrases.append(f"Rename {old} to {new_key}")
            params = [e for e in params if e is not gone and e is not came]
    if len(params) > 3:
        phrases.append(f"Change {len(params)} model parameters")
    for entry in params if len(params) <= 3 else ():
        key, change = entry["key"], entry["change"]
        if change == "changed":
            phrases.append(f"{key} {_fmt(entry['old'])} → {_fmt(entry['new'])}")
        else:
            phrases.append(f"Set {key} {_fmt(entry['new'])}" if change == "added" else f"Remove {key}")
    verbs = {"added": "Add", "removed": "Remove", "changed": "Edit"}
    for change, entries in _by_change(diff["testData"]).items():
        if len(entries) == 1:
            where = "" if change == "added" else f" {entries[0]['index'] + 1}"
            phrases.append(f"{verbs[change]} test case{where}")
        elif entries:
            phrases.append(f"{verbs[change]} {len(entries)} test cases")
    moved = [e for e in diff["evaluators"] if e["change"] == "changed" and e["old"] == e["new"]]
    phrases += [f"Move evaluator {_fmt(e['name'])} to {e['section']}" for e in moved]
    for change, entries in _by_change([e for e in diff["evaluators"] if e not in moved]).items():
        if len(entries) == 1:
            phrases.append(f"{verbs[change]} evaluator {_fmt(entries[0]['name'])}")
        elif entries:
            phrases.append(f"{verbs[change]} {len(entries)} evaluators")
    phrases += [f"{verbs[e['change']]} field {e['field']}" for e in diff["other"]]
    if not phrases:
        return "No change"
    return _join(phrases)


def _join(phrases: list[str]) -> str:
    text = phrases[0]
    for i, phrase in enumerate(phrases[1:], start=1):
        more = len(phrases) - i
        if len(text) + 2 + len(phrase) > _MAX_SUBJECT and more:
            return f"{text} (+{more} more)"
        text += "; " + phrase
    return text
