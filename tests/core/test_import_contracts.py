"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and they would catch a
break: a lazy Qt import in core, an upward import between core's packages, a loop
between the modules of a package, SQL or git in the GUI. ``./run.sh test`` runs ``lint-imports`` before the suite; this runs it inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}  # ahead of the editable install's path
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_import_contracts_are_kept():
    proc = _lint(ROOT, ROOT / "src")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    kept = [line for line in out.splitlines() if line.startswith("Contracts:")]
    assert kept and kept[0].endswith(" 0 broken.") and int(kept[0].split()[1]) >= 5, out


BREAKS = {
    # module (under src/promptbench), code appended to it, what the report names
    "core Qt, lazily": ("core/figures.py", "\n\ndef _late():\n    import PySide6.QtCore  # noqa\n",
                        "promptbench.core.figures -> PySide6"),
    "core importing the GUI": ("core/errors.py", "\n\ndef _late():\n    from promptbench.gui.runtime import tasks  # noqa\n",
                               "promptbench.core is not allowed to import promptbench.gui"),
    "core upward": ("core/prompts/params.py", "\n\ndef _late():\n    from promptbench.core.eval import judging  # noqa\n",
                    "promptbench.core.prompts is not allowed to import promptbench.core.eval"),
    "a loop inside a package": ("core/store/history.py", "\n\ndef _late():\n    from promptbench.core.store import promptstore  # noqa\n",
                                "No cycles are allowed in promptbench.core.store"),
    "GUI SQL": ("gui/widgets/elided.py", "\n\ndef _late():\n    import sqlite3  # noqa\n",
                "promptbench.gui.widgets.elided -> sqlite3"),
    "GUI git": ("gui/widgets/elided.py", "\n\ndef _late():\n    from promptbench.core.store.gitrepo import run_git  # noqa\n",
                "promptbench.gui.widgets.elided -> promptbench.core.store.gitrepo"),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_break_fails_lint_imports(tmp_path, case):
    module, code, named = BREAKS[case]
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "promptbench", src / "promptbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (src / "promptbench" / module).open("a", encoding="utf-8") as handle:
        handle.write(code)
    proc = _lint(tmp_path, src)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert named in out and "BROKEN" in out, out
