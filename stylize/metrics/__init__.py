"""Measurements the project owns, as pure functions: `temporal` (warping error, style distance of a
video) and `quality` (style and content loss of a stylisation). The commands are `stylize.cli.metrics_*`."""
