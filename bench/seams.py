"""Seams of a video stylised in segments by --engine ray, on real clips with trained weights.

    python bench/seams.py                 # bikes and bigbuckbunny of $STYLIZE_MEDIA/video, first 3 s, 320 px
    python bench/seams.py CLIP ... --duration 3 --max-size 320 --segment 25

Each clip is stylised with `--temporal flow` by the local engine and by Ray in segments (2 workers,
`--segment` frames each, the engine's default warm-up), with the default video model and the
weights `stylize` finds. For every pair of consecutive frames the warping error is measured with
two optical flows: DIS (what the smoothing itself uses) and Farneback (a second opinion the
smoothing was not tuned on). Reported: the mean over the pairs that cross a seam, over all other
pairs, and their ratio (the goal: at most 1.10), and the same pairs of the local engine's output,
where nothing is cut. Ray runs inside a network namespace of its own (loopback only; the script
re-runs itself under `unshare --net`, which needs root). Results: bench/results/seams.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from scale import INSIDE, machine_load, reexec_in_namespace

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("STYLIZE_MEDIA", "media"))
CLIPS = ("bikes.mp4", "bigbuckbunny.mp4")
STYLE = ROOT / "demo" / "paintings" / "van_gogh_starry_night.jpg"
GOAL = 1.10


def decoded_frames(path: Path, start: float = 0.0, duration: float | None = None) -> list:
    from stylize.media.video.reader import Frame, VideoReader

    with VideoReader(path, start=start, duration=duration, audio=False) as reader:
        return [f.image for f in reader if isinstance(f, Frame)]


def pair_errors(inputs: list, outputs: list, method: str) -> list[float]:
    """Each consecutive pair's warping error, the input brought to the output's size first."""
    from stylize.metrics.temporal import align, warping_error

    aligned = [align(a, b) for a, b in zip(inputs, outputs, strict=False)]
    return list(warping_error((a for a, _ in aligned), (b for _, b in aligned), method).pairs)


def split(errors: list[float], seams: set[int]) -> dict[str, float]:
    at = [e for t, e in enumerate(errors) if t in seams]
    rest = [e for t, e in enumerate(errors) if t not in seams]
    mean_at, mean_rest = sum(at) / len(at), sum(rest) / len(rest)
    return {"seams": mean_at, "others": mean_rest, "ratio": mean_at / mean_rest}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--max-size", type=int, default=320)
    parser.add_argument("--segment", type=int, default=25, help="frames per segment")
    parser.add_argument("--temporal", default="flow", choices=("flow", "off"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "seams.json")
    parser.add_argument("--report", action="store_true", help="only rewrite the .md from the --out JSON")
    args = parser.parse_args()
    if args.report:
        write_report(args.out)
        return 0
    clips = args.clips or [MEDIA / "video" / name for name in CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"skipped: clips not found: {', '.join(missing)} (set STYLIZE_MEDIA to the folder with video/)")
        return 0
    if not os.environ.get(INSIDE):
        reexec_in_namespace()

    import torch

    import stylize
    from stylize.pipeline.engines import open_engine
    from stylize.pipeline.pictures import read_style_files
    from stylize.pipeline.settings import EngineChoice, ModelChoice, StyleChoice
    from stylize.pipeline.temporal import TemporalSettings
    from stylize.pipeline.video_runner import VideoSettings
    from stylize.weights.defaults import default_model

    torch.set_num_threads(1)  # as each Ray actor computes: the two engines then differ only in the cutting
    name = default_model("video").name
    stylizer = stylize.load_model(name, device="cpu", precision="fp32")
    model = ModelChoice(name, device="cpu", precision="fp32")
    choice = StyleChoice((str(STYLE),), style_size=512, max_size=args.max_size)
    style = list(read_style_files([STYLE], 512).values())
    settings = VideoSettings(duration=args.duration, temporal=TemporalSettings(mode=args.temporal))
    engines = {
        "local": EngineChoice("local"),
        "ray": EngineChoice("ray", workers=2, segment_frames=args.segment),
    }
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for clip in clips:
            inputs = decoded_frames(clip, duration=args.duration)
            seams = {t - 1 for t in range(args.segment, len(inputs), args.segment)}  # pair t -> t + 1 crosses
            row: dict[str, object] = {"clip": clip.name, "frames": len(inputs), "seam_pairs": sorted(seams)}
            for label, engine_choice in engines.items():
                out = Path(scratch) / f"{clip.stem}_{label}.mp4"
                with open_engine(engine_choice, model) as engine:
                    engine.run_video(stylizer, style, clip, out, choice, None, settings)
                outputs = decoded_frames(out)
                for method in ("dis", "farneback"):
                    row[f"{label}_{method}"] = split(pair_errors(inputs, outputs, method), seams)
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "what": "warping error (Lai et al.) of the pairs crossing a Ray segment seam vs all other pairs, "
        f"--temporal {args.temporal}; the local engine's same pairs for reference (nothing cut there)",
        "model": name,
        "weights": stylizer.location,
        "style": str(STYLE.relative_to(ROOT)),
        "temporal": args.temporal,
        "duration": args.duration,
        "max_size": args.max_size,
        "segment_frames": args.segment,
        "warmup_frames": EngineChoice().warmup_frames,
        "goal_ratio_at_most": GOAL,
        "load": machine_load(),
        "clips": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    write_report(args.out)
    return 0


def write_report(path: Path) -> None:
    """Write the Markdown table beside the JSON results at `path`."""
    result = json.loads(path.read_text())
    lines = [
        "# Seams of --engine ray video segments",
        "",
        f"Written by `python bench/seams.py`: {result['model']} ({result['weights']}), Starry Night, first "
        f"{result['duration']:g} s at {result['max_size']} px, `--temporal {result['temporal']}`, "
        f"segments of {result['segment_frames']} frames with {result['warmup_frames']} warm-up frames, 2 workers, "
        "CPU fp32. Warping error of the frame pairs that cross a seam over that of all other pairs (goal: at most "
        f"{result['goal_ratio_at_most']:.2f}); the local engine's same pairs for reference, where nothing is cut.",
        "",
        "| clip | flow | Ray: seams / others | ratio | local: same pairs / others | ratio | Ray's seams / local's |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["clips"]:
        for method in ("dis", "farneback"):
            r, loc = row[f"ray_{method}"], row[f"local_{method}"]
            lines.append(
                f"| {row['clip']} | {method} | {r['seams']:.5f} / {r['others']:.5f} | **{r['ratio']:.3f}** "
                f"| {loc['seams']:.5f} / {loc['others']:.5f} | {loc['ratio']:.3f} | {r['seams'] / loc['seams']:.3f} |"
            )
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
