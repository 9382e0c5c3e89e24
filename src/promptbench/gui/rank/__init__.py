"""RANK mode (judge outputs, blind by default) and the LEADERBOARD of the votes."""

from promptbench.gui.rank.items import RankItem, RankOutput, least_certain
from promptbench.gui.rank.rank_view import RankView
from promptbench.gui.rank.ballot.thumbs import ThumbsButtons

__all__ = ["RankItem", "RankOutput", "RankView", "ThumbsButtons", "least_certain", "LeaderboardView"]


def __getattr__(name: str):
    if name == "LeaderboardView":   # pyqtgraph loads only when the leaderboard is wanted
        from promptbench.gui.leaderboard.leaderboard_view import LeaderboardView

        return LeaderboardView
    raise AttributeError(name)
