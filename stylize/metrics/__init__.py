"""Measurements of stylised outputs (pure functions; the CLI commands are in `stylize.cli.metrics_*`)."""
