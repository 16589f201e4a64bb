"""`stylize weights`: list, install, verify, path, fetch: everything about checkpoint files."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import click

from stylize.errors import EXIT_SETUP, WeightsError
from stylize.weights.download import DownloadProgress
from stylize.weights.registry import MODELS, ModelSpec, get_spec

EPILOG = """\b
Examples:
  stylize weights list
  stylize weights fetch adaattn
  stylize weights install ~/Downloads/AdaAttN_model.zip
  stylize weights install StyA2K/            # a clone of github.com/LearningHx/StyA2K
  stylize weights verify
  stylize weights path

Files are searched in --weights, else $STYLIZE_WEIGHTS, else the checkout's weights/, else the
user data folder; install and fetch write to --weights, else $STYLIZE_WEIGHTS, else the user
data folder."""

weights_option = click.option(
    "--weights",
    "weights",
    type=click.Path(path_type=str),
    default=None,
    help="The weights folder (else $STYLIZE_WEIGHTS, the checkout's weights/, the user data folder).",
)
models_option = click.option(
    "--model", "-m", "models", multiple=True, type=click.Choice(list(MODELS)), help="Only this model (repeatable)."
)


def _specs(models: tuple[str, ...]) -> list[ModelSpec]:
    return [get_spec(name) for name in models] if models else list(MODELS.values())


@click.group(epilog=EPILOG)
def weights() -> None:
    """List, install, verify and fetch the models' checkpoint files."""


@weights.command("list", epilog="\b\nExample:\n  stylize weights list --model stya2k")
@weights_option
@models_option
def list_command(weights: str | None, models: tuple[str, ...]) -> None:
    """Each model: the files it needs, where stylize looked, found or missing, verified or not."""
    from rich.table import Table

    from stylize.cli.console import out_console
    from stylize.weights.checkpoint import digests, verify
    from stylize.weights.locate import bundled_files, survey

    for spec in _specs(models):
        searched = survey(spec, weights)
        chosen = next((s for s in searched if s.complete), None) or next((s for s in searched if s.found), None)
        table = Table(title=f"{spec.name}: {spec.title} ({spec.purpose})", title_justify="left")
        table.add_column("file")
        table.add_column("status")
        table.add_column("where", overflow="fold")
        for wf in spec.all_files:
            ref = chosen.found.files.get(wf.filename) if chosen and chosen.found else None
            if ref is None:
                table.add_row(wf.filename, "[red]missing[/]", "")
                continue
            check = verify(wf, digests(ref))
            colour = {"verified": "green", "unknown": "yellow", "differs": "yellow"}[check.status]
            table.add_row(wf.filename, f"[{colour}]{check.status}[/]", ref.display)
        out_console.print(table)
        for place in searched:
            state = "complete" if place.complete else place.problem
            out_console.print(f"  looked in {place.why}: {place.location} ({state})", markup=False, soft_wrap=True)
        if not any(s.complete for s in searched):
            if bundled_files(spec) is not None:
                out_console.print("  stylize's own trained weights will be used", markup=False)
            out_console.print(f"  to get them: {spec.how_to_get}", markup=False, soft_wrap=True)
        out_console.print()


@weights.command("install", epilog="\b\nExample:\n  stylize weights install AdaAttN_model.zip")
@click.argument("source", type=click.Path(path_type=Path))
@weights_option
@models_option
def install_command(source: Path, weights: str | None, models: tuple[str, ...]) -> None:
    """Copy the checkpoints of an official release (folder, checkout or zip) into the weights folder.

    Each file is checked (safe load, right model, strict keys and shapes) before it is written; a
    zip with an entry that would land outside the folder is refused as a whole.
    """
    from stylize.weights.install import install
    from stylize.weights.paths import install_target

    target = install_target(weights)
    placed = install(source, target, models)
    _show_placed(placed)
    _show_readiness(target, {get_spec(p.model) for p in placed if p.model != "encoder"} or set(_specs(models)))


