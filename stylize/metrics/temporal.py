"""Temporal consistency and style strength of a stylised video.

Warping error (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018,
`evaluate_WarpError.py`): for each pair of consecutive frames t, t+1,

    E_t = sum_x M_t(x) * sum_c (warp(O_{t+1}, F_{t->t+1})(x, c) - O_t(x, c))^2 / sum_x M_t(x)

where O are the OUTPUT frames in [0, 1], F_{t->t+1} the optical flow of the INPUT frames, and
M_t the non-occlusion mask of Ruder et al. (forward-backward consistency and motion boundaries,
`stylize.pipeline.flow.reliable`); where no pixel is reliable the sum is divided by H*W*C instead, as Lai et
al. do. The video's figure is the mean of E_t over its pairs. Lai et al. use FlowNet2 flow; we use
OpenCV DIS (or Farneback with `method="farneback"`, a second opinion that smoothing, which uses
DIS, was not tuned on).

Style distance: the AdaIN style loss between an output frame and the style image, on the VGG
encoder's relu1_1 ... relu5_1 features phi_l:

    D = sum_l ( mean_c (mu_l(O) - mu_l(S))^2 + mean_c (sigma_l(O) - sigma_l(S))^2 )

(channel means and standard deviations over positions), averaged over sampled frames. Lower is
closer to the style: a smoothing that washes the style out raises it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from stylize.pipeline.flow import optical_flow, reliable, to_gray, warp

if TYPE_CHECKING:
    import torch
    from torch import Tensor


class FeatureEncoder(Protocol):
    """What the style distance needs of an encoder: the models' `VGGEncoder.features`."""

    def features(self, image: Tensor, upto: int = 5) -> list[Tensor]: ...


