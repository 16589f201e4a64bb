"""stylize.pipeline.grid: names of the cells."""

from __future__ import annotations

from pathlib import Path

from stylize.pipeline.grid import unique_stems


def test_unique_stems() -> None:
    assert unique_stems([Path("a/x.png"), Path("b/x.jpg"), Path("y.png")]) == ["x", "x-2", "y"]
