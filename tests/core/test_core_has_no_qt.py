"""Core must never import Qt: import every core module with PySide6 and pyqtgraph blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import promptbench.core


def test_core_modules_import_without_qt():
    names = [f"promptbench.core.{m.name}" for m in pkgutil.iter_modules(promptbench.core.__path__)]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):\n"
        "            raise ImportError('core imported Qt: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for n in {names!r}:\n"
        "    __import__(n)\n"
        "print(len(sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(names) >= 5
