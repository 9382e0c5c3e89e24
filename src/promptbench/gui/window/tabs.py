"""The main window's tabs, in order (View menu: Ctrl+1 … Ctrl+8)."""

TAB_EDIT, TAB_HISTORY, TAB_COMPARE, TAB_EVAL, TAB_RUNS, TAB_RANK, TAB_LEADERBOARD, TAB_DASHBOARD = range(8)
TAB_NAMES = ("Edit", "History", "Compare", "Eval", "Runs", "Rank", "Leaderboard", "Dashboard")
