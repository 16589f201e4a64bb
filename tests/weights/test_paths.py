"""Where stylize looks for weights, and where its own trained weights are found after an install."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylize.weights.paths import search_locations


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "env"))
    assert search_locations(tmp_path / "given") == [(tmp_path / "given", "--weights")]
    assert search_locations(None) == [(tmp_path / "env", "$STYLIZE_WEIGHTS")]
    monkeypatch.delenv("STYLIZE_WEIGHTS")
    whys = [why for _, why in search_locations(None)]
    assert whys[-1] == "user data folder"
