"""`stylize batch`: files and folders x styles -> an output folder, resumable, one failure never stops the run."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from stylize.cli.console import ProgressBar
from stylize.cli.options import (
    engine_choice_of,
    engine_options,
    image_io_options,
    is_quiet,
    load_stylizer,
    model_choice_of,
    model_options,
    style_choice_of,
    style_options,
)
from stylize.errors import EXIT_FAILED, SetupError
from stylize.pipeline import plan as planning
from stylize.pipeline.plan import DEFAULT_TEMPLATE, PAIRINGS, TEMPLATE_FIELDS, Plan
from stylize.pipeline.settings import EngineChoice, ModelChoice, StyleChoice

EPILOG = (
    """\b
Examples:
  stylize batch photos/ -s wave.jpg -o out/
  stylize batch photos/ -s styles/ -o out/ --recursive --skip-existing
  stylize batch a.jpg b.jpg -s x.jpg -s y.jpg -o out/ --pair zip --template "{style}/{content}.png"
  find . -name '*.jpg' | stylize batch - -s wave.jpg -o out/ --json > report.jsonl

\b
Template fields: """
    + ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
    + """.
\b
Every style -s makes its own outputs; with --style-weights or --mask the styles are mixed into
one output per content instead. Each output is written atomically: an interrupted run leaves
no partial file, and --skip-existing then does exactly what is missing. Exit status: 0 all
done, 1 some inputs failed (a table says which and why), 2 usage or setup error."""
)


@click.command(epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str, allow_dash=True))
@style_options
@click.option(
    "--output",
    "-o",
    "out_dir",
    required=True,
    type=click.Path(path_type=str, file_okay=False),
    help="Output folder (created if needed).",
)
@click.option("--recursive", "-r", is_flag=True, help="Scan sub-folders too (their structure is kept in the output).")
@click.option(
    "--ext",
    "extensions",
    default=None,
    metavar="LIST",
    help="Extensions a folder scan picks up, e.g. png,jpg (default: every image and video stylize reads).",
)
@click.option(
    "--pair",
    type=click.Choice(PAIRINGS),
    default="all",
    show_default=True,
    help="all: every content with every style; zip: the i-th content with the i-th style.",
)
@click.option(
    "--template",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="Output file name under the output folder; may hold sub-folders (see the fields below).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpg", "webp", "tiff"]),
    default=None,
    help="Image output format ({ext}); default: the content's own when stylize writes it, else png.",
)
@click.option("--skip-existing", is_flag=True, help="Leave outputs that exist alone (resume an interrupted run).")
@click.option(
    "--jobs",
    "-j",
    "workers",
    type=click.IntRange(0, 64),
    default=2,
    show_default=True,
    help="Threads that decode and write images while the model runs (0: none).",
)
@click.option("--null", "-0", "null", is_flag=True, help="Paths read from standard input (-) are separated by NUL.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per output on standard output: content, style, output, seconds, status, error.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress; only failures.")
@image_io_options
@model_options
@engine_options
@click.pass_context
def batch(
    ctx: click.Context,
    inputs: tuple[str, ...],
    out_dir: str,
    recursive: bool,
    extensions: str | None,
    pair: str,
    template: str,
    fmt: str | None,
    skip_existing: bool,
    workers: int,
    null: bool,
    as_json: bool,
    quiet: bool,
    quality: int,
    max_pixels: int | None,
    **options: Any,
) -> None:
    """Stylise INPUTS (files, folders, or - for paths on standard input) with the -s styles into a folder."""
    quiet = is_quiet(ctx, quiet)
    model_choice = model_choice_of(options)
    style_files = planning.expand_images(options["styles"])
    options["styles"] = tuple(str(p) for p in style_files)
    style_choice = style_choice_of(options)
    engine_choice = engine_choice_of(options)
    mix = style_choice.style_weights is not None or bool(style_choice.masks)

    stdin_paths: list[str] = []
    if "-" in inputs:
        if sys.stdin.isatty():
            raise SetupError("INPUTS has -, but stdin is a terminal; pipe paths in (find ... | stylize batch -)")
        text = sys.stdin.read()
        stdin_paths = text.split("\0") if null else text.splitlines()

    naming = planning.Naming(template, pair, mix, fmt, model_choice.name, skip_existing)
    plan = planning.plan(
        inputs, style_files, out_dir, naming, recursive=recursive, extensions=extensions, stdin_paths=stdin_paths
    )
    report = Report(len(plan.jobs) + len(plan.problems), as_json=as_json, quiet=quiet)
    if not quiet:
        for note in plan.notes:
            report.note(note)
    if not plan.jobs and not plan.problems:
        raise SetupError("nothing to do: no images or videos in " + ", ".join(inputs), hint="see --ext and --recursive")

    with report:
        for problem in plan.problems:
            report.failed_input(problem.path, problem.message)
        try:
            run(
                plan, model_choice, style_choice, report, engine=engine_choice, workers=workers, quality=quality,
                max_pixels=max_pixels,
            )  # fmt: skip
        except KeyboardInterrupt:
            report.interrupted()
            raise
    report.summary()
    if report.failures:
        ctx.exit(EXIT_FAILED)


def run(
    plan: Plan, model_choice: ModelChoice, style_choice: StyleChoice, report: Report, *, engine: EngineChoice,
    workers: int, quality: int, max_pixels: int | None,
) -> None:  # fmt: skip
    """Load the model and read the styles (only when something is to be done), then run the jobs on the engine."""
    from stylize.pipeline.engines import open_engine
    from stylize.pipeline.image_runner import SKIPPED, Outcome
    from stylize.pipeline.pictures import read_masks, read_style_files

    todo = plan.todo
    if not todo:  # every output exists
        for job in plan.jobs:
            report.outcome(Outcome(job, SKIPPED))
        return
    used = list(dict.fromkeys(style for job in todo for style in job.styles))
    styles = read_style_files(used, style_choice.style_size, max_pixels)
    masks = read_masks(style_choice.masks, max_pixels)
    if engine.name != "local":
        report.status(f"starting the {engine.name} engine")
    with open_engine(engine, model_choice) as runner:
        stylizer = load_stylizer(runner.driver_model(model_choice))
        report.status(f"preparing {len(used)} style(s)")
        runner.run_jobs(
            stylizer, plan.jobs, styles, style_choice, report.outcome, masks=masks, io_threads=workers,
            quality=quality, max_pixels=max_pixels,
        )  # fmt: skip


class Report:
    """How a batch shows itself: a Rich progress bar on a terminal, plain lines otherwise, JSON on stdout."""

    def __init__(self, total: int, *, as_json: bool, quiet: bool) -> None:
        from stylize.cli.console import err_console

        self.console = err_console
        self.total = total
        self.as_json = as_json
        self.quiet = quiet
        self.counts = {"done": 0, "skipped": 0, "failed": 0}
        self.failures: list[tuple[str, str, str]] = []  # (input, style, error)
        self.started = time.perf_counter()
        self.bar = ProgressBar("loading the model", total, quiet=quiet, transient=False)

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> Report:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    @property
    def finished(self) -> int:
        return sum(self.counts.values())

    # --- events --------------------------------------------------------------------------

    def status(self, text: str) -> None:
        self.bar.update(description=text)

    def note(self, text: str) -> None:
        from stylize.cli.console import print_note

        print_note(text)

    def failed_input(self, path: str, message: str) -> None:
        self._record("failed", path, None, None, 0.0, f"{path}: {message}")

    def outcome(self, outcome: Any) -> None:
        job = outcome.job
        styles = [str(s) for s in job.styles]
        self._record(
            outcome.status, str(job.content.path), styles[0] if len(styles) == 1 else styles, str(job.output),
            outcome.seconds, outcome.error,
        )  # fmt: skip

    def _record(
        self, status: str, content: str, style: str | list[str] | None, output: str | None, seconds: float,
        error: str | None,
    ) -> None:  # fmt: skip
        self.counts[status] += 1
        if status == "failed":
            shown_style = style if isinstance(style, str) or style is None else " + ".join(style)
            self.failures.append((content, Path(shown_style).name if shown_style else "", error or ""))
        if self.as_json:
            record = {"content": content, "style": style, "output": output, "seconds": round(seconds, 3),
                      "status": status, "error": error}  # fmt: skip
            click.echo(json.dumps(record, ensure_ascii=False))
        line = self._line(status, content, output, seconds, error)
        if self.bar.enabled:
            self.bar.update(advance=1, description=Path(output or content).name)
            if status == "failed":
                self.bar.print(line)
        elif not self.quiet:
            self.bar.print(line)

    def _line(self, status: str, content: str, output: str | None, seconds: float, error: str | None) -> str:
        head = f"[{self.finished}/{self.total}]"
        if status == "failed":
            return f"{head} failed: {error}"
        if status == "skipped":
            return f"{head} skipped {output} (exists)"
        return f"{head} {content} -> {output} ({seconds:.2f} s)"

    def interrupted(self) -> None:
        self.bar.close()
        self.console.print(
            f"interrupted after {self.finished} of {self.total}; no partial file was left. "
            "Run the same command with --skip-existing to finish.",
            markup=False,
            highlight=False,
        )

    def summary(self) -> None:
        if self.failures:
            from rich.table import Table

            table = Table(title=f"{len(self.failures)} failed", title_justify="left", show_lines=False)
            table.add_column("input", overflow="fold")
            table.add_column("style", overflow="fold")
            table.add_column("why", overflow="fold")
            for content, style, error in self.failures:
                table.add_row(content, style, error.removeprefix(f"{content}: "))
            self.console.print(table)
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            parts = [f"{n} {status}" for status, n in self.counts.items() if n or status == "done"]
            self.console.print(f"{', '.join(parts)} in {elapsed:.1f} s", markup=False, highlight=False)
