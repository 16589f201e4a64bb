"""Weights made from exports: the mean of several (refused when they do not match), and the video
model's start from the still model."""

from __future__ import annotations

import pytest
import torch

from stylize.errors import WeightsError
from stylize.training.export import average_exports, export_weights, save_tensors, video_from_still
from stylize.weights.checkpoint import load_strict, read_state_dict
from stylize.weights.locate import FileRef
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


def test_the_video_model_starts_from_the_still_models_relu3_1_half(tmp_path):
    torch.manual_seed(0)
    still_spec, video_spec = get_spec("adaattn"), get_spec("adaattn-video")
    still, video = still_spec.build(), video_spec.build()
    export_weights(still_spec, {wf.module: getattr(still, wf.module) for wf in still_spec.files}, tmp_path / "still")
    video_from_still(tmp_path / "still", tmp_path / "video")
    for wf in video_spec.files:  # strict: exactly the video model's names and shapes
        state, _ = read_state_dict(FileRef(tmp_path / "video" / wf.filename))
        load_strict(
            getattr(video, wf.module), {k: v.float() for k, v in state.items()}, FileRef(wf.filename), wf.filename
        )
    for name, value in still.adaattn_3.state_dict().items():
        assert torch.equal(video.transformer.state_dict()[name], value.half().float())
    # The still decoder's last stage, fed the attention output with nothing on the skip's other
    # half, is the video decoder.
    with torch.no_grad():
        for p in still.decoder.decoder_layer_2.parameters():
            p.copy_(p.half().float())  # the files are fp16
        feature = torch.rand(1, 256, 8, 8)
        expected = still.decoder.decoder_layer_2(torch.cat([torch.zeros_like(feature), feature], dim=1))
        assert torch.allclose(video.decoder(feature), expected, atol=1e-5)


def test_a_folder_that_is_not_an_adaattn_export_is_refused(tmp_path):
    export(tmp_path / "stya2k", 1.0)
    with pytest.raises(WeightsError, match="latest_net_adaattn_3.pth: missing"):
        video_from_still(tmp_path / "stya2k", tmp_path / "out")
    save_tensors(tmp_path / "stya2k" / "latest_net_adaattn_3.pth", {"f.weight": torch.ones(1)})
    with pytest.raises(WeightsError, match="not an adaattn decoder"):
        video_from_still(tmp_path / "stya2k", tmp_path / "out")
    assert not (tmp_path / "out").exists()
