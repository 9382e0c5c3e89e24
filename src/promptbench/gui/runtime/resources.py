"""Where the app's icon and other resources live (source checkout or installed wheel)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_dir() -> Path:
    packaged = resources.files("promptbench") / "_resources"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[4] / "resources"


def app_icon():
    from PySide6.QtGui import QIcon

    return QIcon(str(resource_dir() / "promptbench.svg"))
