"""Measurements the project owns: `quality` (style and content loss of a stylisation)."""
