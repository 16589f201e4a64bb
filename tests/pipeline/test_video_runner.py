"""stylize.pipeline.video_runner.stylize_video_file with random-weight models (meaningless pictures, real pipeline)."""

from __future__ import annotations

import numpy as np
import pytest

from stylize.errors import InputError, OutputError
from stylize.media.video.codecs import EncodeSettings
from stylize.metrics.temporal import measure_videos
from stylize.pipeline.settings import StyleChoice
from stylize.pipeline.temporal import TemporalSettings
from stylize.pipeline.video_runner import VideoSettings, stylize_video_file
from tests.clips import damaged_copy, garbled_copy, make_clip, read_clip
from tests.conftest import smooth_image

CHOICE = StyleChoice(styles=("style.png",), style_size=64)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def video_model(parity_weights):
    import stylize

    return stylize.load_model("adaattn-video", weights=parity_weights, device="cpu")


@pytest.fixture(scope="module")
def style():
    return smooth_image(64, 64, seed=3)


def leftovers(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_frames_rate_size_audio_and_progress(tmp_path, video_model, style):
    src = make_clip(tmp_path / "in.mp4", frames=12, fps=24)
    seen = []
    result = stylize_video_file(video_model, [style], src, tmp_path / "out.mp4", CHOICE,
                                on_progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    a, b = read_clip(src), read_clip(tmp_path / "out.mp4")
    assert result.frames == len(b["frames"]) == 12
    assert result.fps == 24 and b["fps"] == 24
    assert result.size == (64, 48) and (b["width"], b["height"]) == (64, 48)
    assert b["times"] == pytest.approx(a["times"], abs=1e-3)
    assert b["audio"]["duration"] == pytest.approx(a["audio"]["duration"], abs=0.03)
    assert result.audio == ("audio copied (aac)",) and result.warnings == ()
    assert seen == [(i, 12) for i in range(1, 13)]
    assert result.seconds > 0 and result.speed > 0
    assert leftovers(tmp_path, {"in.mp4", "out.mp4"}) == []
    # stylised, not copied
    assert np.abs(a["frames"][5].astype(int) - b["frames"][5]).mean() > 10


def test_style_is_prepared_once_per_run(tmp_path, video_model, style, monkeypatch):
    calls = []
    original = video_model.network.remember_style
    monkeypatch.setattr(video_model.network, "remember_style", lambda *a, **k: calls.append(1) or original(*a, **k))
    src = make_clip(tmp_path / "in.mp4", frames=5, audio=False)
    stylize_video_file(video_model, [style], src, tmp_path / "out.mp4", CHOICE)
    assert len(calls) == 1
    prepared = video_model.prepare_style(style)
    calls.clear()
    stylize_video_file(video_model, [prepared], src, tmp_path / "out2.mp4", CHOICE)  # as batch passes them
    assert calls == []


def test_smoothing_lowers_the_warping_error_of_a_moving_clip(tmp_path, video_model, style):
    """Per-frame stylisation of a sliding texture flickers (random weights exaggerate it); blending
    along the input's flow must remove most of it."""
    src = make_clip(tmp_path / "in.mp4", frames=12, audio=False)
    errors = {}
    for mode in ("off", "flow"):
        settings = VideoSettings(temporal=TemporalSettings(mode=mode), encode=EncodeSettings(crf=10))
        stylize_video_file(video_model, [style], src, tmp_path / f"{mode}.mp4", CHOICE, settings=settings)
        errors[mode] = measure_videos(src, tmp_path / f"{mode}.mp4").warping_error
    assert errors["flow"] < 0.6 * errors["off"], errors


def test_large_video_with_small_max_size(tmp_path, video_model, style):
    src = make_clip(tmp_path / "big.mp4", width=2000, height=1200, frames=3, audio=False)
    choice = StyleChoice(styles=("style.png",), style_size=64, max_size=64)
    result = stylize_video_file(video_model, [style], src, tmp_path / "out.mp4", choice)
    out = read_clip(tmp_path / "out.mp4")
    assert result.size == (64, 38) and (out["width"], out["height"]) == (64, 38) and len(out["frames"]) == 3


def test_range_selection(tmp_path, video_model, style):
    src = make_clip(tmp_path / "in.mp4", frames=20, fps=25)
    settings = VideoSettings(start=0.2, duration=0.2)
    result = stylize_video_file(video_model, [style], src, tmp_path / "out.mp4", CHOICE, settings=settings)
    out = read_clip(tmp_path / "out.mp4")
    assert result.frames == len(out["frames"]) == 5
    assert out["audio"]["duration"] == pytest.approx(0.2, abs=0.05)


def test_interrupted_run_leaves_no_file(tmp_path, video_model, style):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    (tmp_path / "old.mp4").write_bytes(b"keep me")

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize_video_file(video_model, [style], src, tmp_path / "old.mp4", CHOICE, on_progress=stop)
    assert (tmp_path / "old.mp4").read_bytes() == b"keep me"  # the previous file is untouched
    assert leftovers(tmp_path, {"in.mp4", "old.mp4"}) == []


def test_bad_input_leaves_no_file(tmp_path, video_model, style):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(InputError, match="not a video file"):
        stylize_video_file(video_model, [style], bad, tmp_path / "out.mp4", CHOICE)
    src = make_clip(tmp_path / "in.mp4", frames=3, audio=False)
    with pytest.raises(OutputError, match="is the input file"):
        stylize_video_file(video_model, [style], src, src, CHOICE)
    assert leftovers(tmp_path, {"bad.mp4", "in.mp4"}) == []


def test_a_cut_input_fails_before_any_frame_and_leaves_no_file(tmp_path, video_model, style):
    src = make_clip(tmp_path / "in.mp4", frames=12, options={"movflags": "+faststart"})
    cut = damaged_copy(src, tmp_path / "clip.mp4", frames=1)
    done = []
    with pytest.raises(InputError) as error:
        stylize_video_file(
            video_model, [style], cut, tmp_path / "out.mp4", CHOICE, on_progress=lambda n, _: done.append(n)
        )
    assert str(error.value) == f"{cut}: damaged: 1 of 12 frames in the file"
    assert done == []  # known before any frame was stylised
    assert leftovers(tmp_path, {"in.mp4", "clip.mp4"}) == []


def test_corrupt_data_found_while_decoding_leaves_no_file(tmp_path, video_model, style):
    src = make_clip(tmp_path / "in.mp4", frames=12, options={"movflags": "+faststart"})
    bad = garbled_copy(src, tmp_path / "clip.mp4", frame=6)
    (tmp_path / "out.mp4").write_bytes(b"keep me")
    done = []
    with pytest.raises(InputError, match=r"clip.mp4: damaged: the decoder failed after \d+ of 12 frames"):
        stylize_video_file(
            video_model, [style], bad, tmp_path / "out.mp4", CHOICE, on_progress=lambda n, _: done.append(n)
        )
    assert 0 < len(done) <= 6  # the fault stopped the run where it was found
    assert (tmp_path / "out.mp4").read_bytes() == b"keep me"  # nothing partial at the output path
    assert leftovers(tmp_path, {"in.mp4", "clip.mp4", "out.mp4"}) == []


def test_masks_and_two_styles(tmp_path, video_model, style):
    from PIL import Image

    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "left.png")
    Image.fromarray(255 - mask).save(tmp_path / "right.png")
    choice = StyleChoice(styles=("a.png", "b.png"), style_size=64, masks=(str(tmp_path / "left.png"),
                         str(tmp_path / "right.png")))  # fmt: skip
    src = make_clip(tmp_path / "in.mp4", frames=3, audio=False)
    result = stylize_video_file(video_model, [style, smooth_image(64, 64, seed=9)], src, tmp_path / "out.mp4", choice)
    assert result.frames == 3


@pytest.mark.parametrize("name", ["adaattn", "stya2k"])
def test_image_models_work_per_frame(tmp_path, request, name, style):
    model = request.getfixturevalue(name)
    src = make_clip(tmp_path / "in.mp4", frames=2, audio=False)
    result = stylize_video_file(model, [style], src, tmp_path / "out.mp4", CHOICE)
    assert result.frames == 2 and len(read_clip(tmp_path / "out.mp4")["frames"]) == 2
