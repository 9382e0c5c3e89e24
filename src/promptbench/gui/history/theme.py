"""Colours for diffs, label chips and change kinds, chosen for light and dark palettes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette


@dataclass(frozen=True)
class DiffColors:
    removed: QColor         # background of a removed / changed old line
    removed_strong: QColor  # the characters that changed inside it
    added: QColor
    added_strong: QColor
    gap: QColor             # rows that exist only on the other side
    gutter_text: QColor


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def diff_colors(palette: QPalette) -> DiffColors:
    if is_dark(palette):
        return DiffColors(QColor("#4b1f24"), QColor("#8e2f36"), QColor("#1c3f2a"), QColor("#2f7a45"),
                          QColor(palette.color(QPalette.ColorRole.Base).lighter(135)),
                          palette.color(QPalette.ColorRole.PlaceholderText))
    return DiffColors(QColor("#ffebe9"), QColor("#ffb3ad"), QColor("#e6ffec"), QColor("#a6f0b8"),
                      QColor("#eef0f3"), palette.color(QPalette.ColorRole.PlaceholderText))


# label chips: (background, text); production green, staging amber, anything else grey
_CHIP_LIGHT = {"production": ("#1f883d", "#ffffff"), "staging": ("#d29922", "#1f2328"), None: ("#6e7781", "#ffffff")}
_CHIP_DARK = {"production": ("#2ea043", "#ffffff"), "staging": ("#d29922", "#1f2328"), None: ("#57606a", "#ffffff")}


def chip_colors(label: str, palette: QPalette) -> tuple[QColor, QColor]:
    table = _CHIP_DARK if is_dark(palette) else _CHIP_LIGHT
    bg, fg = table.get(label, table[None])
    return QColor(bg), QColor(fg)


def change_color(change: str, palette: QPalette) -> QColor:
    """Text colour for an added / removed / changed entry (and rollback markers)."""
    dark = is_dark(palette)
    return QColor({
        "added": "#3fb950" if dark else "#1a7f37",
        "removed": "#f85149" if dark else "#cf222e",
        "changed": "#d29922" if dark else "#9a6700",
        "rollback": "#a371f7" if dark else "#8250df",
    }.get(change, palette.color(QPalette.ColorRole.Text).name()))
