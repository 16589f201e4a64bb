"""stylize.pipeline.temporal: flow-guided smoothing as pure steps over an explicit state."""

from __future__ import annotations

import numpy as np
import pytest

from stylize.metrics.temporal import warping_error
from stylize.pipeline.temporal import TemporalSettings, TemporalState, blend_weights, smooth
from tests.clips import moving_frames, texture


def run(contents, stylised, settings):
    state, outputs = TemporalState(), []
    for content, frame in zip(contents, stylised, strict=True):
        out, state = smooth(state, content, frame, settings)
        outputs.append(out)
    return outputs


def noisy_stylisations(contents, seed=0, noise=0.15, dx=2, dy=1):
    """A stand-in for per-frame stylisation: a 'style' pattern that moves with the scene plus
    independent per-frame noise (flicker). Returns (flickering frames, the steady pattern)."""
    rng = np.random.default_rng(seed)
    clean = [f.astype(np.float32) / 255.0 for f in moving_frames(len(contents), *contents[0].shape[:2], dx, dy, seed=7)]
    noisy = [np.clip(c + rng.normal(0, noise, c.shape).astype(np.float32), 0, 1) for c in clean]
    return noisy, clean


def test_off_is_per_frame():
    contents = moving_frames(4, 32, 40)
    noisy, _ = noisy_stylisations(contents)
    outputs = run(contents, noisy, TemporalSettings(mode="off"))
    assert all(np.array_equal(o, n) for o, n in zip(outputs, noisy, strict=True))


def test_first_frame_passes_through_and_inputs_stay_untouched():
    contents = moving_frames(2, 32, 40)
    noisy, _ = noisy_stylisations(contents)
    copies = [n.copy() for n in noisy]
    outputs = run(contents, noisy, TemporalSettings())
    assert np.array_equal(outputs[0], noisy[0])
    assert all(np.array_equal(n, c) for n, c in zip(noisy, copies, strict=True))
    assert outputs[1].dtype == np.float32 and outputs[1].shape == noisy[1].shape


def test_flicker_on_a_moving_scene_is_damped_without_losing_the_picture():
    contents = moving_frames(12, 48, 64, dx=2, dy=1)
    noisy, clean = noisy_stylisations(contents)
    per_frame = warping_error(contents, noisy).mean
    outputs = run(contents, noisy, TemporalSettings(weight=0.6))
    smoothed = warping_error(contents, outputs).mean
    assert smoothed < 0.4 * per_frame
    # it follows the motion instead of smearing it: closer to the steady pattern than the input
    err_noisy = np.mean([np.abs(n - c).mean() for n, c in zip(noisy[4:], clean[4:], strict=True)])
    err_smooth = np.mean([np.abs(o - c).mean() for o, c in zip(outputs[4:], clean[4:], strict=True)])
    assert err_smooth < 0.8 * err_noisy


def test_higher_weight_is_steadier():
    contents = moving_frames(8, 48, 64)
    noisy, _ = noisy_stylisations(contents)
    errors = [warping_error(contents, run(contents, noisy, TemporalSettings(weight=w))).mean for w in (0.3, 0.6, 0.9)]
    assert errors[0] > errors[1] > errors[2]


def test_scene_cut_restarts():
    first = texture(48, 64, seed=1)
    cut = texture(48, 64, seed=2)[::-1, ::-1].copy()
    noisy, _ = noisy_stylisations([first, cut])
    state = TemporalState()
    _, state = smooth(state, first, noisy[0], TemporalSettings())
    out, state = smooth(state, cut, noisy[1], TemporalSettings())
    assert state.reliable_share < 0.2
    assert np.array_equal(out, noisy[1])


def test_blend_weights_ease_to_zero_at_unreliable_pixels():
    mask = np.ones((20, 20), bool)
    mask[:, 10:] = False
    weights = blend_weights(mask, 0.6)
    assert weights[:, :5].max() == pytest.approx(0.6, abs=1e-3)
    assert not weights[:, 10:].any()
    assert 0 < weights[0, 9] < 0.6


def test_settings_are_checked():
    with pytest.raises(ValueError, match="temporal mode"):
        TemporalSettings(mode="magic")
    with pytest.raises(ValueError, match="weight"):
        TemporalSettings(weight=1.5)
    with pytest.raises(ValueError, match="flow method"):
        TemporalSettings(flow="raft")


def test_sizes_must_match():
    with pytest.raises(ValueError, match="differ in size"):
        smooth(TemporalState(), np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.float32), TemporalSettings())
