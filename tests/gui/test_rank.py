"""RANK mode: blind keyboard voting on stored runs, N-way orders, rubric, notes, thumbs."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timezone

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.events import RunMetrics
from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.votes import VoteStore
from promptbench.gui.rank import RankItem, RankView, ThumbsButtons, least_certain
from promptbench.gui.services import Services

P = "greeter.prompt.yml"
VERSION = "3f2a1b0c9d8e7f60"
MODELS = ("model-alpha", "model-beta", "model-gamma")
WAIT_MS = 20000


@pytest.fixture
def services(workspace):
    svc = Services(workspace, key_lookup=lambda m: None)
    yield svc
    svc.close()
    shiboken6.delete(svc)   # the Qt side goes on the GUI thread, not in a worker's GC


@pytest.fixture
def widgets():
    made = []
    yield made.append
    for widget in reversed(made):
        if shiboken6.isValid(widget):
            shiboken6.delete(widget)


def store_runs(services, outputs: dict[tuple[str, int], str], comparison_id: str | None = None) -> dict:
    """Finished runs with known outputs, straight into the run store: (model, case) -> run id."""
    runs = services.runs()
    if comparison_id:
        runs.create_comparison(id=comparison_id, prompt_path=P, prompt_version=VERSION, test_case=0, variables={},
                               local_mode=None, models=sorted({m for m, _ in outputs}))
    ids = {}
    for (model, case), text in outputs.items():
        rid = uuid.uuid4().hex[:12]
        runs.run_started(id=rid, comparison_id=comparison_id, prompt_path=P, prompt_version=VERSION, test_case=case,
                         model_name=model, model=f"openai/{model}", provider="openai", params={},
                         messages=[{"role": "user", "content": f"Say hello to person {case}."}],
                         started_at=datetime.now(timezone.utc))
        runs.run_ended(rid, status="finished", output=text, metrics=RunMetrics(output_tokens=5))
        ids[(model, case)] = rid
    runs.flush()
    return ids


def visible_text(root: QWidget, exclude: tuple[QWidget, ...] = ()) -> str:
    """Every text a person can see in root (labels, buttons, fields, documents, tooltips)."""
    parts = []
    for w in [root, *root.findChildren(QWidget)]:
        if (w is not root and not w.isVisibleTo(root)) or any(e is w or e.isAncestorOf(w) for e in exclude):
            continue
        parts.append(w.toolTip())
        if isinstance(w, (QLabel, QAbstractButton)):
            parts.append(w.text())
        elif isinstance(w, QLineEdit):
            parts += [w.text(), w.placeholderText()]
        elif isinstance(w, (QTextEdit, QPlainTextEdit)):
            parts.append(w.toPlainText())
    return "\n".join(parts)


def contestant(model: str) -> Contestant:
    return Contestant(P, VERSION, model)


def make_view(qtbot, services, widgets) -> RankView:
    view = RankView(services)
    widgets(view)
    view.resize(1200, 720)
    view.show()
    return view


def test_blind_session_of_20_keyboard_votes(qtbot, services, widgets):
    pairs = [("model-alpha", "model-beta"), ("model-beta", "model-gamma")]
    outputs, items = {}, []
    for case in range(10):
        for k, (m1, m2) in enumerate(pairs):
            for m in (m1, m2):
                outputs[(m, case)] = f"Hello person {case}! Variant {MODELS.index(m)}."
    ids = store_runs(services, outputs)
    for case in range(10):
        for m1, m2 in pairs:
            items.append(RankItem(case, [(contestant(m), ids[(m, case)], outputs[(m, case)]) for m in (m1, m2)]))
    view = make_view(qtbot, services, widgets)
    saved = []
    view.vote_recorded.connect(saved.append)
    finished = []
    view.queue_finished.connect(lambda: finished.append(True))
    view.start_queue(items, seed=7)
    keys = itertools.cycle([(Qt.Key.Key_1, "left"), (Qt.Key.Key_2, "right"), (Qt.Key.Key_3, "tie"),
                            (Qt.Key.Key_0, "both_bad")])
    expected = []
    for n in range(20):
        assert view.progress_label.text() == f"{n} / 20 votes"
        item = view.current
        shown_models = [view.cards[0].contestant.model, view.cards[1].contestant.model]
        screen = visible_text(view, exclude=(view.strip,))
        assert not any(m in screen for m in MODELS), screen       # who wrote what is hidden
        assert "Output A" in screen and "Output B" in screen
        assert "A is better (1)" in screen and "Both bad (0)" in screen   # the key map is on screen
        if n == 0:
            qtbot.wait(50)
            view.grab().save("/tmp/rank_blind_mid_session.png")
        key, verdict = next(keys)
        qtbot.keyClick(view, key)
        reveal = view.strip.reveal_label.text()               # revealed after the vote
        assert f"A was <b>{shown_models[0]}</b>" in reveal and f"B was <b>{shown_models[1]}</b>" in reveal
        assert visible_text(view.strip).count("model-") == 2
        winner = {"left": shown_models[0], "right": shown_models[1]}.get(verdict)
        expected.append((item.test_case, shown_models[0], verdict, winner))
        if n == 0:
            qtbot.wait(50)   # let the layout settle, as a paint would
            view.grab().save("/tmp/rank_after_reveal.png")
    qtbot.waitUntil(lambda: len(saved) == 20 and view.unsaved_votes() == 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: finished == [True], timeout=WAIT_MS)
    assert view.progress_label.text() == "20 / 20 votes" and view.save_label.text() == "saved ✓"
    assert "saved ✓" in view.strip.reveal_label.text()

    votes = VoteStore(services.runs()).votes()
    assert len(votes) == 20 and len(VoteStore(services.runs()).battles()) == 20
    assert sorted(v["id"] for v in votes) == sorted(saved)
    for vote, (case, left_model, verdict, winner_model) in zip(votes, expected):   # oldest first = cast order
        assert vote["kind"] == "pairwise" and vote["blind"] is True and vote["test_case"] == case
        shown_left = vote["a_model"] if vote["left_side"] == "a" else vote["b_model"]
        assert shown_left == left_model                                              # positions recorded
        if winner_model is None:
            assert vote["winner"] == verdict
        else:
            assert vote[f"{vote['winner']}_model"] == winner_model                   # the key pressed won
        assert vote["a_run_id"] == ids[(vote["a_model"], int(case))]
        assert vote["b_run_id"] == ids[(vote["b_model"], int(case))]
        assert vote["voter"] and vote["session_id"] is None
    assert {v["left_side"] for v in votes} == {"a", "b"}                             # positions were shuffled


def test_shuffle_is_reproducible_per_item_and_seed():
    from promptbench.gui.rank.items import shown_order

    item = RankItem("3", [(contestant(m), None, m) for m in MODELS])
    assert shown_order(item, 1) == shown_order(RankItem("3", [(contestant(m), None, m) for m in MODELS]), 1)
    assert len({tuple(shown_order(RankItem(str(c), item.outputs), 0)) for c in range(30)}) > 1


def test_nway_ranking_with_keys_rubric_note_and_thumbs(qtbot, services, widgets):
    outputs = {(m, 0): f"# Hello\n\nGreeting number {i}." for i, m in enumerate(MODELS)}
    ids = store_runs(services, outputs, comparison_id="cmp1")
    view = make_view(qtbot, services, widgets)
    saved = []
    view.vote_recorded.connect(saved.append)
    view.rank_comparison("cmp1")
    qtbot.waitUntil(lambda: view.current is not None, timeout=WAIT_MS)
    assert not view.current.pairwise and view.verdicts.currentIndex() == 1
    assert "Say hello to person 0." in view.case_label.text()                     # the question asked
    screen = visible_text(view, exclude=(view.strip,))
    assert not any(m in screen for m in MODELS) and "Output C" in screen
    shown = [card.contestant for card in view.cards[:3]]

    qtbot.keyClick(view, Qt.Key.Key_3)           # C best
    qtbot.keyClick(view, Qt.Key.Key_1)           # then A ...
    qtbot.keyClick(view, Qt.Key.Key_Backspace)   # ... no: undo
    qtbot.keyClicks(view, "=")                   # A ties with C
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert "C = A" in view.verdicts.order_label.text()
    assert view.cards[2].place_chip.text() == "1st" and view.cards[0].place_chip.text() == "1st"
    assert view.cards[1].place_chip.text() == "3rd (last)" and view.verdicts.submit_button.isEnabled()

    view.rubric_check.setChecked(True)
    clarity = [b for b in view.cards[1].rubric._groups["clarity"].buttons() if b.text() == "4"][0]
    qtbot.mouseClick(clarity, Qt.MouseButton.LeftButton)
    thumbs = []
    view.cards[0].thumbs.thumb_recorded.connect(lambda tid, value: thumbs.append(value))
    qtbot.mouseClick(view.cards[0].thumbs.up, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: thumbs == [1], timeout=WAIT_MS)
    assert view.cards[0].thumbs.up.isChecked()
    view.note_edit.setFocus()
    qtbot.keyClicks(view.note_edit, "A and C both fine")
    view.grab().save("/tmp/rank_nway.png")
    qtbot.keyClick(view.note_edit, Qt.Key.Key_Return)   # Enter in the note submits
    qtbot.waitUntil(lambda: len(saved) == 1 and view.unsaved_votes() == 0, timeout=WAIT_MS)
    reveal = view.strip.reveal_label.text()
    assert f"1. C <b>{shown[2].model}</b> = A <b>{shown[0].model}</b>" in reveal and "saved ✓" in reveal

    votes = VoteStore(services.runs())
    (vote,) = votes.votes()
    assert vote["kind"] == "ranking" and vote["note"] == "A and C both fine" and vote["blind"] is True
    assert [(c["model"], c["rank"]) for c in vote["contestants"]] == [(shown[2].model, 1), (shown[0].model, 1),
                                                                       (shown[1].model, 3)]
    assert [c["run_id"] for c in vote["contestants"]] == [ids[(shown[i].model, 0)] for i in (2, 0, 1)]
    assert vote["positions"] == {"shown": [1, 2, 0]} and vote["test_case"] == "0"
    battles = votes.battles()
    assert len(battles) == 3 and sum(b.winner == "tie" for b in battles) == 1
    (score,) = votes.rubric_scores(vote_id=vote["id"])
    assert (score["model"], score["criterion"], score["score"]) == (shown[1].model, "clarity", 4)
    assert score["run_id"] == ids[(shown[1].model, 0)]
    (thumb,) = votes.thumbs()
    assert (thumb["model"], thumb["value"], thumb["run_id"]) == (shown[0].model, 1, ids[(shown[0].model, 0)])
    assert view.message_label.text() == "1 comparison judged: 1 vote recorded."   # (was "All 1 items judged.")


def test_thumbs_buttons_alone_take_the_contestant_from_the_run(qtbot, services, widgets):
    ids = store_runs(services, {("model-beta", 2): "Hi."})
    buttons = ThumbsButtons(services, run_id=ids[("model-beta", 2)])
    widgets(buttons)
    with qtbot.waitSignal(buttons.thumb_recorded, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(buttons.down, Qt.MouseButton.LeftButton)
    assert signal.args[1] == -1 and buttons.down.isChecked() and not buttons.up.isChecked()
    (thumb,) = VoteStore(services.runs()).thumbs(run_id=ids[("model-beta", 2)])
    assert (thumb["prompt"], thumb["version"], thumb["model"], thumb["value"]) == (P, VERSION, "model-beta", -1)
    assert not ThumbsButtons(services).isEnabled()   # nothing to point at yet


def test_failed_write_stays_queued_and_is_retried(qtbot, services, widgets, monkeypatch):
    real = VoteStore.record_vote
    calls = []

    def flaky(self, **kwargs):
        calls.append(kwargs["winner"])
        if len(calls) == 1:
            raise PromptbenchError("database is locked")
        return real(self, **kwargs)

    monkeypatch.setattr(VoteStore, "record_vote", flaky)
    items = [RankItem(str(c), [(contestant("model-alpha"), None, "one"), (contestant("model-beta"), None, "two")])
             for c in range(3)]
    view = make_view(qtbot, services, widgets)
    saved = []
    view.vote_recorded.connect(saved.append)
    view.start_queue(items)
    qtbot.keyClick(view, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: view.strip.error_banner.isVisibleTo(view), timeout=WAIT_MS)
    assert "database is locked" in view.strip.error_label.text() and view.unsaved_votes() == 1
    assert "not saved yet" in view.strip.reveal_label.text() and "unsaved" in view.save_label.text()
    assert view.current is not None and view.progress_label.text() == "1 / 3 votes"   # voting goes on
    view.grab().save("/tmp/rank_write_failed.png")
    qtbot.keyClick(view, Qt.Key.Key_3)          # the next vote retries the queue, in order
    qtbot.waitUntil(lambda: len(saved) == 2 and view.unsaved_votes() == 0, timeout=WAIT_MS)
    assert not view.strip.error_banner.isVisibleTo(view)
    assert [v["winner"] for v in VoteStore(services.runs()).votes()][1] == "tie"
    assert len(VoteStore(services.runs()).votes()) == 2


def test_select_then_enter_unblinded_and_skip(qtbot, services, widgets):
    items = [RankItem(str(c), [(contestant("model-alpha"), None, "one"), (contestant("model-beta"), None, "two")])
             for c in range(3)]
    view = make_view(qtbot, services, widgets)
    saved = []
    view.vote_recorded.connect(saved.append)
    view.start_queue(items)
    view.vote_on_key_check.setChecked(False)
    qtbot.keyClick(view, Qt.Key.Key_2)
    assert view.verdicts.buttons["right"].isChecked() and view.cast == 0   # selected, not cast
    view.blind_check.setChecked(False)                                      # seen unblinded
    assert "model-" in view.cards[0].title.text()
    right_model = view.cards[1].contestant.model
    reader = view.cards[0].output.rendered   # a reader who clicked into an output keeps voting by keys
    reader.setFocus()
    qtbot.keyClick(reader, Qt.Key.Key_Return)
    assert view.cast == 1
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert view.progress_label.text() == "1 / 3 votes · 1 skipped"
    view.vote_on_key_check.setChecked(True)
    qtbot.keyClick(reader, Qt.Key.Key_0)
    assert view.cast == 2 and view.current is None
    assert view.message_label.text() == "All 3 comparisons judged: 2 votes recorded, 1 skipped."
    qtbot.waitUntil(lambda: len(saved) == 2, timeout=WAIT_MS)
    vote, last = VoteStore(services.runs()).votes()
    assert vote["blind"] is False and vote[f"{vote['winner']}_model"] == right_model
    assert last["winner"] == "both_bad" and last["blind"] is False   # blind stayed off


def test_ordering_keys():
    from promptbench.gui.rank.ballot.nway import Ordering, ranking_args

    o = Ordering(4)
    assert not o.tie_next() and not o.undo()          # nothing to tie with or undo yet
    assert o.pick(2) and not o.pick(2) and not o.pick(7)
    assert o.tie_next() and o.pick(0) and o.text(list("ABCD")) == "C = A"
    assert o.tie_next() and o.undo() and not o.tie_pending  # undo takes back a pending "=" first
    assert not o.ready() and o.pick(3) and o.ready()
    assert o.finish() == [[2, 0], [3], [1]] and ranking_args(o.finish()) == ([2, 0, 3, 1], [[0, 1]])
    assert o.tie_next() and o.finish() == [[2, 0], [3, 1]] and o.place_of(3) == 3


def test_pair_chooser_asks_where_the_board_is_least_sure(qtbot, services, widgets):
    votes = VoteStore(services.runs())
    a, b, c = (contestant(m) for m in MODELS)
    for case in range(12):   # alpha clearly beats beta; beta and gamma are even
        votes.record_vote(a=a, b=b, winner="a", test_case=case, left="a" if case % 2 else "b")
        votes.record_vote(a=b, b=c, winner="a" if case % 2 else "b", test_case=case)
    items = [RankItem("x", [(a, None, "1"), (b, None, "2")]), RankItem("y", [(b, None, "3"), (c, None, "4")])]
    view = make_view(qtbot, services, widgets)
    chosen = []

    def chooser(board, remaining):
        chosen.append(board)
        return least_certain(board, remaining)

    view.start_queue(items, pair_chooser=chooser)
    qtbot.waitUntil(lambda: view.current is not None, timeout=WAIT_MS)
    assert chosen[0] is not None and len(chosen[0].ratings) == 3      # the first pick saw the stored votes
    assert set(view.current.contestants()) == {b, c}                  # the uncertain pair first
    from promptbench.core.ranking.active import votes_to_separate_top_two
    more = votes_to_separate_top_two(view.queue_board.board)
    if more is not None:
        assert view.estimate_label.text() == f"about {more} more vote{'s' if more != 1 else ''} to separate the top two"
