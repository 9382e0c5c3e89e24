"""Ranking that feels finished (issue 12, item 6): next steps at the end of a queue, versions
that say what they are, the pair just voted on never straight back, a plain-words footer,
and every column and button inside a 1024 x 700 window."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QWidget

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.votes import VoteStore
from promptbench.gui.rank import LeaderboardView, RankItem, RankView, least_certain
from tests.conftest import SIMPLE_PROMPT
from tests.gui.test_rank import WAIT_MS, services, visible_text, widgets  # noqa: F401  (fixtures)

P = "greeter.prompt.yml"
CONCISE = "concise, 0.2\n\nTemperature 0.2; the system message asks for one short sentence."


def saved_versions(services) -> tuple[str, str]:
    """Two versions that differ in one setting, the first labelled production."""
    store = services.store
    first = store.save(P, SIMPLE_PROMPT.replace("temperature: 0.2", "temperature: 0.2"), CONCISE)
    second = store.save(P, SIMPLE_PROMPT.replace("temperature: 0.2", "temperature: 0.7"), "brief, 0.7")
    store.set_label(P, "production", first.sha)
    return first.sha, second.sha


def make_view(qtbot, services, widgets, size=(1200, 720)) -> RankView:  # noqa: F811
    view = RankView(services)
    widgets(view)
    view.resize(*size)
    view.show()
    return view


def pair(case, a: Contestant, b: Contestant) -> RankItem:
    return RankItem(case, [(a, None, f"{a.model} on {case}"), (b, None, f"{b.model} on {case}")])


def inside(widget: QWidget, root: QWidget) -> bool:
    """The widget lies wholly within root, at no less than the width its text needs."""
    top_left = widget.mapTo(root, QPoint(0, 0))
    fits = (top_left.x() >= 0 and top_left.y() >= 0 and top_left.x() + widget.width() <= root.width()
            and top_left.y() + widget.height() <= root.height())
    return fits and widget.width() >= widget.minimumSizeHint().width()


def all_inside(root: QWidget, widgets_: list[QWidget]) -> list[str]:
    """Names of the visible widgets that stick out of root or are squeezed (empty when all fit)."""
    return [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in widgets_
            if w.isVisibleTo(root) and not inside(w, root)]


# -- 2: the end of a queue says what happened and what to do next ---------------------------------


def test_after_the_last_vote_the_view_offers_a_session_and_the_leaderboard(qtbot, services, widgets):  # noqa: F811
    a, b = Contestant(P, "3f2a1b0c9d8e7f60", "model-alpha"), Contestant(P, "3f2a1b0c9d8e7f60", "model-beta")
    view = make_view(qtbot, services, widgets)
    assert view.message_label.text().startswith("Nothing to rank yet.")
    assert view.message_page.session_button.isVisibleTo(view)             # a first step even before any queue
    view.start_queue([pair("0", a, b)])
    qtbot.keyClick(view, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: view.unsaved_votes() == 0, timeout=WAIT_MS)
    page = view.message_page
    assert view.message_label.text() == "1 comparison judged: 1 vote recorded."
    screen = visible_text(view, exclude=(view.strip,))
    assert "Judge more pairs in a ranking session, or see how the votes add up on the leaderboard." in screen
    assert page.session_button.text() == "Start a ranking session" and page.session_button.isVisibleTo(view)
    assert page.leaderboard_button.text() == "Open leaderboard" and page.leaderboard_button.isVisibleTo(view)
    with qtbot.waitSignal(view.session_requested, timeout=WAIT_MS):
        qtbot.mouseClick(page.session_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.leaderboard_requested, timeout=WAIT_MS):
        qtbot.mouseClick(page.leaderboard_button, Qt.MouseButton.LeftButton)

    view.start_queue([pair(str(c), a, b) for c in range(3)])
    for key in (Qt.Key.Key_2, Qt.Key.Key_S, Qt.Key.Key_3):
        qtbot.keyClick(view, key)
    assert view.message_label.text() == "All 3 comparisons judged: 2 votes recorded, 1 skipped."
    view.start_queue([pair("9", a, b)])
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert view.message_label.text() == "No votes recorded: 1 comparison skipped."


def test_in_the_main_window_the_next_steps_open_the_leaderboard_and_the_session_dialog(qtbot, services,
                                                                                       tmp_path):
    from PySide6.QtCore import QSettings

    from promptbench.gui.mainwindow import TAB_LEADERBOARD, TAB_RANK, MainWindow
    from promptbench.gui.rank.session_dialog import SessionDialog

    services.store.save(P, SIMPLE_PROMPT, "greeter")
    qsettings = QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("welcome/closed", True)
    qsettings.setValue(f"lastPrompt/{services.store.root}", P)
    win = MainWindow(services, qsettings)
    qtbot.addWidget(win, before_close_func=lambda w: w.editor.discard_edits())
    win.resize(1024, 700)
    win.show()
    qtbot.waitUntil(lambda: win.editor.current_rel() == P, timeout=WAIT_MS)
    a, b = Contestant(P, "3f2a1b0c9d8e7f60", "model-alpha"), Contestant(P, "3f2a1b0c9d8e7f60", "model-beta")
    win.tabs.setCurrentIndex(TAB_RANK)
    win.rank.start_queue([pair("0", a, b)])
    assert win.rank.case_label.text().startswith("Test case 1")   # stored index 0, numbered as the editor does
    qtbot.keyClick(win.rank, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: win.rank.unsaved_votes() == 0, timeout=WAIT_MS)
    page = win.rank.message_page
    qtbot.mouseClick(page.leaderboard_button, Qt.MouseButton.LeftButton)
    assert win.tabs.currentIndex() == TAB_LEADERBOARD
    board = win.leaderboard
    qtbot.waitUntil(lambda: board.board is not None and board.proxy.rowCount() == 2, timeout=WAIT_MS)
    shown = {board.proxy.index(r, c).data() for r in range(2) for c in range(board.proxy.columnCount())}
    assert {"model-alpha", "model-beta"} <= shown
    win.tabs.setCurrentIndex(TAB_RANK)
    qtbot.mouseClick(page.session_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in win.findChildren(SessionDialog)), timeout=WAIT_MS)
    dialog = next(d for d in win.findChildren(SessionDialog) if d.isVisible())
    assert P in dialog.windowTitle() or P in visible_text(dialog)
    qtbot.waitUntil(lambda: dialog.cases.count() == 2, timeout=WAIT_MS)
    assert [dialog.cases.item(i).text() for i in range(2)] == ["Test case 1", "Test case 2"]
    dialog.reject()


def test_the_footer_says_ranges_are_rough_with_a_handful_of_test_cases(services):
    from promptbench.core.ranking.leaderboard import fit
    from promptbench.gui.leaderboard.leaderboard_data import footer_texts

    few, many = [], []
    for i in range(40):
        a, b = Contestant(P, "v1", "model-alpha"), Contestant(P, "v1", "model-beta")
        winner = "a" if i % 3 else "b"
        few.append(json.dumps({"a": a.__dict__, "b": b.__dict__, "winner": winner, "test_case": str(i % 3)}))
        many.append(json.dumps({"a": a.__dict__, "b": b.__dict__, "winner": winner, "test_case": str(i % 20)}))
    texts = {}
    for name, lines in (("few", few), ("many", many)):
        votes = VoteStore(services.runs())
        votes.import_jsonl(lines, source_name=f"{name}.jsonl")
        texts[name] = footer_texts(fit(votes.battles(tag=f"{name}.jsonl")), 2)[0]
    assert "Ranges are rough: only 3 test cases" in texts["few"] and "95% sure" not in texts["few"]
    assert "Ranges are 95% sure" in texts["many"] and "rough" not in texts["many"]
    assert "Too few test cases to tell a left/right bias" in texts["few"]


def test_one_vote_claims_no_range_and_no_bias(services):
    from promptbench.core.ranking.leaderboard import fit
    from promptbench.gui.leaderboard.leaderboard_data import footer_texts

    a, b = Contestant(P, "v1", "model-alpha"), Contestant(P, "v1", "model-beta")
    votes = VoteStore(services.runs())
    votes.import_jsonl([json.dumps({"a": a.__dict__, "b": b.__dict__, "winner": "b", "test_case": "0",
                                    "left": "a"})], source_name="one.jsonl")
    text = footer_texts(fit(votes.battles(tag="one.jsonl")), 2)[0]
    assert "Ranges are rough: only 1 vote (more votes make them firmer)" in text
    assert "Too few votes to tell a left/right bias" in text and "wins" not in text


def test_done_text_counts():
    from promptbench.gui.rank.message_page import done_text

    assert done_text(1, 1, 0) == "1 comparison judged: 1 vote recorded."
    assert done_text(2, 2, 0) == "All 2 comparisons judged: 2 votes recorded."
    assert done_text(4, 3, 1) == "All 4 comparisons judged: 3 votes recorded, 1 skipped."
    assert done_text(2, 0, 2) == "No votes recorded: 2 comparisons skipped."
    assert done_text(0, 0, 0) == "Nothing to rank in this queue."


# -- 1: the pair just voted on does not come straight back ----------------------------------------


def test_a_new_session_does_not_open_with_the_pair_just_voted_on(qtbot, services, widgets):  # noqa: F811
    a, b, c = (Contestant(P, "3f2a1b0c9d8e7f60", m) for m in ("model-alpha", "model-beta", "model-gamma"))
    view = make_view(qtbot, services, widgets)
    view.start_queue([pair("0", a, b)])                 # one vote, as a new user's first
    qtbot.keyClick(view, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: view.unsaved_votes() == 0, timeout=WAIT_MS)
    session = [pair("0", a, b), pair("0", a, c), pair("0", b, c), pair("1", a, b)]
    sid = VoteStore(services.runs()).create_session(name="s", prompt_path=P)
    view.start_queue(session, pair_chooser=least_certain, session_id=sid)
    qtbot.waitUntil(lambda: view.current is not None, timeout=WAIT_MS)
    first = view.current
    assert (first.test_case, set(first.contestants())) != ("0", {a, b})
    for _ in range(4):
        qtbot.keyClick(view, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: view.unsaved_votes() == 0, timeout=WAIT_MS)

    # a fresh view (the app restarted) learns the last vote from the votes table
    again = make_view(qtbot, services, widgets)
    last = VoteStore(services.runs()).votes()[-1]
    repeat = [it for it in session if it.test_case == last["test_case"]
              and {x.model for x in it.contestants()} == {last["a_model"], last["b_model"]}]
    sid2 = VoteStore(services.runs()).create_session(name="s2", prompt_path=P)
    again.start_queue(repeat + [it for it in session if it not in repeat], pair_chooser=least_certain,
                      session_id=sid2)
    qtbot.waitUntil(lambda: again.current is not None, timeout=WAIT_MS)
    assert again.current is not repeat[0]


def test_right_after_a_vote_the_same_two_contestants_wait_while_another_pair_remains(qtbot, services,
                                                                                    widgets):  # noqa: F811
    """The board that picks pairs refits a moment after a vote is saved; until then it would
    pick the pair it was least sure of again, on the next test case."""
    a, b, c, d = (Contestant(P, "3f2a1b0c9d8e7f60", m) for m in ("alpha", "beta", "gamma", "delta"))
    votes = VoteStore(services.runs())
    for case in range(12):     # alpha and beta are even; gamma always beats delta
        votes.record_vote(a=a, b=b, winner="ab"[case % 2], test_case=case, left="ab"[case // 2 % 2])
        votes.record_vote(a=c, b=d, winner="a", test_case=case, left="ab"[case % 2])
    view = make_view(qtbot, services, widgets)
    view.start_queue([pair("x", a, b), pair("y", a, b), pair("x", c, d)], pair_chooser=least_certain)
    qtbot.waitUntil(lambda: view.current is not None, timeout=WAIT_MS)
    assert set(view.current.contestants()) == {a, b}          # the unsure pair first
    qtbot.keyClick(view, Qt.Key.Key_3)
    assert set(view.current.contestants()) == {c, d}          # not alpha and beta again at once
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.current.test_case == "y"                      # then they are all that is left


# -- 4: versions say what they are ------------------------------------------------------------------


def test_revealed_cards_and_the_reveal_name_versions_by_subject_and_label(qtbot, services, widgets):  # noqa: F811
    first, second = saved_versions(services)
    concise, brief = Contestant(P, first, "model-alpha"), Contestant(P, second, "model-alpha")
    view = make_view(qtbot, services, widgets)
    view.start_queue([pair("0", concise, brief), pair("1", concise, brief)])
    qtbot.waitUntil(lambda: len(view.versions) == 2, timeout=WAIT_MS)
    screen = visible_text(view, exclude=(view.strip,))
    assert "concise, 0.2" not in screen and "brief, 0.7" not in screen and first[:8] not in screen   # blind
    view.blind_check.setChecked(False)
    by_version = {card.contestant.version: card for card in view.cards[:2]}
    card = by_version[first]
    assert card.subtitle.text() == f"{P} @ {first[:8]} · concise, 0.2 · production"
    assert card.subtitle.toolTip().startswith(CONCISE) and first in card.subtitle.toolTip()
    assert by_version[second].subtitle.text() == f"{P} @ {second[:8]} · brief, 0.7"
    assert "brief, 0.7" in by_version[second].title.toolTip()
    qtbot.keyClick(view, Qt.Key.Key_3)
    reveal = view.strip.reveal_label.text()
    assert f"{first[:8]} · concise, 0.2 · production" in reveal and f"{second[:8]} · brief, 0.7" in reveal


def test_leaderboard_versions_and_left_bias_in_plain_words(qtbot, services, widgets):  # noqa: F811
    first, second = saved_versions(services)
    concise, brief = Contestant(P, first, "model-alpha"), Contestant(P, second, "model-alpha")
    votes = VoteStore(services.runs())
    lines = []
    for case in range(30):   # the left answer wins four times in five, whichever it is
        left = "a" if case % 2 else "b"
        winner = left if case % 5 else ("b" if left == "a" else "a")
        lines.append(json.dumps({"a": concise.__dict__, "b": brief.__dict__, "winner": winner,
                                 "test_case": str(case), "left": left}))
    assert votes.import_jsonl(lines, source_name="biased.jsonl").imported == 30
    view = LeaderboardView(services)
    widgets(view)
    view.resize(1024, 700)
    view.show()
    qtbot.waitUntil(lambda: view.board is not None, timeout=WAIT_MS)
    rows = {view.proxy.index(r, 2).data(): r for r in range(view.proxy.rowCount())}
    assert set(rows) == {f"{first[:8]} · concise, 0.2 · production", f"{second[:8]} · brief, 0.7"}
    tip = view.proxy.index(rows[f"{first[:8]} · concise, 0.2 · production"], 2).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(CONCISE) and "labels: production" in tip
    assert any("concise, 0.2" in label for label in view.chart.labels)
    gamma = view.board.left_advantage
    assert gamma > 1.5 and view.board.left_advantage_ci[0] > 1
    assert f"The left answer wins much more often (×{gamma:.2f})" in view.footer.text()
    assert "left-position advantage" in view.footer.toolTip() and "left-position" not in view.footer.text()


# -- 6: everything fits at 1024 x 700 -------------------------------------------------------------


LONG_PROMPT = "customer-support/escalations/refund-requests-for-enterprise-accounts.prompt.yml"
LONG_MODELS = ("openai/gpt-4o-mini-2024-07-18-with-a-very-long-deployment-name", "anthropic/claude-3-5-sonnet-latest")


def test_leaderboard_columns_and_buttons_fit_1024_by_700(qtbot, services, widgets):  # noqa: F811
    store = services.store
    long_subject = "Rewrite the system message so that refunds over the threshold always go to a human " * 2
    v1 = store.save(LONG_PROMPT, SIMPLE_PROMPT, long_subject).sha
    v2 = store.save(LONG_PROMPT, SIMPLE_PROMPT.replace("friendly", "terse"), "terse").sha
    store.set_label(LONG_PROMPT, "production", v1)
    cs = [Contestant(LONG_PROMPT, v, m) for v in (v1, v2) for m in LONG_MODELS]
    votes = VoteStore(services.runs())
    lines = [json.dumps({"a": cs[i % 4].__dict__, "b": cs[(i + 1 + i // 4) % 4].__dict__,
                         "winner": "ab"[i % 3 % 2] if i % 7 else "both_bad", "test_case": str(i % 9)})
             for i in range(40) if i % 4 != (i + 1 + i // 4) % 4]
    votes.import_jsonl(lines, source_name="a-long-import-name-from-the-enterprise-support-team.jsonl")
    for criterion, score in (("accuracy", 4), ("clarity", 3), ("tone", 5)):
        votes.record_rubric(contestant=cs[0], criterion=criterion, score=score)
    view = LeaderboardView(services)
    widgets(view)
    view.resize(1024, 700)
    view.show()
    qtbot.waitUntil(lambda: view.board is not None and view.proxy.rowCount() == 4, timeout=WAIT_MS)
    qtbot.wait(50)
    assert (view.width(), view.height()) == (1024, 700)            # nothing forces the window wider
    assert view.minimumSizeHint().width() <= 1000                  # room for the main window's frame too
    header, viewport = view.table.horizontalHeader(), view.table.viewport()
    assert [view.proxy.headerData(i, Qt.Orientation.Horizontal) for i in range(header.count())][-4:] == \
        ["Both bad", "Accuracy", "Clarity", "Tone"]
    for i in range(header.count()):
        x = header.sectionViewportPosition(i)
        assert 0 <= x and x + header.sectionSize(i) <= viewport.width(), (i, x, header.sectionSize(i))
    assert not view.table.horizontalScrollBar().isVisible()
    assert header.sectionSize(2) >= 80 and header.sectionSize(3) >= 80          # names elided, not crushed
    assert view.proxy.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)              # the whole text on hover
    controls = [view.refresh_button, view.prompt_box, view.tag_box, view.model_box, view.group_box,
                view.since_check, view.since_edit, view.until_check, view.until_edit, view.tabs, view.footer]
    assert all_inside(view, controls) == []
    for index in (1, 2):
        view.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        page = view.tabs.currentWidget()
        assert inside(page, view) and page.width() <= 1024
    view.tabs.setCurrentIndex(0)


def test_rank_view_buttons_fit_1024_by_700(qtbot, services, widgets):  # noqa: F811
    a, b, c = (Contestant(LONG_PROMPT, "3f2a1b0c9d8e7f60", m) for m in (*LONG_MODELS, "model-gamma"))
    view = make_view(qtbot, services, widgets, size=(1024, 700))
    view.start_queue([pair("0", a, b), RankItem("1", [(a, None, "one"), (b, None, "two"), (c, None, "three")])])
    qtbot.wait(20)
    assert (view.width(), view.height()) == (1024, 700) and view.minimumSizeHint().width() <= 1000
    buttons = [w for w in view.findChildren(QAbstractButton)]
    assert all_inside(view, buttons) == []
    view.blind_check.setChecked(False)
    qtbot.wait(20)
    assert all_inside(view, buttons) == []
    qtbot.keyClick(view, Qt.Key.Key_1)                 # to the three-way item
    qtbot.wait(20)
    assert not view.current.pairwise and all_inside(view, view.findChildren(QAbstractButton)) == []
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_Return):
        qtbot.keyClick(view, key)
    qtbot.waitUntil(lambda: view.unsaved_votes() == 0, timeout=WAIT_MS)
    assert view.message_page.session_button.isVisibleTo(view)
    assert all_inside(view, view.findChildren(QAbstractButton)) == []
