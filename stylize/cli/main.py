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

    `lazy` maps a command name to "module:attribute" of its click command.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


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
        except click.exceptions.Abort:
            code = EXIT_INTERRUPTED
        except KeyboardInterrupt:
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
    "image": "stylize.cli.image:image",
    "batch": "stylize.cli.batch:batch",
    "video": "stylize.cli.video:video",
    "weights": "stylize.cli.weights:weights",
    "models": "stylize.cli.models:models",
    "train": "stylize.cli.train:train",
    "metrics": "stylize.cli.metrics:metrics",
    "grid": "stylize.cli.grid:grid",
}


@click.group(
    cls=StylizeGroup, lazy=COMMANDS, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
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
