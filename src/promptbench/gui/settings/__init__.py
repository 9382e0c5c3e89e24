"""The settings dialog: model catalog and API keys, local models, general settings."""

from promptbench.gui.settings.settings_dialog import SettingsDialog

__all__ = ["SettingsDialog"]
