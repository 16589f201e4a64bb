"""Video files with PyAV: a reader (RGB frames with their timestamps, audio packets, rotation) and
a writer (H.264 in MP4, yuv420p, by default; the audio copied unchanged).

Timing is carried by timestamps, never by a frame rate: every output frame has its input frame's
presentation time (minus the start of the selected range), so variable frame rates survive. The
video is stylised in its coded orientation and the input's display matrix (rotation, flips) is
written to the output, so players turn it exactly as they turned the input.

Odd frame sizes: 4:2:0 and 4:2:2 chroma need even sides, and H.264 cannot crop a single pixel in
4:2:0 (its crop unit is two pixels). An odd side is therefore padded by ONE pixel that repeats the
edge (right column, bottom row): nothing is scaled or distorted, the picture keeps every one of
its pixels at its place, and the file is one pixel larger on that side. `--pix-fmt yuv444p` (or a
lossless codec such as ffv1) keeps odd sizes exactly.
"""

from __future__ import annotations

import io
import logging
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from stylize.errors import InputError, OutputError, SetupError

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

# Output containers by file suffix (FFmpeg muxer names).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}

# Demuxers that read still images: `stylize video photo.jpg` is a mistake worth naming.
_IMAGE_DEMUXERS = ("image2", "image2pipe")

# Audio codecs tried, in order, when the output container cannot hold the input's audio.
_AUDIO_FALLBACKS = (("aac", "aac"), ("opus", "libopus"), ("vorbis", "libvorbis"), ("mp3", "libmp3lame"))


@dataclass(frozen=True)
class CodecSpec:
    """A video codec users can choose with `--codec`.

    Attributes:
        name: what users type.
        encoder: the FFmpeg encoder.
        codec: the FFmpeg codec name (what containers list as supported).
        pix_fmt: default pixel format.
        crf: default constant-rate factor; None where the codec has none.
        crf_max: the largest CRF the encoder accepts.
        presets: accepted `--preset` values; empty where the codec has none.
        preset: the default preset.
        options: fixed encoder options.
        tags: per container, the codec tag to write (e.g. hvc1 so Apple players play HEVC).
    """

    name: str
    encoder: str
    codec: str
    pix_fmt: str
    crf: int | None = None
    crf_max: int = 51
    presets: tuple[str, ...] = ()
    preset: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


_X26X_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip

CODECS: dict[str, CodecSpec] = {
    "h264": CodecSpec("h264", "libx264", "h264", "yuv420p", crf=18, presets=_X26X_PRESETS, preset="medium"),
    "hevc": CodecSpec(
        "hevc", "libx265", "hevc", "yuv420p", crf=20, presets=_X26X_PRESETS, preset="medium",
        options={"x265-params": "log-level=error"}, tags={"mp4": "hvc1", "mov": "hvc1"},
    ),
    "vp9": CodecSpec(
        "vp9", "libvpx-vp9", "vp9", "yuv420p", crf=31, crf_max=63,
        options={"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"},
    ),
    "av1": CodecSpec(
        "av1", "libsvtav1", "av1", "yuv420p", crf=32, crf_max=63,
        presets=tuple(str(p) for p in range(14)), preset="8",
    ),
    "ffv1": CodecSpec("ffv1", "ffv1", "ffv1", "yuv444p", options={"level": "3"}),
    "prores": CodecSpec("prores", "prores_ks", "prores", "yuv422p10le", options={"profile": "3"}),
}  # fmt: skip


@dataclass(frozen=True)
class EncodeSettings:
    """How to encode the output video.

    Attributes:
        codec: a key of `CODECS`.
        crf: quality (lower is better and larger); None takes the codec's default.
        preset: speed/size trade-off of x264/x265 (and SVT-AV1's 0-13); None takes the default.
        pix_fmt: pixel format; None takes the codec's default (yuv420p for H.264: plays everywhere).
        audio: copy (or, where needed, re-encode) the input's audio.
    """

    codec: str = "h264"
    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    audio: bool = True


@dataclass(frozen=True)
class OutputPlan:
    """What an output file will be, checked before any frame is decoded."""

    path: Path
    format: str
    codec: CodecSpec
    pix_fmt: str
    options: dict[str, str]
    audio: bool


