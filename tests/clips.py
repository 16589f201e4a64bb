"""Short synthetic clips made with PyAV for the video tests: a textured pattern that moves, and a sine tone.

Nothing outside the repository is needed; every clip takes well under a second to make.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, detailed colour texture (H, W, 3) uint8: blobs at two scales plus diagonal stripes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        for scale, amp in ((24.0, 0.35), (7.0, 0.2)):
            fy, fx, py, px = rng.uniform(0.5, 1.5, 4)
            out[..., c] += amp * np.sin(yy / scale * fy + py * 6) * np.cos(xx / scale * fx + px * 6)
        out[..., c] += 0.12 * np.sin((xx + yy) / (3.0 + c))
    out = (out - out.min()) / (out.max() - out.min())
    return (out * 235 + 10).astype(np.uint8)


def moving_frames(count: int, height: int, width: int, dx: int = 2, dy: int = 1, seed: int = 0) -> list[np.ndarray]:
    """`count` frames (H, W, 3) uint8 of a texture sliding by (dx, dy) pixels per frame."""
    big = texture(height + abs(dy) * count + 1, width + abs(dx) * count + 1, seed)
    frames = []
    for i in range(count):
        y0 = (count - i) * dy if dy > 0 else i * -dy
        x0 = (count - i) * dx if dx > 0 else i * -dx
        frames.append(np.ascontiguousarray(big[y0 : y0 + height, x0 : x0 + width]))
    return frames


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 20,
    fps: int = 25,
    audio: bool = True,
    audio_codec: str = "aac",
    audio_seconds: float | None = None,
    rotation: int = 0,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    images: list[np.ndarray] | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a clip: a moving texture, optionally with a 440 Hz sine tone of the clip's length.

    Args:
        rotation: display rotation, degrees counter-clockwise (as `VideoFrame.rotation` reads it).
        pts: explicit presentation times in `time_base` units (variable frame rate).
        images: frames to write instead of the moving texture.
    """
    import av

    images = images if images is not None else moving_frames(frames, height, width)
    tb = time_base or Fraction(1, fps)
    stamps = pts if pts is not None else [round(i / fps / tb) for i in range(len(images))]
    container = av.open(str(path), "w", options=options or {})
    video = container.add_stream(codec, rate=fps, options={"preset": "ultrafast"} if codec == "libx264" else {})
    video.width, video.height, video.pix_fmt = width, height, pix_fmt
    video.time_base = tb
    video.codec_context.time_base = tb
    if rotation:
        video.set_display_rotation(rotation)
    tone = None
    if audio:
        rate = 48000 if audio_codec in ("libopus", "opus") else 44100
        tone = container.add_stream(audio_codec, rate=rate)
        tone.layout = "mono"
    for image, stamp in zip(images, stamps, strict=False):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = stamp, tb
        container.mux(video.encode(frame))
    container.mux(video.encode())
    if tone is not None:
        rate = tone.codec_context.sample_rate
        seconds = audio_seconds if audio_seconds is not None else float((stamps[-1] + round(1 / fps / tb)) * tb)
        samples = int(seconds * rate)
        chunk = 1024
        fmt = "s16" if audio_codec.startswith("pcm_s16") else "fltp"
        for start in range(0, samples, chunk):
            n = min(chunk, samples - start)
            wave = 0.3 * np.sin(2 * np.pi * 440 * (np.arange(start, start + n)) / rate)
            data = (wave * 32767).astype(np.int16)[None] if fmt == "s16" else wave.astype(np.float32)[None]
            af = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
            af.sample_rate, af.pts, af.time_base = rate, start, Fraction(1, rate)
            container.mux(tone.encode(af))
        container.mux(tone.encode())
    container.close()
    return path


def read_clip(path: Path) -> dict:
    """What a test checks of a file: frames (RGB), their times, which are key frames, size, rate, rotation, audio."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, times, keyframes, rotation = [], [], [], None
        for frame in container.decode(stream):
            if frame.key_frame:
                keyframes.append(len(frames))
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.pts * frame.time_base))
            if rotation is None:
                rotation = frame.rotation
    audio = None
    with av.open(str(path)) as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            samples = [frame.to_ndarray().astype(np.float64) for frame in container.decode(stream)]
            wave = np.concatenate([s.reshape(s.shape[0], -1) if s.ndim == 2 else s[None] for s in samples], axis=1)
            if wave.dtype.kind != "f" or np.abs(wave).max() > 2:
                wave = wave / 32768.0
            rate = stream.codec_context.sample_rate
            audio = {
                "codec": stream.codec_context.name,
                "rate": rate,
                "duration": wave.shape[1] / rate,
                "rms": float(np.sqrt(np.mean(wave[0] ** 2))),
            }
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "frames": frames,
            "times": times,
            "keyframes": keyframes,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": stream.average_rate,
            "duration": float(stream.duration * stream.time_base) if stream.duration else None,
            "rotation": rotation or 0,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "audio": audio,
        }


def make_audio_only(path: Path) -> Path:
    """A short silent AAC file with no video stream."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def damaged_copy(src: Path, dst: Path, *, frames: int, mid_packet: bool = False) -> Path:
    """A copy of `src` (an MP4 with its index first: `movflags=+faststart`) cut short after the data of
    its first `frames` video frames; with `mid_packet`, cut in the middle of the next frame's data.

    The index still lists every frame, so the header promises more frames than decode.
    """
    import av

    with av.open(str(src)) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]
    pos, size = packets[frames]
    dst.write_bytes(src.read_bytes()[: pos + (size // 2 if mid_packet else 0)])
    return dst


def garbled_copy(src: Path, dst: Path, *, frame: int) -> Path:
    """A copy of `src` whose `frame`-th video frame's data is overwritten with bytes no decoder accepts;
    the container is intact, so only decoding finds the damage."""
    import av

    with av.open(str(src)) as container:
        pos, size = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size][frame]
    data = bytearray(src.read_bytes())
    data[pos + 4 : pos + size] = b"\x55" * (size - 4)  # (the first 4 bytes: the NAL unit's length, kept)
    dst.write_bytes(bytes(data))
    return dst
