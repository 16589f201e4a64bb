"""The errors a user can cause. Each knows its exit code and may carry a hint; the CLI prints them.

Exit codes (documented in the README):
    0  everything done (outputs skipped because they exist count as done)
    1  some inputs failed, or the run stopped on an error
    2  usage or setup error: bad option, missing or wrong weights
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_SETUP = 2
EXIT_INTERRUPTED = 130


class StylizeError(Exception):
    """Base class: one line of message, an optional hint, an exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class SetupError(StylizeError):
    """The run cannot start: bad option values, missing dependencies."""

    exit_code = EXIT_SETUP


class WeightsError(SetupError):
    """Weights are missing, unreadable, unsafe or not the files the model needs."""


class InputError(StylizeError):
    """An input file (image, video, mask, style) cannot be used."""

    def __init__(self, path: str | Path, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {problem}", hint)
        self.path = str(path)
        self.problem = problem


class OutputError(StylizeError):
    """An output cannot be written (permissions, full disk, bad name)."""

    def __init__(self, path: str | Path, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {problem}", hint)
        self.path = str(path)
        self.problem = problem


class OutOfMemory(StylizeError):
    """Even the smallest working set did not fit on the device."""


def reason(exc: BaseException) -> str:
    """An exception in a few words for a one-line report: an OS error's own words, else the first
    clause of its message's first line (up to "; details", without a final period), else its type.

    The operating system's words are lower-cased ("permission denied"): they follow a colon in our
    messages. A library's own error with an strerror (PyAV's FFmpeg errors) keeps its wording.
    """
    words = getattr(exc, "strerror", None)
    if isinstance(words, str) and words:
        return words.lower() if isinstance(exc, OSError) and type(exc).__module__ == "builtins" else words
    text = str(exc).strip()
    first = text.splitlines()[0].split(";")[0].strip().rstrip(".") if text else ""
    return first[:160] or type(exc).__name__