def plan_output(dst: str | Path, settings: EncodeSettings) -> OutputPlan:
    """Check the output name, codec, quality and container together, before any work.

    Raises:
        OutputError: the suffix names no video container stylize writes.
        SetupError: the codec, CRF, preset or pixel format does not fit.
    """
    import av

    path = Path(dst)
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputError(path, f"unknown video format {suffix or '(no suffix)'!r}", hint="name the output "
                          + ", ".join(sorted(set(CONTAINERS))))  # fmt: skip
    fmt = CONTAINERS[suffix]
    if settings.codec not in CODECS:
        raise SetupError(f"unknown codec {settings.codec!r}; choose one of {', '.join(CODECS)}")
    spec = CODECS[settings.codec]
    if spec.encoder not in av.codecs_available:
        raise SetupError(f"this FFmpeg build has no {spec.encoder} encoder for --codec {spec.name}")
    if spec.codec not in _supported_codecs(fmt):
        fits = [name for name, c in CODECS.items() if c.codec in _supported_codecs(fmt)]
        raise SetupError(f"{suffix} files cannot hold {spec.name} video; with {suffix} use {', '.join(fits)}",
                         hint="or choose another output suffix")  # fmt: skip
    options = dict(spec.options)
    if settings.crf is not None:
        if spec.crf is None:
            raise SetupError(f"--crf does not apply to {spec.name} (it has no constant-rate factor)")
        if not 0 <= settings.crf <= spec.crf_max:
            raise SetupError(f"--crf {settings.crf} is out of range for {spec.name} (0..{spec.crf_max})")
    crf = settings.crf if settings.crf is not None else spec.crf
    if crf is not None:
        options["crf"] = str(crf)
    if settings.preset is not None and settings.preset not in spec.presets:
        if not spec.presets:
            raise SetupError(f"--preset does not apply to {spec.name}")
        raise SetupError(f"--preset {settings.preset!r} is not one of {spec.name}'s: {', '.join(spec.presets)}")
    preset = settings.preset or spec.preset
    if preset is not None:
        options["preset"] = preset
    pix_fmt = settings.pix_fmt or spec.pix_fmt
    try:
        av.VideoFormat(pix_fmt)
    except (ValueError, av.error.FFmpegError):
        raise SetupError(f"unknown pixel format {pix_fmt!r}") from None
    return OutputPlan(path, fmt, spec, pix_fmt, options, settings.audio)


def _supported_codecs(fmt: str) -> set[str]:
    import av

    with av.open(io.BytesIO(), "w", format=fmt) as probe:
        return set(probe.supported_codecs)


def even_size(width: int, height: int, pix_fmt: str) -> tuple[int, int]:
    """The frame size a pixel format can hold: odd sides grow by one where chroma is subsampled."""
    import av

    fmt = av.VideoFormat(pix_fmt, width or 2, height or 2)
    if fmt.is_rgb or len(fmt.components) < 3:
        return width, height
    sub_w = fmt.components[1].width < fmt.components[0].width
    sub_h = fmt.components[1].height < fmt.components[0].height
    return width + (width % 2 if sub_w else 0), height + (height % 2 if sub_h else 0)


def can_copy_audio(codec: str, fmt: str, supported: set[str] | None = None) -> bool:
    """Whether audio of `codec` goes into a `fmt` container unchanged.

    NOTE: FFmpeg's MP4 muxer accepts PCM, but browsers and phones do not play PCM in MP4, so
    there PCM counts as "cannot hold" and is re-encoded to AAC.
    """
    supported = _supported_codecs(fmt) if supported is None else supported
    if fmt == "mp4" and codec.startswith("pcm_"):
        return False
    return codec in supported


# --- reading ---------------------------------------------------------------------------------


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
        duration: seconds, where known.
        rotate_tag: the legacy `rotate` metadata tag (degrees clockwise), 0 where absent.
        sample_aspect_ratio: the pixel aspect ratio; None where unset (square).
        audio: the audio streams.
        color: the colour description.
        codec: the video codec's name.
        format: the container format.
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


def _open_input(path: Path) -> av.container.InputContainer:
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
        raise InputError(path, f"not a video file ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(";")[0].strip().rstrip(".")


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
    duration = None
    if stream.duration is not None:
        duration = float(stream.duration * time_base)
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
    )


def probe(path: str | Path) -> VideoInfo:
    """Read a video file's header. Raises InputError for files that are no usable video."""
    path = Path(path)
    container = _open_input(path)
    try:
        return describe(container, path)
    finally:
        container.close()


