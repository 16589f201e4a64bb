"""Encoding a video: RGB frames with their input timestamps, audio copied (or re-encoded where the
container cannot hold it), the input's display matrix, colour description and aspect kept."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, cast

import numpy as np

from stylize.errors import OutputError, reason
from stylize.media.video.codecs import AUDIO_FALLBACKS, OutputPlan, can_copy_audio, even_size, supported_codecs
from stylize.media.video.probe import VideoInfo
from stylize.media.video.reader import AudioPacket

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)


class VideoWriter:
    """Encode RGB frames with their timestamps and mux audio packets (copied or re-encoded).

    The writer writes to `plan.path` as given: wrap it in `atomic_path` for an all-or-nothing file.
    """

    def __init__(
        self,
        plan: OutputPlan,
        *,
        width: int,
        height: int,
        info: VideoInfo,
        display_matrix: Sequence[int] | None = None,
        audio_streams: Sequence[av.AudioStream] = (),
    ) -> None:
        """Open the output and set up its streams.

        Args:
            plan: from `plan_output`.
            width, height: the frames' size (before any even-size padding).
            info: the input's description: time base, rate, aspect, colour, rotation tag.
            display_matrix: the input's display matrix, written unchanged.
            audio_streams: the input's audio streams to pass on (copied where the container holds
                their codec, else re-encoded).
        """
        import av

        self.plan = plan
        self.width, self.height = width, height
        self.coded_width, self.coded_height = even_size(width, height, plan.pix_fmt)
        self.info = info
        options = {"movflags": "+faststart"} if plan.format in ("mp4", "mov") else {}
        try:
            self._container = av.open(str(plan.path), "w", format=plan.format, options=options)
        except (OSError, av.error.FFmpegError) as exc:
            raise OutputError(plan.path, f"cannot write ({reason(exc)})") from None
        try:
            self._video = self._add_video(display_matrix)
            self.audio_notes: list[str] = []
            self._audio: dict[int, tuple[av.AudioStream, av.AudioStream, bool]] = {}
            for stream in audio_streams:
                self._add_audio(stream)
        except BaseException:
            self._container.close()
            raise
        self._durations: dict[int, int] = {}
        self.frames_written = 0
        self.last_pts = 0
        self.last_duration = 0

    def _add_video(self, display_matrix: Sequence[int] | None) -> av.VideoStream:
        plan, info = self.plan, self.info
        stream = cast("av.VideoStream", self._container.add_stream(plan.codec.encoder, rate=info.fps,
                                                                   options=plan.options))  # fmt: skip
        stream.width, stream.height = self.coded_width, self.coded_height
        stream.pix_fmt = plan.pix_fmt
        # Timestamps in the input's own unit: every frame keeps its exact time (VFR included).
        stream.time_base = info.time_base
        cc = stream.codec_context
        cc.time_base = info.time_base
        cc.framerate = info.fps
        if info.sample_aspect_ratio:
            cc.sample_aspect_ratio = info.sample_aspect_ratio
        color = info.color
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = (
            color.colorspace, color.primaries, color.trc, color.range,
        )  # fmt: skip
        tag = plan.codec.tags.get(plan.format)
        if tag:
            cc.codec_tag = tag
        if display_matrix:
            stream.set_display_matrix(list(display_matrix))
        elif info.rotate_tag:
            stream.set_display_rotation(-info.rotate_tag)  # the tag is clockwise
        return stream

    def _add_audio(self, source: av.AudioStream) -> None:
        supported = supported_codecs(self.plan.format)
        name = source.codec_context.name
        if can_copy_audio(name, self.plan.format, supported):
            out = self._container.add_stream_from_template(source)
            self._audio[source.index] = (source, out, True)
            self.audio_notes.append(f"audio copied ({name})")
            return
        import av

        for codec, encoder in AUDIO_FALLBACKS:
            if codec in supported and encoder in av.codecs_available:
                rate = source.codec_context.sample_rate or 48000
                if encoder == "libopus":
                    rate = 48000  # Opus runs at 48 kHz
                out = cast("av.AudioStream", self._container.add_stream(encoder, rate=rate))
                out.layout = source.codec_context.layout
                out.time_base = Fraction(1, rate)
                self._audio[source.index] = (source, out, False)
                self.audio_notes.append(
                    f"audio re-encoded {name} -> {codec} ({self.plan.path.suffix} cannot hold {name})"
                )
                return
        self.audio_notes.append(f"audio dropped: {self.plan.path.suffix} can hold no codec stylize can encode")

    def write(self, image: np.ndarray, pts: int, duration: int = 0) -> None:
        """Encode a frame.

        Args:
            image: (H, W, 3) uint8 RGB at the writer's size.
            pts: presentation time in the input's time base.
            duration: in the same unit; 0 where unknown.
        """
        import av

        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame of {image.shape[1]}x{image.shape[0]} for a {self.width}x{self.height} video")
        pad_h, pad_w = self.coded_height - self.height, self.coded_width - self.width
        if pad_h or pad_w:
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        cc = self._video.codec_context
        colorspace = self.info.color.colorspace if self.info.color.colorspace in (1, 5, 6, 7, 9) else None
        frame = frame.reformat(format=self.plan.pix_fmt, dst_colorspace=colorspace,
                               dst_color_range=self.info.color.range or None)  # fmt: skip
        frame.pts = pts
        frame.time_base = cc.time_base
        if duration:
            frame.duration = duration
            self._durations[pts] = duration
        self._mux(self._with_durations(self._video.encode(frame)))
        self.frames_written += 1
        self.last_pts, self.last_duration = pts, duration

    def write_audio(self, item: AudioPacket) -> None:
        """Pass an audio packet on (copied as is, or decoded and re-encoded)."""
        entry = self._audio.get(item.track)
        if entry is None:
            return
        source, out, copy = entry
        packet = item.packet
        if copy:
            packet.stream = out
            self._container.mux(packet)
            return
        import av

        try:
            frames = source.codec_context.decode(packet)
        except av.error.FFmpegError:
            return
        for frame in frames:
            self._mux(out.encode(frame))

    def _with_durations(self, packets: Sequence[av.Packet]) -> Sequence[av.Packet]:
        """Give encoded packets their frame's duration (encoders leave it 0; the muxer would then
        guess the last frame's from the average rate, which is wrong for variable frame rates)."""
        for packet in packets:
            duration = self._durations.pop(packet.pts, 0) if packet.pts is not None else 0
            if duration and not packet.duration:
                packet.duration = duration
        return packets

    def _mux(self, packets: Sequence[av.Packet]) -> None:
        if packets:
            self._container.mux(packets)

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        import av

        try:
            self._mux(self._with_durations(self._video.encode(None)))
            for _source, out, copy in self._audio.values():
                if not copy:
                    self._mux(out.encode(None))
        except av.error.FFmpegError as exc:
            raise OutputError(self.plan.path, f"cannot finish the video ({reason(exc)})") from None
        finally:
            self._container.close()

    def abort(self) -> None:
        """Close without finishing (the caller removes the file)."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - already failing; the file is discarded anyway
            log.debug("closing an aborted output failed", exc_info=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
