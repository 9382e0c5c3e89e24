"""The two readings of an LLM judge's reply, and how reports speak of them.

``[eval] judging`` in promptbench.toml picks the reading that decides a judge's verdict:

- ``"github"`` (the default): as ``gh models eval`` reads it - the reply trimmed and
  lower-cased, the FIRST LISTED choice whose text it contains wins (so with choices
  "1".."5" the reply "5 (certainly not 1)" is a 1, and "10" is a 1); it passes when that
  choice's score is > 0.
- ``"strict"``: the choice the judge STATES as its answer (core/evaluators/judge.py,
  ``strict_choice``): choices count only as whole words ("1" is not in "10" or "1.5"),
  case ignored; the whole reply when it is a choice ("**Good.**"); else the choice the
  reply opens with, followed by a comma, a dash, a parenthesis... ("5 (certainly not 1)",
  "Yes, no doubt"); else the LAST choice the reply states ("... Score: 4"), where a number
  right after "/" or "out of" is the scale, not an answer ("4/5" and "4 out of 5" are 4)
  and an aside in parentheses counts only when nothing outside one does. It passes when
  the choice's score, as written in the choices, is >= ``[eval] pass_threshold`` (default
  0.5: on the built-ins' 1..5 -> 0..1 scale a 3 or better). An ``llm`` evaluator's own
  ``threshold`` wins over both rules.

Both readings are computed from the one judge reply (no second call) and stored in the
result's details (``github`` / ``strict``: choice, score, passed), so a report can show
both where they disagree. The modes and the default threshold are settings
(core/settings/config.py validates ``[eval]`` with them); this module holds the
sentences reports use. It never imports Qt.
"""

from __future__ import annotations

from collections import Counter

from promptbench.core.figures import plural
from promptbench.core.settings.config import GITHUB, JUDGING_MODES, STRICT

READING_NAMES = {GITHUB: "GitHub's reading", STRICT: "strict reading"}
SHORT_NAMES = {GITHUB: "GitHub", STRICT: "strict"}   # the other reading next to a verdict: "(strict: 1.00 ✓)"
_BUILTIN_PREFIX = "github/"


def judging_of(spec: dict | None) -> dict:
    """How an eval's judges were read, from its stored spec: {"mode", "pass_threshold"}. An
    eval stored before the choice existed was read as GitHub reads (threshold unknown)."""
    stored = (spec or {}).get("judging") or {}
    return {"mode": stored.get("mode") or GITHUB, "pass_threshold": stored.get("pass_threshold")}


def has_judges(report: dict) -> bool:
    return any(e["kind"] == "llm" or str(e["kind"]).startswith(_BUILTIN_PREFIX) for e in report.get("evaluators") or ())


def judging_text(judging: dict) -> str:
    """The sentence a report's header gives about how judge replies were read."""
    if judging.get("mode") == STRICT:
        return ("judged with the strict reading ([eval] judging = \"strict\"): whole-word choices, the one the reply "
                f"opens with or else the last one it states; pass at score >= {_threshold(judging)}. "
                "gh models eval reads replies differently (the first listed choice the reply contains)")
    return ("judged with GitHub's reading, as gh models eval: the first listed choice the reply contains; "
            "pass at score > 0")


def judging_short(judging: dict) -> str:
    """The same in a few words (the Eval tab's status line)."""
    if judging.get("mode") == STRICT:
        return f"judged with the strict reading (pass at score >= {_threshold(judging)})"
    return "judged with GitHub's reading"


def _threshold(judging: dict) -> str:
    value = judging.get("pass_threshold")
    return "?" if value is None else f"{value:g}"


# -- one result ----------------------------------------------------------------------------------

def judge_fields(details: dict) -> dict:
    """What a report's result carries of a judge's reply (empty for other evaluators):
    ``choice`` (the reading used), ``also_named`` (other choices the reply contains, GitHub's
    sense), ``readings`` (both, when recorded) and ``other_reading`` (the reading not used,
    only where it disagrees: another verdict or score)."""
    if "judge_answer" not in details:
        return {}
    out: dict = {"choice": details.get("choice")}
    if details.get("also_named"):
        out["also_named"] = list(details["also_named"])
    readings = {mode: details[mode] for mode in JUDGING_MODES if isinstance(details.get(mode), dict)}
    if len(readings) == len(JUDGING_MODES):
        out["readings"] = readings
        used = details.get("judging") or GITHUB
        other = STRICT if used == GITHUB else GITHUB
        mine, theirs = readings[used], readings[other]
        if (mine.get("passed"), mine.get("score")) != (theirs.get("passed"), theirs.get("score")):
            out["other_reading"] = {"mode": other, **theirs}
    return out


def verdict_word(passed: bool | None) -> str:
    return "could not decide" if passed is None else "pass" if passed else "fail"


def reading_text(reading: dict) -> str:
    """ "strict reading: pass ('5', score 1)" / "GitHub's reading: fail (no choice, score 0)"."""
    choice = "no choice" if reading.get("choice") is None else repr(reading["choice"])
    return (f"{READING_NAMES.get(reading.get('mode'), reading.get('mode'))}: {verdict_word(reading.get('passed'))} "
            f"({choice}, score {reading.get('score') or 0:g})")


# -- the whole eval --------------------------------------------------------------------------------

def reply_warnings(report: dict) -> list[dict]:
    """Per judge evaluator, replies a reader may be surprised by: those naming several
    choices (which one GitHub's rule took) and those naming none (scored 0). Each:
    {"evaluator", "several", "github_took": {choice: n}, "none", "text"}."""
    mode = (report.get("judging") or {}).get("mode") or GITHUB
    several: dict[str, Counter] = {}
    none: Counter = Counter()
    for cell in report.get("cells") or ():
        for r in cell.get("evaluators") or ():
            if "choice" not in r or r.get("passed") is None:
                continue
            if r.get("also_named"):
                took = (r.get("readings") or {}).get(GITHUB, {}).get("choice", r["choice"])
                several.setdefault(r["name"], Counter())[took] += 1
            if r["choice"] is None:
                none[r["name"]] += 1
    out = []
    for name in dict.fromkeys([e["name"] for e in report.get("evaluators") or ()]):
        took, missing = several.get(name, Counter()), none.get(name, 0)
        if not took and not missing:
            continue
        parts = []
        if took:
            listed = ", ".join(repr(c) if len(took) == 1 else f"{c!r} x{n}" for c, n in took.most_common())
            verb = "took" if mode == GITHUB else "would take"
            tail = "" if mode == GITHUB else "; the strict reading took the one each states"
            parts.append(f"{plural(sum(took.values()), 'reply', 'replies')} named several choices (GitHub {verb} "
                         f"the first listed: {listed}{tail})")
        if missing:
            what = "named none" if mode == GITHUB else "stated none as a whole word"
            parts.append(f"{plural(missing, 'reply', 'replies') if not took else missing} {what} (scored 0)")
        out.append({"evaluator": name, "several": sum(took.values()), "github_took": dict(took), "none": missing,
                    "text": f"judge {name!r}: {', '.join(parts)}"})
    return out


def disagreements(report: dict) -> list[tuple[dict, dict]]:
    """(cell, result) of every judge verdict the other reading would give differently."""
    return [(c, r) for c in report.get("cells") or () for r in c.get("evaluators") or () if r.get("other_reading")]
