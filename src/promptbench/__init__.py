"""promptbench: a desktop workbench for iterating on LLM prompts."""

__version__ = "0.1.0"
