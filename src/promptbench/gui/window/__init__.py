"""The main window's parts: its tabs, its menus, and how it moves between prompts (gui/mainwindow.py puts them together)."""
