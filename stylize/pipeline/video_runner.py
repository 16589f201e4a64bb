"""Stylise one video file: the single entry point of `stylize video` and of `stylize batch` for videos.

Data walks one way: the reader decodes frames (and passes audio packets on), the model stylises
each frame with styles prepared once, temporal smoothing blends it with the previous output, the
writer encodes it with the input frame's timestamp. The output is written to a temporary file
next to the destination and renamed at the end, so an error or Ctrl-C leaves no broken file.

A damaged input is an error, never a shorter output: a file cut off before the frames its
header promises fails before any frame is stylised, one whose data turns out corrupt while
decoding fails then, and in both cases no output is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylize.errors import OutputError
from stylize.media.atomic import atomic_path
from stylize.media.images import fit_long_side
from stylize.media.video.codecs import EncodeSettings, OutputPlan, even_size, plan_output
from stylize.media.video.probe import VideoInfo
from stylize.media.video.reader import AudioPacket, VideoReader, check_complete
from stylize.media.video.writer import VideoWriter
from stylize.pipeline.pictures import mask_tensors, read_masks
from stylize.pipeline.temporal import TemporalSettings, TemporalState, smooth

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from stylize.pipeline.settings import StyleChoice
    from stylize.stylizer import StyleLike, Stylizer

log = logging.getLogger(__name__)

# on_progress(frames done, frames expected or None)
OnFrame = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class VideoSettings:
    """Everything video-specific about a run (the style and model choices come separately).

    Attributes:
        temporal: temporal smoothing.
        encode: codec, quality, pixel format, audio.
        start: seconds of the input to skip.
        duration: seconds to stylise from `start`; None to the end.
    """

    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    start: float = 0.0
    duration: float | None = None


@dataclass(frozen=True)
class VideoResult:
    """What a run produced.

    Attributes:
        output: the file written.
        frames: frames written.
        fps: the video's (average) frame rate.
        seconds: wall-clock time of the run.
        size: (width, height) of the stylised frames.
        audio: what happened to each audio stream ("audio copied (aac)", ...).
        warnings: things the user should know (padding, audio re-encoded, timestamps fixed).
    """

    output: Path
    frames: int
    fps: float
    seconds: float
    size: tuple[int, int]
    audio: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def speed(self) -> float:
        """Frames stylised per second of wall-clock time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def stylize_video_file(
    stylizer: Stylizer,
    styles: Sequence[StyleLike],
    src: Path,
    dst: Path,
    choice: StyleChoice,
    on_progress: OnFrame | None = None,
    settings: VideoSettings | None = None,
) -> VideoResult:
    """Stylise a video file into `dst`, keeping its frame count, timing, rotation and audio.

    Args:
        stylizer: the loaded model.
        styles: one per `choice.styles`: (1, 3, h, w) tensors in [0, 1] or `PreparedStyle`s
            (a batch prepares them once for all its files; tensors are prepared here, once).
        src: the input video.
        dst: the output video; its suffix picks the container (.mp4, .mov, .mkv, .webm, .avi).
        choice: style weights, masks, alpha, colour preservation and `max_size` (bound on the
            frames' long side; 0 keeps the size).
        on_progress: called after each frame with (frames done, frames expected or None).
        settings: temporal smoothing, encoding and range.

    Returns:
        A `VideoResult`.

    Raises:
        InputError: the input is no usable video or is damaged ("clip.mp4: damaged: 1 of 795
            frames in the file"), or a mask cannot be read.
        OutputError: the output cannot be written.
        SetupError: the codec, CRF, preset or pixel format does not fit.
    """
    settings = settings or VideoSettings()
    src, dst = Path(src), Path(dst)
    began = time.perf_counter()
    job = plan_video(src, dst, choice, settings)
    plan, info, (width, height) = job.plan, job.info, job.size
    stylist = FrameStylist(stylizer, styles, choice, settings.temporal, job.size)
    expected = info.expected_frames(settings.start, settings.duration)
    warnings = list(job.warnings)
    frames = 0
    audio_notes: list[str] = []
    with (
        VideoReader(src, start=settings.start, duration=settings.duration, size=job.resize,
                    audio=settings.encode.audio) as reader,
        atomic_path(dst) as temp,
    ):  # fmt: skip
        writer: VideoWriter | None = None
        pending: list[AudioPacket] = []
        try:
            for item in reader:
                if isinstance(item, AudioPacket):
                    if writer is None:
                        pending.append(item)  # audio ahead of the first picture
                    else:
                        writer.write_audio(item)
                    continue
                if writer is None:
                    writer = VideoWriter(
                        replace(plan, path=temp), width=width, height=height, info=info,
                        display_matrix=reader.display_matrix, audio_streams=reader.audio_streams,
                    )  # fmt: skip
                    for packet in pending:
                        writer.write_audio(packet)
                    pending.clear()
                writer.write(stylist(item.image), item.pts, item.duration)
                frames += 1
                if on_progress is not None:
                    on_progress(frames, max(expected, frames) if expected else None)
            assert writer is not None  # the reader raises when no frame decodes
            audio_notes = list(writer.audio_notes)
            writer.close()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        warnings = list(reader.warnings) + warnings
    warnings += [note for note in audio_notes if not note.startswith("audio copied")]
    return VideoResult(
        output=dst,
        frames=frames,
        fps=float(info.fps),
        seconds=time.perf_counter() - began,
        size=(width, height),
        audio=tuple(audio_notes),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class VideoJob:
    """A video run checked before any frame is decoded.

    Attributes:
        plan: the output's container, codec and options.
        info: the input's description.
        size: (width, height) of the stylised frames.
        resize: (height, width) the reader scales frames to; None keeps them.
        warnings: what the user should know already (an odd side padded).
    """

    plan: OutputPlan
    info: VideoInfo
    size: tuple[int, int]
    resize: tuple[int, int] | None
    warnings: tuple[str, ...]


def plan_video(src: Path, dst: Path, choice: StyleChoice, settings: VideoSettings) -> VideoJob:
    """Check the output, the input and the range, and create the output's folder (see `stylize_video_file`)."""
    plan = plan_output(dst, settings.encode)
    info = check_complete(src, settings.start, settings.duration)
    if dst.exists() and dst.resolve() == src.resolve():
        raise OutputError(dst, "is the input file", hint="choose another output name")
    height, width = fit_long_side(info.height, info.width, choice.max_size or None)
    warnings = []
    coded = even_size(width, height, plan.pix_fmt)
    if coded != (width, height):
        warnings.append(
            f"{width}x{height} has an odd side and {plan.pix_fmt} needs even ones: written as {coded[0]}x{coded[1]} "
            "with the edge pixel repeated (nothing scaled); --pix-fmt yuv444p keeps the exact size"
        )
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(dst.parent, f"cannot create the folder ({exc.strerror or exc})") from None
    resize = (height, width) if (height, width) != (info.height, info.width) else None
    return VideoJob(plan, info, (width, height), resize, tuple(warnings))


class FrameStylist:
    """Frames in, stylised and temporally smoothed frames out, one after the other.

    Args:
        styles: (1, 3, h, w) tensors in [0, 1] or `PreparedStyle`s (tensors are prepared here, once).
        size: (width, height) of the frames (for the masks).
        masks: the decoded `choice.masks` (None: read them from their files).
    """

    def __init__(
        self,
        stylizer: Stylizer,
        styles: Sequence[StyleLike],
        choice: StyleChoice,
        temporal: TemporalSettings,
        size: tuple[int, int],
        masks: Sequence[Image.Image] | None = None,
    ) -> None:
        from stylize.stylizer import PreparedStyle

        self.stylizer = stylizer
        self.styles = [s if isinstance(s, PreparedStyle) else stylizer.prepare_style(s) for s in styles]
        self.choice = choice
        self.temporal = temporal
        self.masks = mask_tensors(read_masks(choice.masks) if masks is None else masks, size)
        self.state = TemporalState()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB input frame -> (H, W, 3) uint8 RGB output frame."""
        stylised = _stylize_frame(self.stylizer, image, self.styles, self.choice, self.masks)
        output, self.state = smooth(self.state, image, stylised, self.temporal)
        return _to_uint8(output)


def _stylize_frame(
    stylizer: Stylizer, image: np.ndarray, styles: Sequence[StyleLike], choice: StyleChoice, masks: list[Tensor] | None
) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 3) float32 in [0, 1], stylised on its own."""
    import torch

    content = torch.from_numpy(image).permute(2, 0, 1)[None].float().div_(255.0)
    out = stylizer.stylize(
        content,
        list(styles),
        weights=choice.style_weights,
        masks=masks,
        alpha=choice.alpha,
        preserve_color=choice.preserve_color,
    )
    return out[0].clamp_(0.0, 1.0).permute(1, 2, 0).cpu().numpy().astype(np.float32, copy=False)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
