"""Headless subcommands of the CLI: thin wrappers over core."""