def check_decodable(path: str | Path, start: float = 0.0, duration: float | None = None) -> VideoInfo:
    """Probe a video and decode its first frame (of the range): a cheap check before loading a model.

    Raises:
        InputError: the file is no video, or no frame of the range decodes.
    """
    with VideoReader(path, start=start, duration=duration, audio=False) as reader:
        for _ in reader:
            break
        return reader.info


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
        self._container = _open_input(self.path)
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
        import av

        self._seek()
        info = self.info
        tb = info.time_base
        shift = int(round(self.start / tb)) if self.start else 0
        step = max(1, round(1 / (info.fps * tb))) if info.fps else 1
        video_done = False
        audio_done = {s.index: False for s in self.audio_streams}
        last_pts: int | None = None
        bad_packets = 0
        bad_audio = 0
        fixed_pts = 0
        stopped: str | None = None

        def frames_of(decoded: Sequence[Any]) -> Iterator[Frame]:
            nonlocal video_done, last_pts, fixed_pts
            for vf in decoded:
                if video_done:
                    return
                pts = vf.pts
                if pts is None:
                    pts = 0 if last_pts is None else last_pts + step
                seconds = float(pts * tb)
                if seconds < self.start - float(tb) / 2:
                    continue
                if self.end is not None and seconds >= self.end - float(tb) / 2:
                    video_done = True
                    return
                if last_pts is not None and pts <= last_pts:
                    pts = last_pts + 1  # a repeated or backward timestamp: keep the frame, keep order
                    fixed_pts += 1
                last_pts = pts
                if self.display_matrix is None:
                    self.display_matrix = _display_matrix(vf)
                yield Frame(self._to_rgb(vf), pts - shift, int(vf.duration or 0), self.frames_read)
                self.frames_read += 1

        demux = self._container.demux(self.video_stream, *self.audio_streams)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                stopped = _reason(exc)
                break
            if packet.stream.type == "audio":
                index = packet.stream.index
                if packet.pts is None or packet.size == 0 or audio_done.get(index, True):
                    continue
                if packet.is_corrupt:  # e.g. cut short by a truncated file: players would choke on it
                    bad_audio += 1
                    continue
                seconds = float(packet.pts * packet.time_base)
                if self.end is not None and seconds >= self.end:
                    audio_done[index] = True
                elif seconds >= self.start - 1e-6:
                    if shift:
                        delta = int(round(self.start / packet.time_base))
                        packet.pts -= delta
                        if packet.dts is not None:
                            packet.dts -= delta
                    yield AudioPacket(packet, index)
            elif not video_done:  # (past the range's end only the audio still matters)
                if packet.is_corrupt:
                    bad_packets += 1
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    bad_packets += 1
                    continue
                yield from frames_of(decoded)
            if video_done and all(audio_done.values()):
                break
        if stopped and not video_done:
            try:  # frames still held by the decoder (reordering delay)
                yield from frames_of(self.video_stream.codec_context.decode(None))
            except av.error.EOFError:
                pass
            except av.error.FFmpegError:
                bad_packets += 1

        if self.frames_read == 0:
            if stopped or bad_packets:
                raise InputError(self.path, f"no video frame could be decoded ({stopped or 'corrupt data'})")
            where = f" after {self.start:g} s" if self.start else ""
            raise InputError(self.path, f"has no video frames{where}")
        lost = []
        if stopped:
            lost.append(f"reading stopped early ({stopped})")
        if bad_packets:
            lost.append(f"{bad_packets} corrupt video packet{'s' * (bad_packets > 1)} skipped")
        if bad_audio:
            lost.append(f"{bad_audio} corrupt audio packet{'s' * (bad_audio > 1)} left out")
        expected = info.expected_frames(self.start, None if self.end is None else self.end - self.start)
        if expected and not video_done and self.frames_read < expected - 1:
            lost.append(f"the header lists {expected} frames but only {self.frames_read} decoded")
        if lost:
            self.warnings.append(
                f"{self.path}: damaged or truncated: {'; '.join(lost)}; stylised the {self.frames_read} "
                "frames that decoded"
            )
        if fixed_pts:
            self.warnings.append(f"{self.path}: {fixed_pts} frames had repeated or backward timestamps (fixed)")

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


# --- writing ---------------------------------------------------------------------------------


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
            raise OutputError(plan.path, f"cannot write ({_reason(exc)})") from None
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
        stream.codec_context.time_base = info.time_base
        stream.codec_context.framerate = info.fps
        if info.sample_aspect_ratio:
            stream.codec_context.sample_aspect_ratio = info.sample_aspect_ratio
        color = info.color
        cc = stream.codec_context
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
        supported = _supported_codecs(self.plan.format)
        name = source.codec_context.name
        if can_copy_audio(name, self.plan.format, supported):
            out = self._container.add_stream_from_template(source)
            self._audio[source.index] = (source, out, True)
            self.audio_notes.append(f"audio copied ({name})")
            return
        import av

        for codec, encoder in _AUDIO_FALLBACKS:
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
            raise OutputError(self.plan.path, f"cannot finish the video ({_reason(exc)})") from None
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
