"""Guard against a Qt binding that corrupts Python's reference to None.

PySide6-Essentials 6.12.0 under Python 3.11 drops a reference to None on each call of
a Qt method returning void, and the process aborts with "none_dealloc" after a few
thousand calls. Run the loop in a child so a regression fails this test, not the run.
"""

from __future__ import annotations

import os
import subprocess
import sys


def test_many_void_calls_do_not_corrupt_none():
    code = (
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "app = QApplication([])\n"
        "label = QLabel()\n"
        "before = __import__('sys').getrefcount(None)\n"
        "for i in range(20000):\n"
        "    label.setEnabled(i % 2 == 0)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-500:]
