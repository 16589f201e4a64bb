"""Seconds and minor page faults per image of the optimised path, one style prepared once.

    python bench/page_faults.py                      # AdaAttN, 512², 4 contents after a warm-up
    python bench/page_faults.py --root ../old-checkout --model stya2k

`--root` runs another checkout's stylize (e.g. a `git worktree` of an earlier commit) in this
process, so two versions can be compared alternately on the same (noisy) machine. Weights are the
random-weight parity checkpoints (time does not depend on the values).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose stylize is measured")
    parser.add_argument("--model", default="adaattn")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(args.root.resolve()))
    import torch
    from speed_memory import parity_weights

    import stylize

    torch.set_grad_enabled(False)
    model = stylize.load_model(args.model, weights=parity_weights(), device="cpu")
    g = torch.Generator().manual_seed(0)
    contents = [torch.rand(1, 3, args.size, args.size, generator=g) for _ in range(args.count + 1)]
    prepared = model.prepare_style(torch.rand(1, 3, args.size, args.size, generator=g))
    model.stylize(contents[0], prepared)  # warm-up: kernel choice, caches, filter transforms
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for content in contents[1:]:
        model.stylize(content, prepared)
    seconds = (time.perf_counter() - start) / args.count
    after = resource.getrusage(resource.RUSAGE_SELF)
    faults = (after.ru_minflt - before.ru_minflt) // args.count
    system = (after.ru_stime - before.ru_stime) / args.count
    print(f"{args.root.resolve().name} {args.model} {args.size}²: {seconds:.2f} s per image, "
          f"{faults} minor page faults, {system:.2f} s system time")  # fmt: skip


if __name__ == "__main__":
    main()
