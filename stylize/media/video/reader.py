"""Decoding a video: RGB frames with their timestamps, audio packets passed on, the display matrix.

Timing is carried by timestamps, never by a frame rate: every frame keeps its presentation time
(minus the start of the selected range), so variable frame rates survive. Frames come in their
coded orientation; the display matrix (rotation, flips) is read so the writer can copy it.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from stylize.errors import InputError, SetupError, reason
from stylize.media.video.probe import VideoInfo, describe, main_video_stream, open_input

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

# A file that ends sooner than its video stream promised is damaged when more than this is missing:
# SHORTFALL_FRAMES frame intervals, and SHORTFALL_SHARE of the range (for muxers whose stated
# durations are a little off).
SHORTFALL_FRAMES = 3
SHORTFALL_SHARE = 0.01


@dataclass(frozen=True)
class Frame:
    """A decoded video frame.

    Attributes:
        image: (H, W, 3) uint8 RGB, in the coded orientation.
        pts: presentation time in `VideoInfo.time_base` units, counted from the range's start.
        duration: in the same units; 0 where unknown.
        index: 0, 1, 2, ... in presentation order.
    """

    image: np.ndarray
    pts: int
    duration: int
    index: int


@dataclass(frozen=True)
class AudioPacket:
    """An audio packet to pass on, its timestamps already counted from the range's start."""

    packet: av.Packet
    track: int


Item = Frame | AudioPacket


@dataclass(frozen=True)
class _Shortfall:
    """How far a video falls short of the end its file promises.

    Attributes:
        reached: seconds of the range the video covers.
        length: seconds of the range the file promises.
        certain: the promise is the video stream's own (an index's frame count or the stream's
            duration); else only the container's duration, which can include a longer sound track
            or be a guess from the bit rate.
    """

    reached: float
    length: float
    certain: bool


def _shortfall(info: VideoInfo, start: float, end: float | None, reached: float, count: int) -> _Shortfall | None:
    """Whether a video that ends at `reached` seconds, after `count` frames of the range [start, end),
    stops well before the end its file promises; None where it does not (or no promise is known)."""
    interval = 1 / float(info.fps)
    promised = info.video_end if info.video_end is not None else info.duration
    if promised is not None:
        promised = promised if end is None else min(promised, end)
        missing, length = promised - reached, promised - start
    elif info.frames and not start and end is None:
        missing, length = (info.frames - count) * interval, info.frames * interval
    else:
        return None
    if missing <= max(SHORTFALL_FRAMES * interval, SHORTFALL_SHARE * length):
        return None
    return _Shortfall(reached - start, length, certain=info.video_end is not None or promised is None)


def _damage_error(path: Path, count: int, expected: int | None, short: _Shortfall, found: str) -> InputError:
    """The one-line error for a video whose `count` frames fall `short`: "damaged: 1 of 795 frames {found}"."""
    if expected and expected > count:
        return InputError(path, f"damaged: {count} of {expected} frames {found}")
    return InputError(path, f"damaged: frames {found} up to {short.reached:.2f} s of {short.length:.2f} s")


def _fault_error(path: Path, count: int, expected: int | None, what: str, detail: str | None = None) -> InputError:
    """The one-line error for a file whose reading or decoding fails after `count` frames (`what`
    says how, `detail` in FFmpeg's words): "damaged: corrupt video data after 12 of 795 frames"."""
    if not count:
        return InputError(path, f"no video frame could be decoded ({detail or what})")
    of = f" of {expected}" if expected and expected > count else ""
    why = f" ({detail})" if detail else ""
    return InputError(path, f"damaged: {what} after {count}{of} frames{why}")


