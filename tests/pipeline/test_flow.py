"""stylize.pipeline.flow: optical flow, warping and the Ruder et al. reliability test."""

from __future__ import annotations

import numpy as np
import pytest

from stylize.pipeline.flow import flow_gradients, optical_flow, reliable, to_gray, warp
from tests.clips import moving_frames


def test_warp_samples_where_the_flow_points():
    image = np.arange(5 * 6, dtype=np.float32).reshape(5, 6)
    flow = np.zeros((5, 6, 2), np.float32)
    flow[..., 0] = 1.0  # every pixel looks one to the right
    out = warp(image, flow)
    assert np.array_equal(out[:, :-1], image[:, 1:])
    assert np.array_equal(out[:, -1], image[:, -1])  # outside: the edge value


def test_dis_flow_finds_a_translation():
    first, second = moving_frames(2, 48, 64, dx=2, dy=1)
    flow = optical_flow(to_gray(first), to_gray(second))
    inner = flow[8:-8, 8:-8]
    # the texture slides by (+2, +1): a pixel of the first frame is 2 right, 1 down in the second
    assert np.median(inner[..., 0]) == pytest.approx(2.0, abs=0.25)
    assert np.median(inner[..., 1]) == pytest.approx(1.0, abs=0.25)
    farneback = optical_flow(to_gray(first), to_gray(second), "farneback")
    assert np.median(farneback[8:-8, 8:-8, 0]) == pytest.approx(2.0, abs=0.5)
    with pytest.raises(ValueError, match="unknown flow method"):
        optical_flow(to_gray(first), to_gray(second), "magic")


def test_consistent_flows_are_reliable():
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = 3.0
    assert reliable(flow, -flow).all()


def test_forward_backward_mismatch_is_an_occlusion():
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = 3.0
    reverse = -flow.copy()
    reverse[:, 10:20] = 0.0  # these pixels of B did not come from A: disoccluded there
    mask = reliable(flow, reverse)
    assert not mask[:, 8:16].any()  # A's pixels that land on them fail the check
    assert mask[:, :5].all() and mask[:, 20:].all()


def test_motion_boundaries_are_unreliable():
    flow = np.zeros((20, 30, 2), np.float32)
    flow[:, 15:, 0] = 4.0  # the right half moves, the left half stands still
    reverse = -flow
    mask = reliable(flow, reverse)
    assert not mask[:, 14].any()  # the boundary column (forward difference to the next column)
    assert mask[:, :10].all()


def test_flow_gradients_are_forward_differences():
    flow = np.zeros((3, 4, 2), np.float32)
    flow[..., 0] = np.arange(4)
    u_x, u_y, v_x, v_y = flow_gradients(flow)
    assert np.array_equal(u_x[:, :-1], -np.ones((3, 3))) and not u_x[:, -1].any()
    assert not u_y.any() and not v_x.any() and not v_y.any()