def as_unit(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 or float -> float32 in [0, 1]."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.clip(image.astype(np.float32), 0.0, 1.0)


def pair_flow(input_t: np.ndarray, input_next: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """The input flow t -> t+1 and its non-occlusion mask M_t.

    Args:
        input_t, input_next: (H, W, 3) input frames t and t+1 (uint8, or float in [0, 1]).
        method: optical-flow method ("dis" or "farneback").

    Returns:
        (H, W, 2) float32 flow on frame t's grid and (H, W) float32 mask (1 = reliable).
    """
    if input_t.shape[:2] != input_next.shape[:2]:
        raise ValueError("input frames must have the same size")
    first, second = to_gray(input_t), to_gray(input_next)
    forward = optical_flow(first, second, method)
    backward = optical_flow(second, first, method)
    return forward, reliable(forward, backward).astype(np.float32)


def masked_warp_error(output_t: np.ndarray, output_next: np.ndarray, forward: np.ndarray, mask: np.ndarray) -> float:
    """sum_x M(x) sum_c (warp(O_{t+1})(x, c) - O_t(x, c))^2 / sum_x M(x), images in [0, 1].

    Where the mask is empty the sum is divided by H*W*C (as Lai et al. do).
    """
    if output_t.shape != output_next.shape or output_t.shape[:2] != forward.shape[:2]:
        raise ValueError("output frames and flow must have the same size")
    warped = warp(as_unit(output_next), forward)
    diff = (warped - as_unit(output_t)) * mask[..., None]
    count = float(mask.sum()) or float(diff.size)
    return float(np.sum(diff**2) / count)


def pair_warping_error(
    input_t: np.ndarray,
    input_next: np.ndarray,
    output_t: np.ndarray,
    output_next: np.ndarray,
    method: str = "dis",
) -> float:
    """Lai et al.'s warping error of one pair of consecutive frames.

    Args:
        input_t, input_next: (H, W, 3) input frames t and t+1 (uint8, or float in [0, 1]).
        output_t, output_next: (H, W, 3) output frames t and t+1 of the same size.
        method: optical-flow method ("dis" or "farneback").

    Returns:
        The masked sum of squared differences per reliable pixel (channels summed), images in [0, 1].
    """
    forward, mask = pair_flow(input_t, input_next, method)
    return masked_warp_error(output_t, output_next, forward, mask)


@dataclass(frozen=True)
class WarpingError:
    """A video's warping error: the mean over its frame pairs, and each pair's value."""

    mean: float
    pairs: tuple[float, ...] = field(repr=False)


def warping_error(inputs: Iterable[np.ndarray], outputs: Iterable[np.ndarray], method: str = "dis") -> WarpingError:
    """Lai et al.'s warping error of a whole video, streaming (two frames of each held at a time).

    Args:
        inputs, outputs: the input and output frames, (H, W, 3), in step; extra frames of the
            longer sequence are ignored.
        method: optical-flow method.

    Raises:
        ValueError: fewer than two frames.
    """
    values = []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for frame_in, frame_out in zip(inputs, outputs, strict=False):
        if previous is not None:
            values.append(pair_warping_error(previous[0], frame_in, previous[1], frame_out, method))
        previous = (frame_in, frame_out)
    if not values:
        raise ValueError("the warping error needs at least two frames")
    return WarpingError(float(np.mean(values)), tuple(values))


# --- style distance --------------------------------------------------------------------------


def feature_statistics(encoder: FeatureEncoder, image: Tensor, layers: int = 5) -> list[tuple[Tensor, Tensor]]:
    """Per VGG layer (relu1_1 ...), the channel means and standard deviations over positions.

    Args:
        encoder: the models' `VGGEncoder` (its `features(image, upto)` gives relu1_1 ... relu{upto}_1).
        image: (1, 3, H, W) float in [0, 1].

    Returns:
        `layers` pairs of (C,) float32 tensors.
    """
    import torch

    with torch.inference_mode():
        feats = encoder.features(image, layers)
    stats = []
    for feat in feats:
        flat = feat[0].float().flatten(1)
        mean = flat.mean(dim=1)
        std = (flat.var(dim=1, unbiased=False) + 1e-5).sqrt()
        stats.append((mean, std))
    return stats


def style_distance(stats: Sequence[tuple[Tensor, Tensor]], style: Sequence[tuple[Tensor, Tensor]]) -> float:
    """AdaIN's style loss between two sets of `feature_statistics` (lower: closer to the style)."""
    total = 0.0
    for (mean, std), (style_mean, style_std) in zip(stats, style, strict=False):
        total += float(((mean - style_mean) ** 2).mean() + ((std - style_std) ** 2).mean())
    return total


def sample_indices(count: int, samples: int) -> list[int]:
    """`samples` frame indices spread evenly over `count` frames (all of them if fewer)."""
    if count <= samples:
        return list(range(count))
    return sorted({round(i * (count - 1) / (samples - 1)) for i in range(samples)}) if samples > 1 else [0]


# --- two video files -------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporalReport:
    """What `stylize metrics temporal` reports.

    Attributes:
        input, output: the files.
        frames: frame pairs measured + 1.
        size: (width, height) the measurement ran at.
        flow: the flow method.
        warping_error: Lai et al.'s warping error (lower: steadier).
        input_warping_error: the same figure for the input against itself (the floor flow errors
            and compression leave; a perfectly consistent output would be near it).
        style: the style image, if one was given.
        style_distance: mean AdaIN style loss of the sampled output frames (lower: stronger style).
        input_style_distance: the same for the input frames (the unstylised reference).
        colour_distance: mean Lab sliced Wasserstein distance of the sampled output frames to the
            style image (`metrics.fidelity.colour_distance`; no encoder: a figure training cannot game).
        input_colour_distance: the same for the input frames.
        style_frames: how many frames the style figures used.
        warnings: notes about the comparison (frame counts or sizes that differ).
    """

    input: str
    output: str
    frames: int
    size: tuple[int, int]
    flow: str
    warping_error: float
    input_warping_error: float
    style: str | None = None
    style_distance: float | None = None
    input_style_distance: float | None = None
    colour_distance: float | None = None
    input_colour_distance: float | None = None
    style_frames: int = 0
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "input": self.input,
            "output": self.output,
            "frames": self.frames,
            "size": list(self.size),
            "flow": self.flow,
            "warping_error": self.warping_error,
            "input_warping_error": self.input_warping_error,
            "style": self.style,
            "style_distance": self.style_distance,
            "input_style_distance": self.input_style_distance,
            "colour_distance": self.colour_distance,
            "input_colour_distance": self.input_colour_distance,
            "style_frames": self.style_frames,
            "warnings": list(self.warnings),
        }


def align(frame_in: np.ndarray, frame_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An input and an output frame brought to one size.

    An output at most one pixel larger on a side (stylize's even-size padding repeats the edge) is
    cropped back to the input's size; any other difference (e.g. `--max-size`) is handled by an
    area resize of the input to the output's size.
    """
    import cv2

    h, w = frame_in.shape[:2]
    height, width = frame_out.shape[:2]
    if (h, w) == (height, width):
        return frame_in, frame_out
    if 0 <= height - h <= 1 and 0 <= width - w <= 1:
        return frame_in, frame_out[:h, :w]
    return cv2.resize(frame_in, (width, height), interpolation=cv2.INTER_AREA), frame_out


def measure_videos(
    input_path: str | Path,
    output_path: str | Path,
    *,
    method: str = "dis",
    max_frames: int | None = None,
    encoder: FeatureEncoder | None = None,
    style: Tensor | None = None,
    style_name: str | None = None,
    style_samples: int = 8,
    device: torch.device | str = "cpu",
    input_start: float = 0.0,
    input_duration: float | None = None,
) -> TemporalReport:
    """Warping error (and, with an encoder and a style, style distance) of an output video.

    Frames are compared in decoding order; the input is aligned to the output's size. Style
    figures use `style_samples` frames spread over the video.

    Args:
        input_path, output_path: the videos.
        method: optical-flow method.
        max_frames: measure only the first frames.
        encoder: a VGG encoder with `features()`; needed for style figures.
        style: (1, 3, h, w) in [0, 1], the style image as it was used.
        style_name: how the report names the style.
        style_samples: frames used for the style figures.
        device: where the encoder runs.
        input_start, input_duration: the range of the input the output was made from (as
            `stylize video --start/--duration`).
    """
    import torch

    from stylize.media.video.probe import probe
    from stylize.media.video.reader import Frame, VideoReader
    from stylize.metrics.fidelity import colour_distance

    info_out = probe(output_path)
    info_in = probe(input_path)
    warnings = []
    limit = max_frames or None
    counts = (info_in.expected_frames(input_start, input_duration) or 0, info_out.frames)
    if all(counts) and counts[0] != counts[1]:
        warnings.append(f"the input has {counts[0]} frames and the output {counts[1]}: compared the first "
                        f"{min(counts)}")  # fmt: skip
    expected = min(c for c in counts if c) if any(counts) else 0
    expected = min(expected, limit) if limit and expected else (limit or expected)
    chosen = set(sample_indices(expected, style_samples)) if (encoder is not None and style is not None) else set()
    size = (info_out.height, info_out.width)
    padded = 0 <= info_out.height - info_in.height <= 1 and 0 <= info_out.width - info_in.width <= 1
    if padded:
        size = (info_in.height, info_in.width)
    elif size != (info_in.height, info_in.width):
        warnings.append(f"sizes differ (input {info_in.width}x{info_in.height}, output {info_out.width}x"
                        f"{info_out.height}): the input is brought to the output's size")  # fmt: skip

    style_image = style[0].float().cpu() if style is not None else None
    style_stats = feature_statistics(encoder, style.to(device)) if chosen and encoder and style is not None else []
    out_dist: list[float] = []
    in_dist: list[float] = []
    out_colour: list[float] = []
    in_colour: list[float] = []

    def to_tensor(image: np.ndarray) -> Tensor:
        return torch.from_numpy(as_unit(image)).permute(2, 0, 1)[None].to(device)

    def pairs() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with (
            VideoReader(input_path, start=input_start, duration=input_duration, audio=False) as reader_in,
            VideoReader(output_path, audio=False) as reader_out,
        ):
            frames_in = (f.image for f in reader_in if isinstance(f, Frame))
            frames_out = (f.image for f in reader_out if isinstance(f, Frame))
            for index, (frame_in, frame_out) in enumerate(zip(frames_in, frames_out, strict=False)):
                if limit and index >= limit:
                    return
                frame_in, frame_out = align(frame_in, frame_out)
                if index in chosen and encoder is not None and style_image is not None:
                    out_t, in_t = to_tensor(frame_out), to_tensor(frame_in)
                    out_dist.append(style_distance(feature_statistics(encoder, out_t), style_stats))
                    in_dist.append(style_distance(feature_statistics(encoder, in_t), style_stats))
                    out_colour.append(colour_distance(out_t[0].cpu(), style_image))
                    in_colour.append(colour_distance(in_t[0].cpu(), style_image))
                yield frame_in, frame_out

    values_out: list[float] = []
    values_in: list[float] = []
    previous: tuple[np.ndarray, np.ndarray] | None = None
    count = 0
    for frame_in, frame_out in pairs():
        count += 1
        if previous is not None:
            forward, mask = pair_flow(previous[0], frame_in, method)
            values_out.append(masked_warp_error(previous[1], frame_out, forward, mask))
            values_in.append(masked_warp_error(previous[0], frame_in, forward, mask))
        previous = (frame_in, frame_out)
    if not values_out:
        raise ValueError("the warping error needs at least two frames")
    return TemporalReport(
        input=str(input_path),
        output=str(output_path),
        frames=count,
        size=(size[1], size[0]),
        flow=method,
        warping_error=float(np.mean(values_out)),
        input_warping_error=float(np.mean(values_in)),
        style=style_name,
        style_distance=float(np.mean(out_dist)) if out_dist else None,
        input_style_distance=float(np.mean(in_dist)) if in_dist else None,
        colour_distance=float(np.mean(out_colour)) if out_colour else None,
        input_colour_distance=float(np.mean(in_colour)) if in_colour else None,
        style_frames=len(out_dist),
        warnings=tuple(warnings),
    )
