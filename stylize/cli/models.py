"""`stylize models`: the available models, what each is for, and whether its weights are present."""

from __future__ import annotations

import click

EPILOG = """\b
Examples:
  stylize models
  stylize models --weights ~/checkpoints"""


@click.command(epilog=EPILOG)
@click.option("--weights", type=click.Path(path_type=str), default=None, help="Look only in this folder or zip.")
def models(weights: str | None) -> None:
    """A table of the models: purpose (image or video), paper, and where their weights are."""
    from rich.table import Table

    from stylize.cli.console import out_console
    from stylize.weights.locate import bundled_files, survey
    from stylize.weights.registry import MODELS

    table = Table(title="models", title_justify="left")
    for column in ("model", "for", "paper", "weights"):
        table.add_column(column, overflow="fold")
    for spec in MODELS.values():
        searched = survey(spec, weights)
        complete = next((s for s in searched if s.complete), None)
        if complete is not None:
            state = f"[green]present[/] ({complete.location})"
        elif bundled_files(spec) is not None:
            state = "[yellow]stylize's own weights[/] (no release installed)"
        else:
            partial = next((s for s in searched if s.found), None)
            lacking = f": {partial.problem}" if partial else ""
            state = f"[red]missing[/]{lacking} (stylize weights fetch {spec.name})"
        table.add_row(spec.name, spec.purpose, spec.title, state)
    out_console.print(table)
