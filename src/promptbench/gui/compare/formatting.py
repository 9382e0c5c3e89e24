"""How numbers read on screen: core/figures.py, shared with the command line."""

from promptbench.core.figures import (DASH, fmt_cost, fmt_elapsed, fmt_ms, fmt_tokens, fmt_tps, local_mode_label,
                                      local_time, short_version)

__all__ = ["DASH", "fmt_cost", "fmt_elapsed", "fmt_ms", "fmt_tokens", "fmt_tps", "local_mode_label", "local_time",
           "short_version"]
