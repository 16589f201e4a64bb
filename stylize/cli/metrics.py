"""`stylize metrics`: measurements the project owns (temporal consistency, style/content quality)."""

from __future__ import annotations

import click

from stylize.cli.main import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy={
        "temporal": ("stylize.cli.metrics_temporal:temporal", "Warping error and style strength of a stylised video."),
        "quality": ("stylize.cli.metrics_quality:quality", "Style and content loss over content-style pairs."),
    },
)
def metrics() -> None:
    """Measure a stylisation: temporal consistency of videos, style and content loss of images."""
