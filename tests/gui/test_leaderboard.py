"""LEADERBOARD: imported votes with a clear winner -> table, chart, win rates, filters."""

from __future__ import annotations

import json

from PySide6.QtCore import QDate, QModelIndex, QPointF, Qt
from PySide6.QtWidgets import QToolTip

from promptbench.core.ranking.leaderboard import Contestant, fit
from promptbench.core.ranking.votes import VoteStore
from promptbench.gui.rank import LeaderboardView, RankItem, RankView
from promptbench.gui.leaderboard.leaderboard_data import by_model
from tests.gui.test_rank import WAIT_MS, services, widgets  # noqa: F401  (fixtures)

P, Q = "greeter.prompt.yml", "summary.prompt.yml"
V1, V2 = "3f2a1b0c9d8e7f60", "aa11bb22cc33dd44"


def c(model: str, prompt: str = P, version: str = V1) -> Contestant:
    return Contestant(prompt, version, model)


def line(a: Contestant, b: Contestant, winner: str, case: int) -> str:
    return json.dumps({"a": a.__dict__, "b": b.__dict__, "winner": winner, "test_case": str(case),
                       "left": "a" if case % 2 else "b"})


def import_votes(services) -> VoteStore:
    """P: alpha clearly first, then beta, then gamma. Q (another import): gamma beats alpha."""
    alpha, beta, gamma = c("model-alpha"), c("model-beta"), c("model-gamma")
    clear = []
    for case in range(12):
        clear.append(line(alpha, beta, "b" if case % 5 == 0 else "a", case))
        clear.append(line(alpha, gamma, "tie" if case == 3 else "a", case))
        clear.append(line(beta, gamma, "a" if case % 3 else "both_bad", case))
    other = [line(c("model-gamma", Q, V2), c("model-alpha", Q, V2), "a" if case % 4 else "b", case)
             for case in range(8)]
    votes = VoteStore(services.runs())
    assert votes.import_jsonl(clear, source_name="clear.jsonl").imported == 36
    assert votes.import_jsonl(other, source_name="other.jsonl").imported == 8
    for score in (5, 3):
        votes.record_rubric(contestant=alpha, criterion="clarity", score=score)
    return votes


def table_rows(view: LeaderboardView) -> list[list[str]]:
    proxy = view.proxy
    return [[proxy.index(r, col).data() for col in range(proxy.columnCount())] for r in range(proxy.rowCount())]


def wait_board(qtbot, view: LeaderboardView, change) -> None:
    with qtbot.waitSignal(view.board_refreshed, timeout=WAIT_MS):
        change()


