"""What `--temporal-weight` trades: flicker removed against style lost, for several weights at once.

    python bench/temporal_weight.py [--model M] [--weights DIR] [--style PAINTING ...] [--duration 2]

Each clip is stylised once per style, frame by frame (smoothing off, 8-bit frames as the encoder
receives them); then `stylize.pipeline.temporal.smooth` runs over those frames at each weight. For
each weight: the warping error's change against per-frame output, by DIS flow (the smoothing's own)
and by Farneback flow (an independent check), and the style distance's change (AdaIN style loss on
the model's encoder, 8 frames spread over the clip). Frames are not video-encoded here, so the
figures differ a little from bench/video_temporal.py's, which measures the encoded files at one
weight. By default the styles are held-out paintings (tests/data/heldout): measured on paintings
training read, the style figures would flatter the model. Results:
bench/results/temporal_weight.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from video_temporal import CLIPS, MEDIA, STYLE, TARGET_STYLE, TARGET_WARP  # the clips, painting and targets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path, help="default: bikes and bigbuckbunny in $STYLIZE_MEDIA/video")
    parser.add_argument("--model", default=None, help="default: what `stylize video` uses when no -m is given")
    parser.add_argument("--weights", default=None, help="checkpoint folder or zip (default: found as stylize does)")
    parser.add_argument("--style", type=Path, action="append", help="style image (repeatable)")
    parser.add_argument("--style-size", type=int, default=512)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds from the start of each clip")
    parser.add_argument("--max-size", type=int, default=640, help="bound on the frames' long side")
    parser.add_argument("--temporal-weights", type=float, nargs="+", default=list(WEIGHTS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "temporal_weight.json")
    args = parser.parse_args(argv)
    clips = args.clips or [MEDIA / "video" / name for name in CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"skipped: clips not found: {', '.join(missing)} (set STYLIZE_MEDIA to the folder with video/)")
        return 0

    import numpy as np
    import torch

    import stylize
    from stylize.media.atomic import atomic_path
    from stylize.media.images import fit_long_side
    from stylize.media.video.probe import probe
    from stylize.media.video.reader import Frame, VideoReader
    from stylize.metrics.temporal import as_unit, feature_statistics, sample_indices, style_distance, warping_error
    from stylize.pipeline.pictures import read_styles
    from stylize.pipeline.settings import StyleChoice
    from stylize.pipeline.temporal import TemporalSettings, TemporalState, smooth
    from stylize.pipeline.video_runner import FrameStylist
    from stylize.weights.defaults import default_model

    model_name = args.model or default_model("video", args.weights).name
    model = stylize.load_model(model_name, args.weights, "cpu")
    encoder = model.network.encoder.float()
    styles = args.style or [STYLE]

    def distance(frames: list[np.ndarray], reference: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
        chosen = sample_indices(len(frames), 8)
        tensors = (torch.from_numpy(frames[i]).float().div(255).permute(2, 0, 1)[None] for i in chosen)
        return float(np.mean([style_distance(feature_statistics(encoder, t), reference) for t in tensors]))

    rows = []
    for clip in clips:
        info = probe(clip)
        height, width = fit_long_side(info.height, info.width, args.max_size or None)
        with VideoReader(clip, duration=args.duration, size=(height, width), audio=False) as reader:
            inputs = [item.image for item in reader if isinstance(item, Frame)]
        for style_path in styles:
            style = read_styles([style_path], args.style_size)[0]
            reference = feature_statistics(encoder, style)
            off = TemporalSettings(mode="off")
            stylist = FrameStylist(model, [style], StyleChoice(styles=(str(style_path),)), off, (width, height))
            per_frame = [stylist(image) for image in inputs]
            base = {
                "dis": warping_error(inputs, per_frame).mean,
                "farneback": warping_error(inputs, per_frame, "farneback").mean,
                "style": distance(per_frame, reference),
            }
            print(
                f"{clip.name} x {style_path.stem}: {len(inputs)} frames {width}x{height}, per frame: "
                f"DIS {base['dis']:.5f}, Farneback {base['farneback']:.5f}, style {base['style']:.3f}",
                flush=True,
            )
            for weight in args.temporal_weights:
                settings, state, smoothed = TemporalSettings(weight=weight), TemporalState(), []
                for image, frame in zip(inputs, per_frame, strict=True):
                    out, state = smooth(state, image, as_unit(frame), settings)
                    smoothed.append((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8))
                row = {
                    "clip": clip.name,
                    "style": style_path.stem,
                    "weight": weight,
                    "dis_change": warping_error(inputs, smoothed).mean / base["dis"] - 1,
                    "farneback_change": warping_error(inputs, smoothed, "farneback").mean / base["farneback"] - 1,
                    "style_change": distance(smoothed, reference) / base["style"] - 1,
                    "per_frame": base,
                }
                rows.append(row)
                print(
                    f"  weight {weight:.2f}: DIS {row['dis_change']:+.1%}, Farneback {row['farneback_change']:+.1%}, "
                    f"style {row['style_change']:+.1%}",
                    flush=True,
                )

    summary = {
        "what": __doc__.strip().splitlines()[0],
        "model": model_name,
        "weights": model.location,
        "duration": args.duration,
        "max_size": args.max_size,
        "styles": [s.name for s in styles],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "rows": rows,
    }
    lines = [
        f"# Temporal weight: flicker against style ({model_name})",
        "",
        f"`python bench/temporal_weight.py` ({summary['date']}): first {args.duration:g} s of each clip at "
        f"{args.max_size} px, weights {model.location}. Changes against per-frame output; targets: warping "
        f"error at least {TARGET_WARP:.0%} lower, style distance at most {TARGET_STYLE:.0%} higher.",
        "",
        "| clip | style | weight | warping error, DIS | Farneback | style distance |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r['clip']} | {r['style']} | {r['weight']:.2f} | {r['dis_change']:+.1%} | {r['farneback_change']:+.1%} "
            f"| {r['style_change']:+.1%} |"
            for r in rows
        ),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as temp:
        temp.write_text(json.dumps(summary, indent=2) + "\n")
    with atomic_path(args.out.with_suffix(".md")) as temp:
        temp.write_text("\n".join(lines))
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
