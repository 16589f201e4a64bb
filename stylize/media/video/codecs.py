"""The video codecs and containers stylize writes, and the check of an output's settings before any work.

Odd frame sizes: 4:2:0 and 4:2:2 chroma need even sides, and H.264 cannot crop a single pixel in
4:2:0 (its crop unit is two pixels). An odd side is therefore padded by ONE pixel that repeats the
edge (right column, bottom row; see `even_size`): nothing is scaled or distorted, the picture keeps
every one of its pixels at its place, and the file is one pixel larger on that side.
`--pix-fmt yuv444p` (or a lossless codec such as ffv1) keeps odd sizes exactly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from stylize.errors import OutputError, SetupError

# Output containers by file suffix (FFmpeg muxer names).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}

# Audio codecs tried, in order, when the output container cannot hold the input's audio.
AUDIO_FALLBACKS = (("aac", "aac"), ("opus", "libopus"), ("vorbis", "libvorbis"), ("mp3", "libmp3lame"))


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
    if spec.codec not in supported_codecs(fmt):
        fits = [name for name, c in CODECS.items() if c.codec in supported_codecs(fmt)]
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


def supported_codecs(fmt: str) -> set[str]:
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
    supported = supported_codecs(fmt) if supported is None else supported
    if fmt == "mp4" and codec.startswith("pcm_"):
        return False
    return codec in supported