@weights.command("verify", epilog="\b\nExample:\n  stylize weights verify --model adaattn")
@weights_option
@models_option
def verify_command(weights: str | None, models: tuple[str, ...]) -> None:
    """Load every model's files strictly and compare them with the released files.

    Exit status 2 if a file is broken or, with --model, missing.
    """
    from rich.table import Table

    from stylize.cli.console import out_console, print_error
    from stylize.weights.checkpoint import load_network
    from stylize.weights.locate import resolve

    table = Table(title="weights", title_justify="left")
    for column in ("model", "file", "status", "where"):
        table.add_column(column, overflow="fold")
    broken = found_any = False
    for spec in _specs(models):
        try:
            files = resolve(spec, weights)
        except WeightsError as exc:
            if models:
                raise
            table.add_row(spec.name, "", "[dim]missing[/]", exc.hint or "")
            continue
        found_any = True
        try:
            with _quiet_logger("stylize.weights.checkpoint"):  # the table says what its warnings would
                _, report = load_network(files)
        except WeightsError as exc:
            broken = True
            table.add_row(spec.name, "", "[red]broken[/]", exc.message)
            continue
        for filename, check in report.items():
            colour = {"verified": "green", "unknown": "yellow", "differs": "yellow"}[check.status]
            where = files.files[filename].display + (" (stylize's own)" if files.bundled else "")
            table.add_row(spec.name, filename, f"[{colour}]{check.status}[/]", where)
    out_console.print(table)
    if broken:
        print_error("some weights do not load (see the table)")
        raise SystemExit(EXIT_SETUP)
    if not found_any:
        raise WeightsError("no weights found for any model", hint="see `stylize weights list`")


@weights.command("path", epilog="\b\nExamples:\n  stylize weights path\n  stylize weights path adaattn")
@click.argument("model", required=False, type=click.Choice(list(MODELS)))
@weights_option
def path_command(model: str | None, weights: str | None) -> None:
    """Print the folder install and fetch write to, or where MODEL's files load from."""
    from stylize.weights.locate import resolve
    from stylize.weights.paths import install_target

    if model is None:
        click.echo(str(install_target(weights)))
    else:
        click.echo(resolve(get_spec(model), weights).location)


@weights.command("fetch", epilog="\b\nExamples:\n  stylize weights fetch adaattn\n  stylize weights fetch all")
@click.argument("names", nargs=-1, required=True, type=click.Choice([*MODELS, "all"]))
@weights_option
@click.option("--force", is_flag=True, help="Download even files that are already in place.")
def fetch_command(names: tuple[str, ...], weights: str | None, force: bool) -> None:
    """Download models' official files from their public locations, check them and put them in place.

    Interrupted downloads resume. $STYLIZE_WEIGHTS_MIRROR points the downloads at a mirror.
    """
    from stylize.cli.console import print_note
    from stylize.weights.download import fetch
    from stylize.weights.paths import install_target

    target = install_target(weights)
    specs = list(MODELS.values()) if "all" in names else [get_spec(n) for n in dict.fromkeys(names)]
    for spec in specs:
        with _download_progress() as progress:
            placed = fetch(spec, target, force=force, progress=progress)
        if placed:
            _show_placed(placed)
        else:
            print_note(f"{spec.name}: every file is already in {target}")
    _show_readiness(target, set(specs))


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _download_progress() -> Iterator[DownloadProgress]:
    """A download bar per file on a terminal; a line per file otherwise."""
    from stylize.cli.console import ProgressBar, print_note

    bars: list[ProgressBar] = []

    def start(label: str, total: int | None, have: int) -> None:
        if bars:
            bars[-1].close()
        bars.append(ProgressBar(label, total, unit="bytes", completed=have).__enter__())
        if not bars[-1].enabled:
            print_note(f"downloading {label}" + _sizes(total, have))

    try:
        yield DownloadProgress(start=start, advance=lambda n: bars[-1].update(advance=n))
    finally:
        for bar in bars:
            bar.close()


def _sizes(total: int | None, have: int) -> str:
    if total is None:
        return ""
    return f" ({total / 1e6:.1f} MB" + (f", resuming at {have / 1e6:.1f} MB)" if have else ")")


def _show_placed(placed: list) -> None:  # type: ignore[type-arg]
    from rich.table import Table

    from stylize.cli.console import out_console

    table = Table(title="installed", title_justify="left")
    for column in ("model", "file", "status", "now at"):
        table.add_column(column, overflow="fold")
    for p in placed:
        table.add_row(p.model, p.filename, p.verification.status, str(p.destination))
    out_console.print(table)


def _show_readiness(target: Path, specs: set[ModelSpec]) -> None:
    """Which models can now load from the target folder, and what the others still lack."""
    from stylize.cli.console import print_note, print_warning
    from stylize.weights.locate import locate_files, missing_files

    for spec in sorted(specs, key=lambda s: list(MODELS).index(s.name)):
        try:
            missing = missing_files(locate_files(spec, target))
        except WeightsError:
            continue
        if missing:
            print_warning(f"{spec.name} still needs {', '.join(missing)} (stylize weights fetch {spec.name})")
        else:
            print_note(f"{spec.name} is ready ({target})")