def check_complete(path: str | Path, start: float = 0.0, duration: float | None = None) -> VideoInfo:
    """Probe a video and read its video packets without decoding them: before any frame is computed,
    whether the file holds the frames its video stream promises.

    Args:
        path: the video.
        start, duration: the range that will be read (as `VideoReader` takes them).

    Raises:
        InputError: the file is no video, holds corrupt data after its first frame, or ends well
            before the end its video stream promises (a cut-off download or recording):
            "clip.mp4: damaged: 1 of 795 frames in the file".
    """
    import av

    path = Path(path)
    container = open_input(path)
    try:
        info = describe(container, path)
        stream = main_video_stream(container)
        assert stream is not None  # describe() raised otherwise
        end = start + duration if duration is not None else None
        tb, half = info.time_base, float(info.time_base) / 2
        step = _frame_step(info)
        expected = info.expected_frames(start, duration)
        _seek(container, stream, start, tb)
        count, last_end = 0, None
        demux = container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                raise _fault_error(path, count, expected, "reading failed", reason(exc)) from None
            when = packet.pts if packet.pts is not None else packet.dts
            if packet.size == 0 or when is None or float(when * tb) < start - half:
                continue
            if end is not None and float(when * tb) >= end - half:
                if packet.dts is not None and float(packet.dts * tb) >= end:
                    break  # in decoding order: no frame of the range comes later
                continue
            if packet.is_corrupt:  # (a frame cut short by the end of the file, say): not a frame
                if count:
                    raise _fault_error(path, count, expected, "corrupt video data")
                continue
            count += 1
            last_end = max(last_end or 0, when + (packet.duration or step))
    finally:
        container.close()
    if last_end is None:
        return info  # no frame in the range at all: the reader says why
    short = _shortfall(info, start, end, float(last_end * tb), count)
    if short is not None and short.certain:
        raise _damage_error(path, count, expected, short, "in the file")
    return info


def check_decodable(path: str | Path, start: float = 0.0, duration: float | None = None) -> VideoInfo:
    """Probe a video, read its packets and decode its first frame (of the range): a cheap check
    before loading a model.

    Raises:
        InputError: the file is no video, is damaged (`check_complete`), or no frame of the range decodes.
    """
    check_complete(path, start, duration)
    with VideoReader(path, start=start, duration=duration, audio=False) as reader:
        for _ in reader:
            break
        return reader.info


def _frame_step(info: VideoInfo) -> int:
    """One frame interval in time-base units (for frames without a timestamp or a duration)."""
    return max(1, round(1 / (info.fps * info.time_base))) if info.fps else 1


def _seek(container: av.container.InputContainer, stream: av.VideoStream, start: float, time_base: Fraction) -> None:
    """Go to the key frame at or before `start` seconds (frames before `start` are then skipped)."""
    import av

    if start <= 0:
        return
    try:
        container.seek(int(start / time_base), stream=stream, backward=True, any_frame=False)
    except av.error.FFmpegError:
        log.debug("seek failed; decoding from the beginning")


@dataclass
class _Pass:
    """Where one pass of `VideoReader.__iter__` stands.

    Attributes:
        shift: the range's start in time-base units (taken off every video timestamp).
        step: one frame interval in time-base units (for frames without a timestamp).
        audio_done: per audio stream, whether its packets have passed the range's end.
        video_done: a frame at or past the range's end was decoded.
        last_pts: the last video timestamp given out (before the shift).
        end_pts: when the last frame given out ends (its timestamp plus its duration).
        bad_before_first: video packets before the first picture that were corrupt or that the
            decoder rejected (a stream cut in the middle of a group of pictures begins so).
        bad_audio: corrupt audio packets left out.
        fixed_pts: repeated or backward video timestamps that were moved forward.
    """

    shift: int
    step: int
    audio_done: dict[int, bool]
    video_done: bool = False
    last_pts: int | None = None
    end_pts: int | None = None
    bad_before_first: int = 0
    bad_audio: int = 0
    fixed_pts: int = 0


