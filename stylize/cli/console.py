"""Rich output, on standard error so standard output stays free for data (PNG, JSON)."""

from __future__ import annotations

import logging
from typing import Any

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


class ProgressBar:
    """The one progress display of every command: a Rich bar on standard error, or nothing.

    It is off with `-q` and when standard error is not a terminal (a log file gets no bar). Use
    it as a context manager and call `update`; `print` writes a line above the bar.

    Args:
        description: the text before the bar.
        total: the number of steps (or bytes), None while unknown.
        unit: what a step is ("image", "frame", "step"; "bytes" shows sizes and transfer speed).
        quiet: no bar.
        transient: remove the bar when done (a summary line usually follows).
    """

    def __init__(
        self, description: str, total: float | None = None, *, unit: str = "", quiet: bool = False,
        completed: float = 0, transient: bool = True,
    ) -> None:  # fmt: skip
        self.enabled = not quiet and err_console.is_terminal
        self._settings = (description, total, unit, completed, transient)
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            description, total, unit, completed, transient = self._settings
            amount = (
                (DownloadColumn(), TransferSpeedColumn())
                if unit == "bytes"
                else (MofNCompleteColumn(), _rate_column(unit))
            )
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), *amount, TextColumn("eta"), TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"), console=err_console, transient=transient,
            )  # fmt: skip
            self._task = self._bar.add_task(description, total=total, completed=completed, info="")
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def update(
        self, *, completed: float | None = None, advance: float | None = None, total: float | None = None,
        description: str | None = None, info: str | None = None,
    ) -> None:  # fmt: skip
        """Move the bar; `info` is a short text after it (losses, a rate the bar does not know)."""
        if self._bar is None:
            return
        fields: dict[str, Any] = {"info": info} if info is not None else {}
        if total is not None:
            fields["total"] = total
        self._bar.update(self._task, completed=completed, advance=advance, description=description, **fields)

    def print(self, line: str) -> None:
        """A line above the bar (or just a line, without one)."""
        console = self._bar.console if self._bar is not None else err_console
        console.print(line, markup=False, highlight=False)


def _rate_column(unit: str) -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    per = f" {unit}s/s" if unit else "/s"

    class Rate(ProgressColumn):
        """Steps per second, or seconds per step when slower than one a second."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            text = "-" if not speed else f"{speed:.1f}{per}" if speed >= 1 else f"{1 / speed:.1f} s each"
            return Text(text, style="progress.data.speed")

    return Rate()
