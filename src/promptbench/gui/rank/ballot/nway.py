"""Ordering three or more outputs from the keyboard: pick the best remaining, again and again.

Plain Python. Picks are positions as shown (0 = leftmost). ``tie_next()`` (the "=" key)
puts the next pick in the same place as the previous one; ``undo()`` (Backspace) takes
back the last pick, or a pending "=". The last remaining output needs no pick: ``finish``
places it last (or tied with the previous pick after "=").
"""

from __future__ import annotations


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Ordering:
    def __init__(self, n: int):
        self.n = n
        self.groups: list[list[int]] = []   # best first; a group of several is a tie
        self.tie_pending = False

    def picked(self) -> list[int]:
        return [i for group in self.groups for i in group]

    def remaining(self) -> list[int]:
        done = set(self.picked())
        return [i for i in range(self.n) if i not in done]

    def pick(self, i: int) -> bool:
        """Place output i next (or beside the previous pick after "="). False if not possible."""
        if not 0 <= i < self.n or i in self.picked():
            return False
        if self.tie_pending and self.groups:
            self.groups[-1].append(i)
        else:
            self.groups.append([i])
        self.tie_pending = False
        return True

    def tie_next(self) -> bool:
        if not self.groups or not self.remaining():
            return False
        self.tie_pending = True
        return True

    def undo(self) -> bool:
        if self.tie_pending:
            self.tie_pending = False
            return True
        if not self.groups:
            return False
        self.groups[-1].pop()
        if not self.groups[-1]:
            self.groups.pop()
        return True

    def ready(self) -> bool:
        """Whether Enter can submit: at most one output is left (it goes last)."""
        return len(self.remaining()) <= 1 and self.n >= 2

    def finish(self) -> list[list[int]]:
        """The complete groups, best first, with the last remaining output placed."""
        groups = [list(g) for g in self.groups]
        rest = self.remaining()
        if len(rest) == 1:
            if self.tie_pending and groups:
                groups[-1].append(rest[0])
            else:
                groups.append(rest)
        return groups

    def place_of(self, i: int) -> int | None:
        """1-based place of output i (tied outputs share the best place), None if not picked."""
        place = 1
        for group in self.groups:
            if i in group:
                return place
            place += len(group)
        return None

    def text(self, letters: list[str]) -> str:
        """``B > A = C`` so far; a trailing ``=`` while a tie is pending."""
        out = " > ".join(" = ".join(letters[i] for i in group) for group in self.groups)
        return out + (" =" if self.tie_pending else "")


def ranking_args(groups: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Groups of shown positions -> (order best first, ties as index groups into that order)."""
    order = [i for group in groups for i in group]
    ties, at = [], 0
    for group in groups:
        if len(group) > 1:
            ties.append(list(range(at, at + len(group))))
        at += len(group)
    return order, ties
