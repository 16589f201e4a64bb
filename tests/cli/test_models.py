"""`stylize models`: what exists, what it is for, whether its weights are here."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylize.weights import locate
from stylize.weights.locate import ModelFiles
from tests.clitools import invoke


def rows(stdout: str) -> dict[str, str]:
    """model name -> the text of its table row(s)."""
    found: dict[str, str] = {}
    current = None
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) == 4 and cells[0] in ("adaattn", "adaattn-video", "stya2k"):
            current = cells[0]
        if current and len(cells) == 4:
            found[current] = found.get(current, "") + " " + " ".join(cells)
    return found


def test_models_with_weights_present(parity_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(parity_weights))
    result = invoke(["models"])
    assert result.exit_code == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {"adaattn", "adaattn-video", "stya2k"}
    assert "image" in table["adaattn"] and "video" in table["adaattn-video"] and "image" in table["stya2k"]
    assert all("present" in row for row in table.values())


def test_models_missing_and_bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    table = rows(invoke(["models"]).stdout)
    assert all("missing" in row and "fetch" in row for row in table.values())

    def own_weights(spec):  # type: ignore[no-untyped-def]
        return ModelFiles(spec, {}, "bundled", bundled=True) if spec.name == "adaattn" else None

    monkeypatch.setattr(locate, "bundled_files", own_weights)
    table = rows(invoke(["models"]).stdout)
    assert "stylize's own" in table["adaattn"] and "missing" in table["stya2k"]


@pytest.mark.parametrize("command", ["models", "image", "batch"])
def test_help_shows_an_example(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout and f"stylize {command}" in result.stdout
