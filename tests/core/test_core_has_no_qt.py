"""Core must never import Qt: import every core module, in every sub-package, with PySide6 and
pyqtgraph blocked. (import-linter's contract in pyproject.toml checks lazy imports too.)"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import promptbench.core


def test_core_modules_import_without_qt():
    names = [m.name for m in pkgutil.walk_packages(promptbench.core.__path__, "promptbench.core.")]
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
    assert len(names) >= 80 and "promptbench.core.prompts.yamledit.patch" in names, names
