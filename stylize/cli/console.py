"""Rich output, on standard error so standard output stays free for data (PNG, JSON)."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

from stylize.errors import StylizeError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
# Tables that are a command's answer (`stylize models`, `stylize weights list`) go to standard output.
out_console = Console(highlight=False)


def print_error(error: StylizeError | str, hint: str | None = None) -> None:
    """One line `error: ...`, then an optional `hint: ...` line."""
    message = error.message if isinstance(error, StylizeError) else error
    hint = error.hint if isinstance(error, StylizeError) and hint is None else hint
    err_console.print(f"[bold red]error:[/] {_escape(message)}")
    if hint:
        err_console.print(f"[dim]hint:[/] {_escape(hint)}")


def print_warning(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {_escape(message)}")


def print_note(message: str) -> None:
    err_console.print(f"[dim]{_escape(message)}[/]")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def setup_logging(debug: bool = False, quiet: bool = False) -> None:
    """Library warnings (logging) shown through Rich; info too with --debug; only errors with --quiet."""
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    handler = RichHandler(console=err_console, show_time=False, show_path=debug, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("stylize")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
