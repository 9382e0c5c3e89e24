"""The kinds of runs (what each run was for), and which of them a list, total or export covers.

The engine stamps every run with one of ``RUN_KINDS`` (``Request.kind``); the run
database stores it and checks it with :func:`check_kind`. Runs, the Dashboard and
``promptbench export runs`` show ``DEFAULT_KINDS`` (a person's comparisons and eval
cells) unless asked for more. A kinds filter is given as a
sequence of kinds, or ``None`` / ``"all"`` for every kind; :func:`resolve_kinds`
turns it into a tuple in ``RUN_KINDS`` order, or ``None`` when nothing is left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from promptbench.core.errors import PromptbenchError

RUN_KINDS = ("comparison", "eval_cell", "judge", "ranking_generation", "warmup", "connection_test")
DEFAULT_KINDS = ("comparison", "eval_cell")  # what Runs, the Dashboard and exports show unless asked
ALL = "all"
# kind -> (one, many): how a list names its rows
NAMES = {
    "comparison": ("comparison", "comparisons"),
    "eval_cell": ("eval cell", "eval cells"),
    "judge": ("judge call", "judge calls"),
    "ranking_generation": ("ranking generation", "ranking generations"),
    "warmup": ("warm-up", "warm-ups"),
    "connection_test": ("connection test", "connection tests"),
}
# what the "Show" filters of Runs and the Dashboard offer: (label, kinds)
CHOICES = (
    ("Comparisons and eval cells", DEFAULT_KINDS),
    ("+ judge calls", (*DEFAULT_KINDS, "judge")),
    ("+ ranking generations", (*DEFAULT_KINDS, "ranking_generation")),
    ("+ warm-ups and connection tests", (*DEFAULT_KINDS, "warmup", "connection_test")),
    ("All kinds", None),
)


def check_kind(kind: str) -> str:
    if kind not in RUN_KINDS:
        raise PromptbenchError(f"unknown run kind {kind!r}: expected one of {', '.join(RUN_KINDS)}")
    return kind


def resolve_kinds(kinds: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """A kinds filter as a tuple in RUN_KINDS order, or None for every kind.

    ``None``, ``"all"`` or a sequence holding ``"all"`` mean every kind; an unknown kind
    or an empty sequence raise PromptbenchError naming the kinds there are."""
    if kinds is None or kinds == ALL:
        return None
    wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if ALL in wanted:
        return None
    if not wanted:
        raise PromptbenchError(f"no run kinds chosen: give one or more of {', '.join(RUN_KINDS)}, or {ALL}")
    for kind in wanted:
        check_kind(kind)
    out = tuple(k for k in RUN_KINDS if k in wanted)
    return None if out == RUN_KINDS else out


def kind_condition(kinds: Iterable[str] | str | None, column: str = "kind") -> str:
    """The SQL condition for a kinds filter ("" when every kind is wanted).

    The kinds are written as literals: they are checked against RUN_KINDS, and a literal
    list lets one statement repeat the condition many times (the dashboard's quantile
    walks) without binding parameters."""
    resolved = resolve_kinds(kinds)
    if resolved is None:
        return ""
    if len(resolved) == 1:
        return f"{column} = '{resolved[0]}'"
    listed = ", ".join("'" + k + "'" for k in resolved)
    return f"{column} IN ({listed})"


def kinds_label(kinds: Iterable[str] | str | None) -> str:
    """ "comparisons and eval cells", "all kinds of runs", ... for a status line or a tooltip."""
    resolved = resolve_kinds(kinds)
    if resolved is None:
        return "all kinds of runs"
    names = [NAMES[k][1] for k in resolved]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def count_text(counts: dict[str, int]) -> str:
    """ "3 comparisons, 1 eval cell": rows counted by kind, in RUN_KINDS order (zeros left out)."""
    parts = [f"{n} {NAMES[k][0] if n == 1 else NAMES[k][1]}" for k in RUN_KINDS if (n := counts.get(k, 0))]
    return ", ".join(parts)


def choice_label(kinds: Iterable[str] | str | None) -> str:
    """The label of a preset in CHOICES, or one that lists the kinds."""
    resolved = resolve_kinds(kinds)
    for label, preset in CHOICES:
        if resolve_kinds(preset) == resolved:
            return label
    return kinds_label(resolved).capitalize()
