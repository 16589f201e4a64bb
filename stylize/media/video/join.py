"""Video stylised elsewhere in segments: how a segment is stored, and the one encode of their frames
into the output, with the input's audio, display matrix and timing.

A segment holds its frames exactly (lossless RGB H.264 in NUT, which keeps every timestamp in the
stream's own time base). The output is encoded once, by the `VideoWriter` a local run uses, from the
segments' decoded frames in order: a lossy encode per segment would start each segment on a key
frame of its own quality, a step that shows at every seam of a still scene, and would make the
output's bits depend on where the video was cut.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylize.errors import InputError, reason
from stylize.media.atomic import atomic_path
from stylize.media.video.codecs import CodecSpec, OutputPlan
from stylize.media.video.reader import AudioPacket, Frame, VideoReader
from stylize.media.video.writer import VideoWriter

if TYPE_CHECKING:
    from stylize.media.video.probe import VideoInfo

SEGMENT_SUFFIX = ".nut"
# x264's lossless RGB mode: exact frames at about FFV1's size, faster than FFV1 to encode and to
# decode at 1080p, and in every build of PyAV. bench/join.py measures its size and speed.
SEGMENT_CODEC = CodecSpec("rgb-lossless", "libx264rgb", "h264", "rgb24", options={"qp": "0", "preset": "ultrafast"})


@dataclass(frozen=True)
class Joined:
    """What `join_segments` wrote: the frame count and what happened to each audio stream."""

    frames: int
    audio: tuple[str, ...]


def segment_plan(path: Path) -> OutputPlan:
    """How a segment is written (with `VideoWriter`, frames at their final timestamps)."""
    codec = SEGMENT_CODEC
    return OutputPlan(path, "nut", codec, codec.pix_fmt, dict(codec.options), audio=False)


def join_segments(
    src: Path,
    dst: Path,
    parts: Iterable[Path],
    plan: OutputPlan,
    info: VideoInfo,
    size: tuple[int, int],
    *,
    start: float = 0.0,
    duration: float | None = None,
) -> Joined:
    """Encode the frames of the segment files `parts`, in order, and `src`'s audio into `dst` (atomically).

    `parts` may be a generator that waits for each segment, so the output is encoded while later
    segments are still being stylised.

    Args:
        src: the input video (its audio and display matrix are taken from it).
        plan: the output's plan (container, codec, options).
        info: the input's description.
        size: (width, height) of the frames.
        start, duration: the input's range (as `VideoReader` takes them).
    """
    with VideoReader(src, start=start, duration=duration, audio=False) as probe:
        for picture in probe:  # the display matrix comes with the first decoded picture
            if isinstance(picture, Frame):
                break
        display_matrix = probe.display_matrix
    with (
        VideoReader(src, start=start, duration=duration, audio=plan.audio) as reader,
        atomic_path(dst) as temp,
    ):
        writer = VideoWriter(
            replace(plan, path=temp), width=size[0], height=size[1], info=info, display_matrix=display_matrix,
            audio_streams=reader.audio_streams,
        )  # fmt: skip
        try:
            order = itertools.count()
            video = ((float(pts * info.time_base), next(order), (image, pts, length))
                     for image, pts, length in _frames(parts, info.time_base))  # fmt: skip
            audio = ((_seconds(a), next(order), a) for a in reader.audio_packets())
            entries: Iterator[tuple[float, int, AudioPacket | tuple[np.ndarray, int, int]]] = heapq.merge(
                video, audio, key=lambda entry: entry[:2]
            )
            for _, _, item in entries:
                if isinstance(item, AudioPacket):
                    writer.write_audio(item)
                else:
                    writer.write(*item)
            notes = tuple(writer.audio_notes)
            frames = writer.frames_written
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return Joined(frames, notes)


def _frames(parts: Iterable[Path], time_base: Fraction) -> Iterator[tuple[np.ndarray, int, int]]:
    """Each segment's frames as (RGB image, pts, duration) in `time_base` (the segments' own may be finer)."""
    import av

    for part in parts:
        try:
            with av.open(str(part)) as container:
                stream = container.streams.video[0]
                scale = stream.time_base / time_base
                for frame in container.decode(stream):
                    pts = round(frame.pts * scale) if frame.pts is not None else 0
                    yield frame.to_ndarray(format="rgb24"), pts, round(frame.duration * scale)
        except av.error.FFmpegError as exc:
            raise InputError(part, f"cannot read this segment ({reason(exc)})") from None


def _seconds(item: AudioPacket) -> float:
    packet = item.packet
    stamp = packet.dts if packet.dts is not None else packet.pts
    return float(stamp * packet.time_base) if stamp is not None else 0.0
