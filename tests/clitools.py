"""Running the command line in tests: in-process (Click's runner) and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Tiny images run fastest on one thread (and far faster than two on a busy machine).

    Autouse wherever it is imported (tests/cli/conftest.py, test modules that run the model).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def invoke(args: list[object], input: bytes | str | None = None) -> Result:
    """`stylize ARGS` in-process; stdout and stderr are kept apart."""
    from stylize.cli.main import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def run_stylize(args: list[object], **kwargs: object) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """`python -m stylize ARGS` as a real process (works in a checkout and with the package installed)."""
    return subprocess.run(
        [sys.executable, "-m", "stylize", *map(str, args)], env=subprocess_env(), capture_output=True, timeout=300,
        **kwargs,
    )  # type: ignore[call-overload]  # fmt: skip


def subprocess_env() -> dict[str, str]:
    """The environment for `python -m stylize`: this checkout first on the path, one thread."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def error_lines(stderr: str) -> list[str]:
    """The `error:` lines of a run's standard error."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def leftovers(folder: Path) -> list[Path]:
    """Temporary files an interrupted or failed write might have left."""
    from stylize.media.atomic import is_temp_file

    return [p for p in folder.rglob("*") if is_temp_file(p)]
