"""How much arithmetic each path does, and how fast this machine can do fp32 arithmetic at all.

    python bench/cpu_ceiling.py [--size 512] [--threads 0]

Counts the floating-point operations of the reference path (the official computation) and of
stylize's optimised path for one AdaAttN and one StyA2K pair at --size² (torch's FlopCounterMode:
convolutions and matrix products, which are nearly all of the work), and measures the machine's
fp32 ceiling: a large matrix product and the VGG encoder's own 3x3 convolutions. Reading the
speed benchmark's seconds against these counts says how close to the ceiling each path runs, so
the speed-up still available without changing the mathematics is known. It also times each VGG
layer shape both ways: oneDNN's direct convolution and stylize's Winograd F(4x4, 3x3) (reflection
pad, conv, ReLU, channels-last, as the models run them). Results: bench/results/cpu_ceiling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best_rate(work, flops: float, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    """GFLOP/s of the fastest of `repeats` calls of `work` (after one warm-up call)."""
    work()
    best = min(_timed(work) for _ in range(repeats))
    return flops / best / 1e9


def _timed(work) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def ceilings() -> dict:
    import torch
    import torch.nn.functional as F

    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    rates = {"matmul_4096": best_rate(lambda: a @ b, 2 * 4096**3)}
    for name, (channels, side) in {"conv3x3_256ch_128px": (256, 128), "conv3x3_512ch_64px": (512, 64)}.items():
        x = torch.randn(1, channels, side + 2, side + 2)
        w = torch.randn(channels, channels, 3, 3)
        rates[name] = best_rate(lambda x=x, w=w: F.conv2d(x, w), 2 * channels * channels * 9 * side * side)
    return rates


# (in, out) channels and side of the 3x3 convolutions of VGG-19 and the decoder at 512^2.
LAYER_SHAPES = [(64, 64, 512), (64, 128, 256), (128, 128, 256), (128, 256, 128), (256, 256, 128),
                (512, 256, 128), (256, 128, 128), (256, 512, 64), (512, 512, 64), (512, 512, 32)]  # fmt: skip


def winograd_layers() -> list[dict]:
    """Milliseconds per layer, direct against Winograd, fastest of 5 calls each."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from stylize.models.kernels.fused import winograd_conv

    rows = []
    for cin, cout, side in LAYER_SHAPES:
        conv = nn.Conv2d(cin, cout, kernel_size=3).to(memory_format=torch.channels_last)
        x = torch.randn(1, cin, side, side).relu().contiguous(memory_format=torch.channels_last)
        flops = 2 * cin * cout * 9 * side * side
        direct = flops / best_rate(lambda x=x, conv=conv: F.relu(conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))), flops)
        wino = flops / best_rate(lambda x=x, conv=conv: winograd_conv(x, conv, relu=True), flops)
        rows.append({"layer": f"{cin}->{cout} at {side}^2", "direct_ms": direct / 1e6, "winograd_ms": wino / 1e6})
    return rows


def path_flops(model_name: str, size: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import stylize
    from bench.speed_memory import parity_weights
    from stylize.models.reference import reference_forward

    model = stylize.load_model(model_name, weights=str(parity_weights()), device="cpu")
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)
    prepared = model.prepare_style(style)  # for the per-content share when one style serves many contents
    counts = {}
    for path, work in (
        ("reference", lambda: reference_forward(model.network, content, style, model.compute.seed)),
        ("optimised", lambda: model.stylize(content, style)),
        ("optimised_style_reused", lambda: model.stylize(content, prepared)),
    ):
        counter = FlopCounterMode(display=False)
        with counter:
            work()
        counts[path] = counter.get_total_flops() / 1e9
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = PyTorch's default)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cpu_ceiling.json")
    args = parser.parse_args()

    import torch

    torch.set_grad_enabled(False)
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {"threads": torch.get_num_threads(), "size": args.size, "fp32_gflops_per_s": ceilings(), "gflop": {}}
    for name, rate in report["fp32_gflops_per_s"].items():
        print(f"ceiling {name:24s} {rate:7.1f} GFLOP/s")
    report["winograd_layers"] = winograd_layers()
    for row in report["winograd_layers"]:
        direct, wino = row["direct_ms"], row["winograd_ms"]
        print(f"{row['layer']:20s} direct {direct:6.1f} ms, Winograd {wino:6.1f} ms ({direct / wino:.2f}x)")
    for model_name in ("adaattn", "stya2k"):
        report["gflop"][model_name] = counts = path_flops(model_name, args.size)
        print(f"{model_name:8s} {args.size}²: " + ", ".join(f"{k} {v:.0f} GFLOP" for k, v in counts.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