class VideoReader:
    """Decode a video's frames (RGB, with timestamps) and pass its audio packets on, in file order.

    Usage::

        with VideoReader(path, start=2.0, duration=5.0, size=(272, 640)) as reader:
            for item in reader:          # Frame or AudioPacket
                ...
            reader.warnings              # e.g. timestamps that had to be fixed

    A damaged file raises InputError ("clip.mp4: damaged: 1 of 795 frames decoded"): where
    reading or decoding fails after the first picture, at once; where the file ends well before
    the point its video stream promised (an index's frame count or the stream's own duration),
    after its last frame. Falling short of only the container's duration (Matroska, WebM: it can
    include a longer sound track) gives a warning. A file where no frame decodes raises before
    the first item is returned. `check_complete` finds a cut-off file without decoding it.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start: float = 0.0,
        duration: float | None = None,
        size: tuple[int, int] | None = None,
        audio: bool = True,
    ) -> None:
        """Open the file.

        Args:
            path: the video.
            start: seconds to skip.
            duration: seconds to read from `start`; None reads to the end.
            size: (height, width) to resize frames to (area-averaged); None keeps the coded size.
            audio: also pass the audio packets on.
        """
        if start < 0 or (duration is not None and duration <= 0):
            raise SetupError("--start must be >= 0 and --duration > 0")
        self.path = Path(path)
        self._container = open_input(self.path)
        try:
            self.info = describe(self._container, self.path)
        except BaseException:
            self._container.close()
            raise
        self.start = start
        self.end = start + duration if duration is not None else None
        self.size = size
        self.audio_streams = list(self._container.streams.audio) if audio else []
        stream = main_video_stream(self._container)
        assert stream is not None  # describe() raised otherwise
        self.video_stream = stream
        self.video_stream.thread_type = "AUTO"
        self.display_matrix: tuple[int, ...] | None = None
        self.warnings: list[str] = []
        self.frames_read = 0

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def __iter__(self) -> Iterator[Item]:
        _seek(self._container, self.video_stream, self.start, self.info.time_base)
        state = self._new_pass()
        for packet in self._packets():
            if packet.stream.type == "audio":
                item = self._audio_item(packet, state)
                if item is not None:
                    yield item
            elif not state.video_done:  # (past the range's end only the audio still matters)
                yield from self._frames(self._decode(packet, state), state)
            if state.video_done and all(state.audio_done.values()):
                break
        self._check_complete(state)
        self._note_warnings(state)

    def audio_packets(self) -> Iterator[AudioPacket]:
        """Only the audio packets of the range, no video decoded (for video stylised elsewhere)."""
        _seek(self._container, self.video_stream, self.start, self.info.time_base)
        state = self._new_pass()
        for packet in self._packets(self.audio_streams):
            item = self._audio_item(packet, state)
            if item is not None:
                yield item
            if all(state.audio_done.values()):
                break

    def _new_pass(self) -> _Pass:
        tb = self.info.time_base
        return _Pass(
            shift=int(round(self.start / tb)) if self.start else 0,
            step=_frame_step(self.info),
            audio_done={s.index: False for s in self.audio_streams},
        )

    def _packets(self, streams: Sequence[av.stream.Stream] | None = None) -> Iterator[av.Packet]:
        """The packets of `streams` (default: the video and audio streams) in file order; raises
        InputError where reading fails."""
        import av

        if streams is None:
            streams = [self.video_stream, *self.audio_streams]
        if not streams:
            return
        demux = self._container.demux(*streams)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                raise self._fault("reading failed", reason(exc)) from None
            yield packet

    def _audio_item(self, packet: av.Packet, state: _Pass) -> AudioPacket | None:
        """An audio packet of the range, its timestamps counted from the range's start; None to leave it out."""
        index = packet.stream.index
        if packet.pts is None or packet.size == 0 or state.audio_done.get(index, True):
            return None
        if packet.is_corrupt:  # e.g. cut short by a truncated file: players would choke on it
            state.bad_audio += 1
            return None
        seconds = float(packet.pts * packet.time_base)
        if self.end is not None and seconds >= self.end:
            state.audio_done[index] = True
            return None
        if seconds < self.start - 1e-6:
            return None
        if state.shift:
            delta = int(round(self.start / packet.time_base))
            packet.pts -= delta
            if packet.dts is not None:
                packet.dts -= delta
        return AudioPacket(packet, index)

    def _decode(self, packet: av.Packet, state: _Pass) -> Sequence[av.VideoFrame]:
        """The frames a video packet completes.

        A corrupt packet, or one the decoder rejects, is damage once a picture has decoded; before
        that it is counted and skipped (a stream cut in the middle of a group of pictures).
        """
        import av

        what, detail = ("corrupt video data" if packet.is_corrupt else None), None
        try:
            decoded = cast("Sequence[av.VideoFrame]", packet.decode())
        except av.error.FFmpegError as exc:
            decoded, what, detail = (), "the decoder failed", reason(exc)
        if what is not None:
            if self.frames_read:
                raise self._fault(what, detail)
            state.bad_before_first += 1
        return decoded

    def _frames(self, decoded: Sequence[av.VideoFrame], state: _Pass) -> Iterator[Frame]:
        """The decoded frames that fall in the range, as RGB `Frame`s with increasing timestamps."""
        tb = self.info.time_base
        for vf in decoded:
            if state.video_done:
                return
            pts = vf.pts
            if pts is None:
                pts = 0 if state.last_pts is None else state.last_pts + state.step
            seconds = float(pts * tb)
            if seconds < self.start - float(tb) / 2:
                continue
            if self.end is not None and seconds >= self.end - float(tb) / 2:
                state.video_done = True
                return
            if state.last_pts is not None and pts <= state.last_pts:
                pts = state.last_pts + 1  # a repeated or backward timestamp: keep the frame, keep order
                state.fixed_pts += 1
            state.last_pts = pts
            state.end_pts = pts + (int(vf.duration or 0) or state.step)
            if self.display_matrix is None:
                self.display_matrix = _display_matrix(vf)
            yield Frame(self._to_rgb(vf), pts - state.shift, int(vf.duration or 0), self.frames_read)
            self.frames_read += 1

    def _expected_frames(self) -> int | None:
        return self.info.expected_frames(self.start, None if self.end is None else self.end - self.start)

    def _fault(self, what: str, detail: str | None = None) -> InputError:
        return _fault_error(self.path, self.frames_read, self._expected_frames(), what, detail)

    def _check_complete(self, state: _Pass) -> None:
        """At the end of the file: raise where no frame decoded, or where the video ends well before
        the point its stream promised; warn where it ends well before the container's duration."""
        if not self.frames_read:
            if state.bad_before_first:
                raise self._fault("corrupt video data")
            where = f" after {self.start:g} s" if self.start else ""
            raise InputError(self.path, f"has no video frames{where}")
        if state.video_done or state.end_pts is None:
            return  # the range ended before the file did
        reached = float(state.end_pts * self.info.time_base)
        short = _shortfall(self.info, self.start, self.end, reached, self.frames_read)
        if short is None:
            return
        if not short.certain:
            self.warnings.append(f"{self.path}: the video ends at {short.reached:.2f} s of the {short.length:.2f} s "
                                 "the file states: it may be truncated")  # fmt: skip
            return
        raise _damage_error(self.path, self.frames_read, self._expected_frames(), short, "decoded")

    def _note_warnings(self, state: _Pass) -> None:
        """What a complete reading still left out or changed, for `warnings`."""
        if state.bad_before_first:
            count = state.bad_before_first
            self.warnings.append(f"{self.path}: {count} video packet{'s' * (count > 1)} before the first picture "
                                 "could not be decoded (skipped)")  # fmt: skip
        if state.bad_audio:
            count = state.bad_audio
            self.warnings.append(f"{self.path}: {count} corrupt audio packet{'s' * (count > 1)} left out")
        if state.fixed_pts:
            self.warnings.append(f"{self.path}: {state.fixed_pts} frames had repeated or backward timestamps (fixed)")

    def _to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        if self.size is None or self.size == (frame.height, frame.width):
            return frame.to_ndarray(format="rgb24")
        height, width = self.size
        smaller = width * height < frame.width * frame.height
        return frame.to_ndarray(format="rgb24", width=width, height=height,
                                interpolation="AREA" if smaller else "BICUBIC")  # fmt: skip


def _display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    """The frame's display matrix (rotation and flips) as FFmpeg stores it, 9 int32; None where absent."""
    from av.sidedata.sidedata import Type

    if Type.DISPLAYMATRIX not in frame.side_data:
        return None
    raw = bytes(frame.side_data[Type.DISPLAYMATRIX])  # type: ignore[typeddict-item]  # (PyAV's stub is off)
    if len(raw) < 36:
        return None
    matrix = struct.unpack("<9i", raw[:36])
    return None if matrix == _IDENTITY else matrix


_IDENTITY = (65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)


def rotation_of(matrix: Sequence[int] | None) -> int:
    """Counter-clockwise degrees of a display matrix (0 for None), as FFmpeg reads it."""
    if not matrix:
        return 0
    scale_x = math.hypot(matrix[0], matrix[3])
    scale_y = math.hypot(matrix[1], matrix[4])
    if not scale_x or not scale_y:
        return 0
    rotation = math.degrees(math.atan2(matrix[1] / scale_y, matrix[0] / scale_x))
    return int(round(-rotation)) % 360
