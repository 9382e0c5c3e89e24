"""The version, in a module of its own: reading it imports nothing else of promptbench."""

__version__ = "0.1.0"
