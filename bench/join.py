"""The driver's ceiling for video under --engine ray: how fast segments are stored and joined.

    python bench/join.py                       # 48 frames at 1920x1080 from $STYLIZE_MEDIA/video/bikes.mp4
    python bench/join.py --frames 96 --width 1280 --height 720

A worker stores each stylised segment losslessly (`segment_plan`); the driver decodes the segments
in order and encodes the output once (`join_segments`, H.264 at its defaults). This measures both
on this machine's cores, with frames of a real clip scaled to the size asked (a synthetic moving
pattern where the clip is absent): the segment's size per frame, the worker's encoding rate and the
driver's joining rate, which bounds how many frames per second a cluster can deliver into one
output. Results: bench/results/join.json and join.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("STYLIZE_MEDIA", "media"))
PRESETS = ("medium", "veryfast")  # the output's default, and a faster one


def frames_of(count: int, width: int, height: int) -> tuple[list[np.ndarray], str]:
    import cv2

    clip = MEDIA / "video" / "bikes.mp4"
    frames: list[np.ndarray] = []
    if clip.is_file():
        capture = cv2.VideoCapture(str(clip))
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(cv2.resize(frame, (width, height))[:, :, ::-1]))
        if len(frames) == count:
            return frames, f"{clip.name} scaled to {width}x{height}"
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    for t in range(count):
        wave = np.sin((x + 8 * t) / 37.0)[..., None] * np.array([60, 40, 90]) + np.cos(y / 23.0)[..., None] * 50
        frames.append(np.clip(120 + wave + noise, 0, 255).astype(np.uint8))
    return frames, f"a synthetic moving pattern at {width}x{height}"


def silent_input(path: Path, count: int, width: int, height: int) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame.reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--segment", type=int, default=24, help="frames per segment")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "join.json")
    args = parser.parse_args()

    from stylize.media.video.codecs import EncodeSettings, plan_output
    from stylize.media.video.join import join_segments, segment_plan
    from stylize.media.video.probe import probe
    from stylize.media.video.writer import VideoWriter

    frames, source = frames_of(args.frames, args.width, args.height)
    with tempfile.TemporaryDirectory(prefix="stylize-join-") as scratch:
        folder = Path(scratch)
        # The join takes timing and audio from the input: a silent input of the frames' size and count.
        src = silent_input(folder / "input.mp4", len(frames), args.width, args.height)
        info = probe(src)
        parts = []
        began = time.perf_counter()
        for first in range(0, len(frames), args.segment):
            part = folder / f"{first:05d}.nut"
            with VideoWriter(segment_plan(part), width=args.width, height=args.height, info=info) as writer:
                for index in range(first, min(first + args.segment, len(frames))):
                    writer.write(frames[index], index * 512, 512)
            parts.append(part)
        store_s = time.perf_counter() - began
        segment_mb = sum(p.stat().st_size for p in parts) / 1e6
        joins = {}
        for preset in PRESETS:
            dst = folder / f"out-{preset}.mp4"
            plan = plan_output(dst, EncodeSettings(preset=preset))
            began = time.perf_counter()
            joined = join_segments(src, dst, parts, plan, info, (args.width, args.height))
            joins[preset] = len(frames) / (time.perf_counter() - began)
            assert joined.frames == len(frames)
    result = {
        "frames": len(frames), "size": [args.width, args.height], "source": source, "cores": os.cpu_count(),
        "machine": platform.processor() or platform.machine(), "loadavg": os.getloadavg(),
        "segment_codec": segment_plan(Path("x")).codec.encoder,
        "output": f"{plan.codec.encoder} crf {plan.options['crf']}",
        "segment_mb_per_frame": segment_mb / len(frames), "store_frames_per_s": len(frames) / store_s,
        "join_frames_per_s": joins,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    md = "\n".join([
        f"# Video segments under --engine ray: {args.width}x{args.height}",
        "",
        f"Written by `python bench/join.py`: {len(frames)} frames of {source}, {result['cores']} cores, "
        f"load average {', '.join(f'{x:.2f}' for x in result['loadavg'])} (a niced background job may share them).",
        "",
        "| | |",
        "|---|---|",
        f"| a stored segment ({result['segment_codec']}, lossless) | "
        f"{result['segment_mb_per_frame']:.2f} MB per frame |",
        f"| a worker storing its segment | {result['store_frames_per_s']:.1f} frames/s |",
        *(f"| the driver joining (decoding the segments, encoding {result['output']} --preset {preset}) | "
          f"{rate:.1f} frames/s |" for preset, rate in joins.items()),
        "",
    ])  # fmt: skip
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
