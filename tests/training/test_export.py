"""Averaging exports: the element-wise mean in the official files, refused when they do not match."""

from __future__ import annotations

import pytest
import torch

from stylize.errors import WeightsError
from stylize.training.export import average_exports, save_tensors
from stylize.weights.registry import get_spec

SPEC = get_spec("stya2k")


def export(folder, value: float, shape=(2, 3)):
    folder.mkdir(parents=True)
    for wf in SPEC.files:
        save_tensors(folder / wf.filename, {"conv.weight": torch.full(shape, value, dtype=torch.float16)})
    return folder


def test_the_average_is_the_element_wise_mean_in_half_precision(tmp_path):
    folders = [export(tmp_path / str(i), value) for i, value in enumerate((1.0, 2.0, 4.5))]
    written = average_exports(SPEC, folders, tmp_path / "mean")
    assert set(written) == {wf.filename for wf in SPEC.files}
    for wf in SPEC.files:
        state = torch.load(tmp_path / "mean" / wf.filename, weights_only=True)
        assert state["conv.weight"].dtype == torch.float16
        assert torch.equal(state["conv.weight"], torch.full((2, 3), 2.5, dtype=torch.float16))
        assert written[wf.filename][1] == (tmp_path / "mean" / wf.filename).stat().st_size


def test_exports_that_do_not_match_are_refused_by_name(tmp_path):
    a = export(tmp_path / "a", 1.0)
    b = export(tmp_path / "b", 1.0)
    last = SPEC.files[-1].filename
    save_tensors(b / last, {"conv.weight": torch.ones(3, 3, dtype=torch.float16)})
    with pytest.raises(WeightsError, match=rf"{b / last}: its keys or shapes differ"):
        average_exports(SPEC, [a, b], tmp_path / "mean")
    assert not (tmp_path / "mean").exists()  # nothing written, not even the files that matched
    (b / last).unlink()
    with pytest.raises(WeightsError, match="missing"):
        average_exports(SPEC, [a, b], tmp_path / "mean")
    with pytest.raises(WeightsError, match="at least two"):
        average_exports(SPEC, [a], tmp_path / "mean")
    assert not (tmp_path / "mean").exists()
