"""Plain-Python core of promptbench. Nothing under this package may import Qt."""