def test_leaderboard_matches_fit_and_filters_change_the_drawing(qtbot, services, widgets):  # noqa: F811
    votes = import_votes(services)
    view = LeaderboardView(services)
    widgets(view)
    view.resize(1250, 800)
    view.show()
    qtbot.waitUntil(lambda: view.board is not None, timeout=WAIT_MS)
    expected = fit(votes.battles(), bootstrap_rounds=200, seed=0)
    assert view.board.to_json() == expected.to_json() and view.board.left_advantage == expected.left_advantage

    rows = table_rows(view)
    header = view.model.columns()
    assert header[:9] == ["Rank", "Prompt", "Version", "Model", "Rating", "Interval", "Votes", "W / T / L", "Both bad"]
    assert header[9] == "Clarity"
    assert [(r[1], r[3]) for r in rows] == [(x.contestant.prompt, x.contestant.model) for x in expected.ratings]
    assert rows[0][1:4] == [P, V1[:8], "model-alpha"]           # the clear winner on top
    for row, want in zip(rows, expected.ratings):
        assert row[4] == f"{want.rating:.0f}" and row[5] == f"[{want.ci_low:.0f}, {want.ci_high:.0f}]"
        assert row[0] == str(want.rank) and row[6] == str(want.votes)
        assert row[7] == f"{want.wins} / {want.ties} / {want.losses}" and row[8] == str(want.both_bad)
    assert rows[0][9] == "4.00" and rows[1][9] == "—"
    labels = view.chart.labels
    assert view.chart.points() == [(label, r.rating, r.ci_low, r.ci_high) for label, r in zip(labels, expected.ratings)]
    assert labels[0] == f"model-alpha · {P} @ {V1[:8]}"       # two prompts on the board: named
    assert f"rating {expected.ratings[0].rating:.1f}" in view.chart.tooltip_text(0)

    box = view.chart.plot.getPlotItem().getViewBox()            # hover the top row's dot
    scene = box.mapViewToScene(QPointF(expected.ratings[0].rating, len(expected.ratings) - 1))
    view.chart._on_mouse_moved(scene)
    assert view.chart.row_at(expected.ratings[0].rating, len(expected.ratings) - 1) == 0
    qtbot.waitUntil(QToolTip.isVisible, timeout=WAIT_MS)
    assert f"{expected.ratings[0].ci_low:.1f}" in QToolTip.text() and "rank 1" in QToolTip.text()

    # the footer speaks plain words; the statistics (as the footer used to read them) are in its tooltip
    footer, stats = view.footer.text(), view.footer.toolTip()
    low, high = expected.left_advantage_ci
    assert f"{expected.n_battles} battles" in stats and f"{expected.n_test_cases} test cases" in stats
    assert f"×{expected.left_advantage:.2f} [{low:.2f}, {high:.2f}]" in stats
    assert f"ν = {expected.tie_strength:.2f}" in stats
    nu = expected.tie_strength
    assert footer == (f"{expected.n_battles} pairwise votes on {expected.n_test_cases} test cases"
                      f" · Equal answers tie {nu / (2 + nu):.0%} of the time (ν {nu:.2f})"
                      f" · No clear left/right bias (×{expected.left_advantage:.2f}) · Ranges are 95% sure")
    assert low < 1 < high and "battles" not in footer and "(a vote without one" not in footer

    keys = view.matrix_model.keys
    i, j = keys.index(c("model-alpha").key()), keys.index(c("model-beta").key())
    cell = expected.win_matrix[(keys[i], keys[j])]
    rate = (cell["wins"] + 0.5 * (cell["ties"] + cell["both_bad"])) / cell["n"]
    assert view.matrix_model.index(i, j).data() == f"{rate:.0%}  ({cell['n']})" and cell["n"] == 12
    assert view.matrix_model.index(i, i).data() == "—"
    assert view.matrix_model.index(i, j).data(Qt.ItemDataRole.BackgroundRole).green() > 100   # row wins: green
    qtbot.wait(50)
    view.grab().save("/tmp/leaderboard.png")
    view.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    view.grab().save("/tmp/leaderboard_win_rates.png")
    view.tabs.setCurrentIndex(0)

    # sortable: by votes, most first
    view.table.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    assert [int(r[6]) for r in table_rows(view)] == sorted((r.votes for r in expected.ratings), reverse=True)
    view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)

    # prompt filter: refit on that prompt's votes only
    wait_board(qtbot, view, lambda: view.prompt_box.setCurrentIndex(view.prompt_box.findData(Q)))
    only_q = fit(votes.battles(prompt=Q), bootstrap_rounds=200, seed=0)
    assert [r[3] for r in table_rows(view)] == ["model-gamma", "model-alpha"]
    assert view.chart.points() == [(lab, r.rating, r.ci_low, r.ci_high)
                                   for lab, r in zip(view.chart.labels, only_q.ratings)]
    assert view.chart.labels == [f"model-gamma · {V2[:8]}", f"model-alpha · {V2[:8]}"]
    assert view.pivot.rowCount() == 1 and view.pivot.columnCount() == 2
    wait_board(qtbot, view, lambda: view.prompt_box.setCurrentIndex(0))

    # model filter: hides rows, no refit
    view.model_box.setCurrentIndex(view.model_box.findData("model-beta"))
    assert [r[3] for r in table_rows(view)] == ["model-beta"]
    assert [p[0] for p in view.chart.points()] == [f"model-beta · {V1[:8]}"]
    assert "4 rows hidden by the model filter" in view.footer.text()
    view.model_box.setCurrentIndex(0)

    # session / import filter
    wait_board(qtbot, view, lambda: view.tag_box.setCurrentIndex(view.tag_box.findData("other.jsonl")))
    assert view.board.n_battles == 8 and view.tag_box.currentText() == "import: other.jsonl"
    wait_board(qtbot, view, lambda: view.tag_box.setCurrentIndex(0))

    # per model over all prompts
    wait_board(qtbot, view, lambda: view.group_box.setCurrentIndex(1))
    per_model = fit(by_model(votes.battles()), bootstrap_rounds=200, seed=0)
    assert [r[3] for r in table_rows(view)] == [r.contestant.model for r in per_model.ratings]
    assert [p[0] for p in view.chart.points()] == [r.contestant.model for r in per_model.ratings]
    wait_board(qtbot, view, lambda: view.group_box.setCurrentIndex(0))

    # date range: votes are from today, so "until the day before yesterday" shows none
    view.until_edit.setDate(QDate.currentDate().addDays(-2))
    wait_board(qtbot, view, lambda: view.until_check.setChecked(True))
    assert view.board is None and view.proxy.rowCount() == 0 and view.chart.points() == []
    assert view.footer.text().startswith("No votes match")
    wait_board(qtbot, view, lambda: view.until_check.setChecked(False))
    assert view.board.n_battles == expected.n_battles


def test_a_recorded_vote_refreshes_the_leaderboard(qtbot, services, widgets):  # noqa: F811
    import_votes(services)
    board = LeaderboardView(services)
    rank = RankView(services)
    widgets(board)
    widgets(rank)
    rank.vote_recorded.connect(board._on_vote_recorded)   # as the main window wires them
    qtbot.waitUntil(lambda: board.board is not None, timeout=WAIT_MS)
    before = board.board.n_battles
    rank.start_queue([RankItem("99", [(c("model-beta"), None, "b"), (c("model-gamma"), None, "g")])])
    with qtbot.waitSignal(board.board_refreshed, timeout=WAIT_MS):
        qtbot.keyClick(rank, Qt.Key.Key_1)
    assert board.board.n_battles == before + 1
    assert board.model.rowCount(QModelIndex()) == 5
