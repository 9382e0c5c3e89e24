"""GUI-thread stalls while a person types into a big prompt, with drafts on and off.

Run: .venv/bin/python benchmarks/typing_stalls.py [--keys 60]
The real main window on a 40 kB prompt; keys are typed at 10 per second (QTest key
events, as from a keyboard) into (a) the Raw YAML editor and (b) the system message's box
in the Structured view, while a 5 ms heartbeat QTimer runs on the GUI thread. A stall is
a heartbeat gap beyond 5 ms. Each case runs with drafts on (the app's default: the
unsaved text goes to .promptbench/drafts/ at most every 0.3 s) and off, in the same run.
Also checked: the draft on disk ends up holding exactly the editor's text. The process
is set up as the app sets itself up (gui/gc_guard.keep_gui_responsive), and one short
untimed round first takes the one-time costs of a fresh process.
Target (issue 11): max stall <= 16 ms with drafts on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import isolated_git_env, percentile, print_table  # noqa: E402

HEARTBEAT_MS = 5
KEYS_PER_S = 10
TARGET_MAX_MS = 16.0
TARGET_DRAFT_MS = 500.0  # "within 0.5 s of the last keystroke"


def big_prompt() -> str:
    rule = "Answer in plain words, cite the passage you used, and say so when the passage does not contain the answer. "
    lines = "\n".join(f"      {i:03d}. {rule * 3}" for i in range(120))
    text = (f"name: Big\nmodel: openai/gpt-4o-mini\nmodelParameters:\n  temperature: 0.2\nmessages:\n"
            f"  - role: system\n    content: |\n{lines}\n  - role: user\n    content: '{{{{question}}}}'\n"
            f"testData:\n  - question: What are the opening hours?\n")
    assert 38_000 <= len(text.encode()) <= 44_000, len(text.encode())
    return text


def measure(where: str, drafts: bool, keys: int) -> dict:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtGui import QTextCursor
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from promptbench.core.store.workspace import init_workspace
    from promptbench.gui.runtime.gc_guard import keep_gui_responsive
    from promptbench.gui.mainwindow import MainWindow
    from promptbench.gui.services import Services

    app = QApplication.instance() or QApplication(sys.argv)
    if not hasattr(app, "_pb_collector"):
        app._pb_collector = keep_gui_responsive(app)  # as the app (gui/app.py) does
    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-typing-"))
    store = init_workspace(tmp / "ws")
    store.save("big.prompt.yml", big_prompt())
    window = MainWindow(Services(store, key_lookup=lambda m: None, keep_drafts=drafts),
                        QSettings(str(tmp / "q.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 820)
    window.show()

    def spin(predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        loop, poll = QEventLoop(), QTimer()
        poll.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
        poll.start(20)
        loop.exec()
        poll.stop()
        return predicate()

    editor = window.editor
    assert spin(lambda: editor.current_rel() == "big.prompt.yml" and editor.current_prompt() is not None, 30)
    if where == "raw":
        editor.tabs.setCurrentWidget(editor.raw)
        target = editor.raw.editor
        target.moveCursor(QTextCursor.MoveOperation.Start)
        for _ in range(6):
            target.moveCursor(QTextCursor.MoveOperation.Down)
        target.moveCursor(QTextCursor.MoveOperation.EndOfLine)
    else:
        target = editor.structured.messages.cards[0].content
        target.moveCursor(QTextCursor.MoveOperation.End)
    target.setFocus()
    spin(lambda: not window.services.tasks.is_busy(), 30)
    QTest.qWait(1200)  # the app's collector has frozen the start-up objects by now (gc_guard.py)

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(heartbeat.timerType().PreciseTimer)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    typed = {"n": 0}
    text = "abcdefghij klmnopqrst " * 10

    def press() -> None:
        if typed["n"] >= keys:
            return
        QTest.keyClicks(target, text[typed["n"] % len(text)])
        typed["n"] += 1
        QTimer.singleShot(1000 // KEYS_PER_S, press)

    heartbeat.start(HEARTBEAT_MS)
    QTimer.singleShot(0, press)
    spin(lambda: typed["n"] >= keys, keys / KEYS_PER_S + 30)
    last_key = time.perf_counter()
    draft_ok, draft_ms = None, None
    if drafts:
        # How long after the last key the draft on disk holds the text typed (the editor's
        # text is read without forcing pending form edits into it).
        folder = store.root / ".promptbench" / "drafts"

        def landed() -> bool:
            for path in folder.rglob("*.json"):
                try:
                    content = json.loads(path.read_text())["text"]
                except (OSError, ValueError):
                    return False
                expected = typed_text(big_prompt(), where) + text[:keys] if where == "raw" else text[:keys].strip()
                return typed_text(content, where) == expected
            return False
        if spin(landed, 10):
            draft_ms = (time.perf_counter() - last_key) * 1000
    QTest.qWait(1500)  # what typing set off (checks, regeneration, the last draft) lands in the window measured
    heartbeat.stop()
    if drafts:
        spin(lambda: not window.services.tasks.is_busy(), 30)
        window.services.drafts().flush()
        files = list((store.root / ".promptbench" / "drafts").rglob("*.json"))
        draft_ok = len(files) == 1 and json.loads(files[0].read_text())["text"] == editor.current_text()
    editor.discard_edits()
    window.close()
    app.processEvents()
    gaps = [(b - a) * 1000 for a, b in zip(beats, beats[1:])]
    stalls = [max(0.0, g - HEARTBEAT_MS) for g in gaps]
    return {"max": max(stalls), "p99": percentile(stalls, 99), "beats": len(beats), "draft_ok": draft_ok,
            "draft_ms": draft_ms}


def typed_text(file_text: str, where: str) -> str:
    """The line the keys went into (cheap string work: this runs on the GUI thread while
    stalls are measured). Raw view: line 7, typed at its end; Structured: the system
    message's text, whose new last line holds the keys."""
    lines = file_text.split("\n")
    if where == "raw":
        return lines[6]
    end = next(i for i, line in enumerate(lines) if line.startswith("  - role: user"))
    return lines[end - 1].strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=60, help="keys typed per case (10 per second)")
    args = parser.parse_args()
    isolated_git_env(tempfile.mkdtemp(prefix="pb-bench-home-"))
    # Not reported: the first keys typed in a fresh process pay one-time costs (imports in
    # the first check and regeneration tasks, glyph caches); the cases below compare like with like.
    measure("structured", drafts=True, keys=10)
    rows, missed = [], []
    for where, label in (("raw", "Raw YAML editor"), ("structured", "Structured: system message box")):
        off = measure(where, drafts=False, keys=args.keys)
        on = measure(where, drafts=True, keys=args.keys)
        ok = on["max"] <= TARGET_MAX_MS and on["draft_ok"] and on["draft_ms"] is not None and on["draft_ms"] <= TARGET_DRAFT_MS
        if not ok:
            missed.append(label)
        rows.append([label, f"{off['max']:.1f} / {off['p99']:.1f}", f"{on['max']:.1f} / {on['p99']:.1f}",
                     f"{on['max'] / off['max']:.2f}x" if off["max"] else "-",
                     "-" if on["draft_ms"] is None else f"{on['draft_ms']:.0f}", str(on["draft_ok"]),
                     f"<= {TARGET_MAX_MS:.0f}; <= {TARGET_DRAFT_MS:.0f}", "ok" if ok else "MISSED"])
    print_table(f"benchmarks/typing_stalls.py: {args.keys} keys at {KEYS_PER_S}/s into a {len(big_prompt().encode()) / 1000:.1f} kB "
                f"prompt, {HEARTBEAT_MS} ms heartbeat on the GUI thread (QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')})",
                ["typing into", "drafts off: max / p99 stall (ms)", "drafts on: max / p99 (ms)", "max on/off",
                 "last key -> draft on disk (ms)", "draft == editor text", "target (max; draft)", ""], rows)
    print("\nall targets met" if not missed else "\nMISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
