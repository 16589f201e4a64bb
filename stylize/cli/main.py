"""`stylize`: the command group, and the one place where errors become messages and exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from stylize._version import __version__
from stylize.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_SETUP, StylizeError

EPILOG = """\b
Examples:
  stylize image photo.jpg -s wave.jpg -o out.png
  stylize batch photos/ -s styles/ -o out/ --recursive
  stylize video clip.mp4 -s wave.jpg -o clip_wave.mp4 --temporal flow
  stylize weights list

Exit codes: 0 done, 1 some inputs failed, 2 usage or setup error, 130 interrupted."""


class LazyGroup(click.Group):
    """A group whose commands are imported only when used, so `--help` and `--version` stay instant.

    `lazy` maps a command name to ("module:attribute" of its click command, one-line help); the
    help line is shown in the command list without importing the command.
    """

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name][0].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class StylizeGroup(LazyGroup):
    """The top-level group: reports errors in one line (a traceback only with --debug)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        kwargs.setdefault("prog_name", "stylize")
        kwargs["standalone_mode"] = False
        debug = "--debug" in sys.argv[1:] or os.environ.get("STYLIZE_DEBUG") == "1"
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = EXIT_SETUP
        except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            from stylize.cli.console import print_error

            print_error("interrupted")
            code = EXIT_INTERRUPTED
        except StylizeError as exc:
            if debug:
                raise
            from stylize.cli.console import print_error

            print_error(exc)
            code = exc.exit_code
        except Exception as exc:  # an unexpected failure is still one line
            if debug:
                raise
            from stylize.cli.console import print_error

            print_error(f"unexpected {type(exc).__name__}: {exc}", hint="run with --debug for the traceback")
            code = EXIT_FAILED
        sys.exit(code or 0)


COMMANDS = {
    "image": ("stylize.cli.image:image", "Stylise one image (or stdin to stdout)."),
    "batch": ("stylize.cli.batch:batch", "Stylise files and folders with one or more styles."),
    "video": ("stylize.cli.video:video", "Stylise a video file, keeping its timing and sound."),
    "weights": ("stylize.cli.weights:weights", "List, install, verify and fetch checkpoints."),
    "models": ("stylize.cli.models:models", "The available models and whether their weights are present."),
    "train": ("stylize.cli.train:train", "Train AdaAttN, AdaAttN-video or StyA2K weights."),
    "metrics": ("stylize.cli.metrics:metrics", "Temporal consistency and style/content quality figures."),
    "grid": ("stylize.cli.grid:grid", "A contact sheet: rows of contents, columns of styles."),
}


@click.group(cls=StylizeGroup, lazy=COMMANDS, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="stylize")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on standard error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Arbitrary neural style transfer (AdaAttN, StyA2K) for images, folders and videos."""
    from stylize.cli.console import setup_logging

    setup_logging(debug=debug, quiet=quiet)
    ctx.obj = {"debug": debug, "quiet": quiet}


def main() -> None:
    cli.main()
