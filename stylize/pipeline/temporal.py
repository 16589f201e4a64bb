"""Temporal smoothing of stylised video: pure steps over an explicit state.

`--temporal flow` (the default) is occlusion-aware, flow-guided recursive blending:

1. dense optical flow between consecutive INPUT frames, both ways (OpenCV DIS): the stylised
   frames are not used for flow, since their texture changes from frame to frame;
2. the previous OUTPUT frame warped into the current frame (bicubic, so chained warps blur less);
3. a reliability mask from Ruder et al.'s tests (forward-backward consistency: occlusions;
   flow-gradient size: motion boundaries), feathered by a 1-pixel Gaussian so no seams appear;
4. out = stylised + weight * mask * (warped - stylised).

Where the flow is reliable the output follows the motion of the scene instead of re-drawing its
texture every frame; where it is not (disocclusions, boundaries, a scene cut) the fresh per-frame
stylisation shows. Because the previous output already holds its own history, this is an
exponential filter along motion trajectories: flicker that is independent from frame to frame
falls to about (1 - w)^2 / (1 + w) of its per-frame size in squared-difference terms (w = 0.5:
1/6), while the style stays: every output pixel is a mix of stylised pixels of the same scene point.

Why not smooth inside the network (e.g. the attention statistics across frames)? It would need
hooks in the model's attention, which `Stylizer` does not expose; flow blending works the same
for every model (adaattn, adaattn-video, stya2k) and costs ~20 ms a frame against seconds for the
network on a CPU.

A scene cut (less than `reset_below` of the frame reliable) restarts the filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylize.pipeline.flow import FLOW_METHODS, optical_flow, reliable, to_gray, warp

TEMPORAL_MODES = ("off", "flow")


@dataclass(frozen=True)
class TemporalSettings:
    """How to smooth.

    Attributes:
        mode: "off" (per-frame) or "flow" (occlusion-aware flow-guided blending).
        weight: share of the warped previous output where the flow is reliable (0..1).
        flow: optical-flow method ("dis" or "farneback").
        reset_below: restart (no blending) when less than this share of the frame is reliable.
    """

    mode: str = "flow"
    # Blending mixes two drawings of a texture and weakens both; 0.4 is the largest weight that
    # kept the style cost within 10 % on every clip and painting bench/temporal_weight.py measured.
    weight: float = 0.4
    flow: str = "dis"
    reset_below: float = 0.2

    def __post_init__(self) -> None:
        if self.mode not in TEMPORAL_MODES:
            raise ValueError(f"temporal mode must be one of {', '.join(TEMPORAL_MODES)}, not {self.mode!r}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"temporal weight must be within 0..1, not {self.weight}")
        if self.flow not in FLOW_METHODS:
            raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, not {self.flow!r}")
        if not 0.0 <= self.reset_below <= 1.0:
            raise ValueError("reset_below must be within 0..1")


@dataclass(frozen=True)
class TemporalState:
    """What smoothing carries from one frame to the next.

    Attributes:
        previous_input: (H, W) uint8 grey of the previous input frame; None before the first frame.
        previous_output: (H, W, 3) float32 in [0, 1], the previous output frame.
        reliable_share: share of the last frame that was blended (diagnostics).
    """

    previous_input: np.ndarray | None = None
    previous_output: np.ndarray | None = None
    reliable_share: float = 0.0


def smooth(
    state: TemporalState, content: np.ndarray, stylised: np.ndarray, settings: TemporalSettings
) -> tuple[np.ndarray, TemporalState]:
    """One step: the output for this frame and the state for the next.

    Args:
        state: from the previous step (`TemporalState()` for the first frame).
        content: (H, W, 3) uint8 RGB input frame, at the stylised frame's size.
        stylised: (H, W, 3) float32 in [0, 1], this frame stylised on its own.
        settings: the smoothing settings.

    Returns:
        (H, W, 3) float32 in [0, 1] output and the new state. Neither input is modified.
    """
    if content.shape[:2] != stylised.shape[:2]:
        raise ValueError(f"content {content.shape[:2]} and stylised {stylised.shape[:2]} differ in size")
    if settings.mode == "off" or settings.weight == 0.0:
        return stylised, TemporalState()
    gray = to_gray(content)
    previous = state.previous_output
    if previous is None or state.previous_input is None or previous.shape != stylised.shape:
        return stylised, TemporalState(gray, stylised, 0.0)
    backward, mask = flow_back(gray, state.previous_input, settings.flow)
    share = float(mask.mean())
    if share < settings.reset_below:  # a scene cut: start again from this frame
        return stylised, TemporalState(gray, stylised, share)
    blend = blend_weights(mask, settings.weight)[..., None]
    warped = np.clip(warp(previous, backward, cubic=True), 0.0, 1.0)
    out = (stylised + blend * (warped - stylised)).astype(np.float32)
    return out, TemporalState(gray, out, share)


def flow_back(current: np.ndarray, previous: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """The flow from the current frame back to the previous one, and where it is reliable.

    Args:
        current, previous: (H, W) uint8 grey input frames.
        method: optical-flow method.

    Returns:
        (H, W, 2) float32 flow on the current frame's grid, and its (H, W) bool reliability mask.
    """
    backward = optical_flow(current, previous, method)
    forward = optical_flow(previous, current, method)
    return backward, reliable(backward, forward)


def blend_weights(mask: np.ndarray, weight: float) -> np.ndarray:
    """(H, W) float32 blend weights: `weight` inside the reliable region, easing to 0 at its edges."""
    import cv2

    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0)
    return (weight * soft * mask).astype(np.float32)
