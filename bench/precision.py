"""How far half precision moves the result: bf16 (or fp16) against fp32, with real (trained) weights.

    python bench/precision.py [--precision bf16] [--device cpu] [--size 256] [--models adaattn stya2k]

For each model and each bundled demo photo stylised with the demo painting, reports the relative
error of the raw output (mean and max |d| / std of the fp32 output) and the PSNR of the 8-bit
images a user gets. Uses the weights `stylize.load_model` finds (stylize's own by default).
Results: bench/results/precision.json. (On a CPU without AMX or AVX512-BF16, bf16 is emulated and
slow; --size keeps the run short.)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def psnr(a, b) -> float:  # type: ignore[no-untyped-def]
    mse = float(((a.float() - b.float()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256, help="long side of contents and style")
    parser.add_argument("--models", nargs="+", default=["adaattn", "stya2k", "adaattn-video"])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--count", type=int, default=2, help="how many of the demo photos")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "precision.json")
    args = parser.parse_args()

    import torch

    import stylize
    from stylize.media.images import image_to_tensor, read_image, resize_long_side

    torch.set_grad_enabled(False)
    photos = sorted((ROOT / "demo" / "photos").glob("*.jpg"))[: args.count]
    painting = ROOT / "demo" / "paintings" / "van_gogh_starry_night.jpg"
    style = image_to_tensor(resize_long_side(read_image(painting).rgb, args.size))
    contents = {p.stem: image_to_tensor(resize_long_side(read_image(p).rgb, args.size)) for p in photos}
    rows = []
    for name in args.models:
        exact = stylize.load_model(name, args.weights, args.device, "fp32")
        half = stylize.load_model(name, args.weights, args.device, args.precision)
        for stem, content in contents.items():
            reference = exact(content, style)
            start = time.perf_counter()
            out = half(content, style)
            seconds = time.perf_counter() - start
            diff, scale = (out - reference).abs(), reference.std()
            row = {
                "model": name,
                "content": stem,
                "size": list(content.shape[-2:]),
                "precision": half.precision,
                "relative_error_mean": float(diff.mean() / scale),
                "relative_error_max": float(diff.max() / scale),
                "psnr_8bit_db": psnr(
                    (out.clamp(0, 1) * 255 + 0.5).floor(), (reference.clamp(0, 1) * 255 + 0.5).floor()
                ),
                "seconds": seconds,
            }
            rows.append(row)
            print(
                f"{name:14s} {stem:10s} rel. error mean {row['relative_error_mean']:.1e} max "
                f"{row['relative_error_max']:.1e}; PSNR of the 8-bit image {row['psnr_8bit_db']:.1f} dB",
                flush=True,
            )
    report = {"device": args.device, "precision": args.precision, "torch": torch.__version__, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
