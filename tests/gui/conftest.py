"""GUI tests: collect garbage only on the GUI thread, as the app does (gui/gc_guard.py)."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _gc_on_gui_thread():
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()
