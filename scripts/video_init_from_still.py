#!/usr/bin/env python3
"""Start weights for adaattn-video from a trained adaattn export (the video model's relu3_1 half).

    python scripts/video_init_from_still.py STILL OUT
    e.g. python scripts/video_init_from_still.py weights/stylize/adaattn /work/runs/video_init
         scripts/cpu_train.sh adaattn-video /work/runs/video 115 1e-4 --init-from /work/runs/video_init

STILL holds adaattn's official files; OUT/adaattn-video/ receives the video model's two files (fp16),
for `stylize train -m adaattn-video --init-from OUT`. Why: docs/training.md, "Why the video weights
collapsed".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from stylize.errors import StylizeError
    from stylize.training.export import video_from_still
    from stylize.weights.registry import get_spec

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("still", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    folder = args.out / get_spec("adaattn-video").folder
    try:
        written = video_from_still(args.still, folder)
    except StylizeError as exc:
        print(f"video_init_from_still: {exc}", file=sys.stderr)
        return 2
    for name, (digest, size) in written.items():
        print(f"{folder / name}  {size:,} B  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
