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
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from stylize.errors import InputError, SetupError
from stylize.media.video.probe import VideoInfo, describe, main_video_stream, open_input, reason

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)


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


def check_decodable(path: str | Path, start: float = 0.0, duration: float | None = None) -> VideoInfo:
    """Probe a video and decode its first frame (of the range): a cheap check before loading a model.

    Raises:
        InputError: the file is no video, or no frame of the range decodes.
    """
    with VideoReader(path, start=start, duration=duration, audio=False) as reader:
        for _ in reader:
            break
        return reader.info


@dataclass
class _Pass:
    """Where one pass of `VideoReader.__iter__` stands.

    Attributes:
        shift: the range's start in time-base units (taken off every video timestamp).
        step: one frame interval in time-base units (for frames without a timestamp).
        audio_done: per audio stream, whether its packets have passed the range's end.
        video_done: a frame at or past the range's end was decoded.
        last_pts: the last video timestamp given out (before the shift).
        bad_packets: video packets that were corrupt or that the decoder rejected.
        bad_audio: corrupt audio packets left out.
        fixed_pts: repeated or backward video timestamps that were moved forward.
        stopped: why reading stopped before the end of the file; None where it did not.
    """

    shift: int
    step: int
    audio_done: dict[int, bool]
    video_done: bool = False
    last_pts: int | None = None
    bad_packets: int = 0
    bad_audio: int = 0
    fixed_pts: int = 0
    stopped: str | None = None


class VideoReader:
    """Decode a video's frames (RGB, with timestamps) and pass its audio packets on, in file order.

    Usage::

        with VideoReader(path, start=2.0, duration=5.0, size=(272, 640)) as reader:
            for item in reader:          # Frame or AudioPacket
                ...
            reader.warnings              # e.g. a corrupt tail, filled in as reading goes

    A corrupt tail does not fail the run: what decodes is returned and a warning says what was
    lost. A file where no frame decodes raises InputError before the first item is returned.
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

    def _seek(self) -> None:
        import av

        if self.start <= 0:
            return
        target = int(self.start / self.info.time_base)
        try:
            self._container.seek(target, stream=self.video_stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            log.debug("seek failed; decoding from the beginning")

    def __iter__(self) -> Iterator[Item]:
        self._seek()
        state = self._new_pass()
        for packet in self._packets(state):
            if packet.stream.type == "audio":
                item = self._audio_item(packet, state)
                if item is not None:
                    yield item
            elif not state.video_done:  # (past the range's end only the audio still matters)
                yield from self._frames(self._decode(packet, state), state)
            if state.video_done and all(state.audio_done.values()):
                break
        if state.stopped and not state.video_done:
            yield from self._frames(self._drain(state), state)  # frames the decoder still holds
        self._account(state)

    def _new_pass(self) -> _Pass:
        tb = self.info.time_base
        return _Pass(
            shift=int(round(self.start / tb)) if self.start else 0,
            step=max(1, round(1 / (self.info.fps * tb))) if self.info.fps else 1,
            audio_done={s.index: False for s in self.audio_streams},
        )

    def _packets(self, state: _Pass) -> Iterator[av.Packet]:
        """The packets of the video and audio streams in file order; a read error ends them (noted in `state`)."""
        import av

        demux = self._container.demux(self.video_stream, *self.audio_streams)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                state.stopped = reason(exc)
                return
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
        """The frames a video packet completes; a packet the decoder rejects is counted and gives none."""
        import av

        if packet.is_corrupt:
            state.bad_packets += 1
        try:
            return cast("Sequence[av.VideoFrame]", packet.decode())
        except av.error.FFmpegError:
            state.bad_packets += 1
            return ()

    def _drain(self, state: _Pass) -> Sequence[av.VideoFrame]:
        """The frames the decoder still holds (its reordering delay) after reading stopped early."""
        import av

        try:
            return self.video_stream.codec_context.decode(None)
        except av.error.EOFError:
            return ()
        except av.error.FFmpegError:
            state.bad_packets += 1
            return ()

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
            if self.display_matrix is None:
                self.display_matrix = _display_matrix(vf)
            yield Frame(self._to_rgb(vf), pts - state.shift, int(vf.duration or 0), self.frames_read)
            self.frames_read += 1

    def _account(self, state: _Pass) -> None:
        """After the last item: raise where no frame decoded, else note in `warnings` what was lost."""
        if self.frames_read == 0:
            if state.stopped or state.bad_packets:
                raise InputError(self.path, f"no video frame could be decoded ({state.stopped or 'corrupt data'})")
            where = f" after {self.start:g} s" if self.start else ""
            raise InputError(self.path, f"has no video frames{where}")
        lost = []
        if state.stopped:
            lost.append(f"reading stopped early ({state.stopped})")
        if state.bad_packets:
            lost.append(f"{state.bad_packets} corrupt video packet{'s' * (state.bad_packets > 1)} skipped")
        if state.bad_audio:
            lost.append(f"{state.bad_audio} corrupt audio packet{'s' * (state.bad_audio > 1)} left out")
        expected = self.info.expected_frames(self.start, None if self.end is None else self.end - self.start)
        if expected and not state.video_done and self.frames_read < expected - 1:
            lost.append(f"the header lists {expected} frames but only {self.frames_read} decoded")
        if lost:
            self.warnings.append(
                f"{self.path}: damaged or truncated: {'; '.join(lost)}; stylised the {self.frames_read} "
                "frames that decoded"
            )
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
