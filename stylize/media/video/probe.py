"""What a video file holds, read from its header before any frame is decoded."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from stylize.errors import InputError, reason

if TYPE_CHECKING:
    import av

# Demuxers that read still images: `stylize video photo.jpg` is a mistake worth naming.
_IMAGE_DEMUXERS = ("image2", "image2pipe")


@dataclass(frozen=True)
class AudioTrack:
    """An audio stream of the input."""

    index: int
    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class ColorInfo:
    """FFmpeg's colour description of a stream: AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic and
    AVColorRange values (2, 2, 2, 0: unspecified)."""

    colorspace: int = 2
    primaries: int = 2
    trc: int = 2
    range: int = 0


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video (before any frame is decoded).

    Attributes:
        path: the file.
        width, height: the coded picture size (frames come in this orientation).
        fps: the average frame rate (timing itself is carried by timestamps).
        time_base: the unit of the video timestamps, in seconds.
        frames: the frame count the header gives; 0 where it gives none.
        duration: seconds, where known: the video stream's own, else the container's.
        rotate_tag: the legacy `rotate` metadata tag (degrees clockwise), 0 where absent.
        sample_aspect_ratio: the pixel aspect ratio; None where unset (square).
        audio: the audio streams.
        color: the colour description.
        codec: the video codec's name.
        format: the container format.
        video_end: when the video stream's last frame ends, in seconds on its timestamps' clock (its
            start time plus its duration), where the stream itself says (an MP4 index, MPEG-TS
            timestamps); None where only the container's duration is known, which can include a
            longer sound track or be a guess from the bit rate.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frames: int
    duration: float | None
    rotate_tag: int
    sample_aspect_ratio: Fraction | None
    audio: tuple[AudioTrack, ...]
    color: ColorInfo
    codec: str
    format: str
    video_end: float | None = None

    def expected_frames(self, start: float = 0.0, duration: float | None = None) -> int | None:
        """About how many frames a range holds (for progress); None where unknown."""
        total = self.duration
        count = self.frames or (round(total * float(self.fps)) if total and self.fps else 0)
        if not count:
            return None
        if start or duration:
            length = total - start if total else None
            if duration is not None:
                length = duration if length is None else min(length, duration)
            if length is None or not self.fps:
                return None
            count = min(count, max(0, math.ceil(length * float(self.fps))))
        return count


def open_input(path: Path) -> av.container.InputContainer:
    """Open a video file for reading; raises InputError naming what is wrong with it."""
    import av

    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not a video file", hint="stylize batch takes folders")
    try:
        return av.open(str(path), "r")
    except av.error.EOFError:
        raise InputError(path, "contains no video frames (the file ends before its first frame)") from None
    except av.error.FFmpegError as exc:
        raise InputError(path, f"not a video file ({reason(exc)})") from None


def main_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The first video stream that is a video, not an attached picture (an album cover)."""
    from av.stream import Disposition

    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def describe(container: av.container.InputContainer, path: Path) -> VideoInfo:
    """The `VideoInfo` of an open input; raises InputError where it holds no usable video."""
    fmt = container.format.name
    audio = tuple(
        AudioTrack(s.index, s.codec_context.name, s.codec_context.sample_rate or 0, s.codec_context.channels or 0)
        for s in container.streams.audio
    )
    stream = main_video_stream(container)
    if stream is None:
        what = "has no video stream: an audio-only file" if audio else "contains no video frames"
        raise InputError(path, what, hint="stylize video needs a file with pictures")
    if fmt in _IMAGE_DEMUXERS or fmt.endswith("_pipe"):
        raise InputError(path, "is a still image, not a video", hint="use stylize image for pictures")
    cc = stream.codec_context
    time_base = stream.time_base or Fraction(1, 90000)
    fps = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25)
    duration = video_end = None
    if stream.duration is not None:
        duration = float(stream.duration * time_base)
        video_end = float((stream.start_time or 0) * time_base) + duration
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    try:
        rotate = int(float(stream.metadata.get("rotate", "0")))
    except ValueError:
        rotate = 0
    sar = stream.sample_aspect_ratio
    return VideoInfo(
        path=path,
        width=cc.width,
        height=cc.height,
        fps=Fraction(fps),
        time_base=Fraction(time_base),
        frames=stream.frames or 0,
        duration=duration,
        rotate_tag=rotate,
        sample_aspect_ratio=Fraction(sar) if sar and sar != 1 else None,
        audio=audio,
        color=ColorInfo(cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range),
        codec=cc.name,
        format=fmt,
        video_end=video_end,
    )


def probe(path: str | Path) -> VideoInfo:
    """Read a video file's header. Raises InputError for files that are no usable video."""
    path = Path(path)
    container = open_input(path)
    try:
        return describe(container, path)
    finally:
        container.close()


def frame_times(path: str | Path, start: float = 0.0, duration: float | None = None) -> list[int] | None:
    """The presentation times of the video frames in a range, in order, from the packets alone (no decoding).

    Times are in the stream's time base, uncut (the range's start not taken off); a frame is in
    the range as `VideoReader` counts it. None where a packet has no timestamp or two share one
    (the reader then makes timestamps up, which only decoding the whole range reproduces).
    """
    import av

    path = Path(path)
    end = start + duration if duration is not None else None
    with open_input(path) as container:
        stream = main_video_stream(container)
        if stream is None:
            return None
        tb = stream.time_base
        if tb is None:
            return None
        half = float(tb) / 2
        times = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    return None
                seconds = float(packet.pts * tb)
                if seconds >= start - half and (end is None or seconds < end - half):
                    times.append(int(packet.pts))
        except av.error.FFmpegError as exc:
            raise InputError(path, f"reading failed ({reason(exc)})") from None
    times.sort()
    if len(set(times)) != len(times):
        return None
    return times
