"""The parity cases' outputs of one checkout, saved to compare two versions bit for bit.

    python bench/parity_outputs.py --root /path/to/other/checkout --out before.npz
    python bench/parity_outputs.py --out after.npz
    python bench/parity_outputs.py --compare before.npz after.npz

Each case of tests/data/parity/golden runs through `stylize.load_model(...)` (the optimised path)
and `stylize.models.reference.reference_forward` (the official computation) on the random-weight
checkpoints of tests/data/parity/make_checkpoints.py, on the CPU in fp32, one thread. Only the
public API and the reference module are used, so any version of the package can be measured.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

MODELS = {"adaattn": "adaattn", "adaattn_video": "adaattn-video", "stya2k": "stya2k"}


def outputs(root: Path) -> dict[str, np.ndarray]:
    sys.path.insert(0, str(root))
    import torch

    import stylize
    from stylize.models.reference import reference_forward
    from tests.conftest import PARITY, parity_input

    torch.set_num_threads(1)
    weights = next((root / ".cache").glob("parity-weights-*"))
    found: dict[str, np.ndarray] = {}
    for golden in sorted((PARITY / "golden").glob("*.npz")):
        data = np.load(golden)
        family = next(key for key in sorted(MODELS, key=len, reverse=True) if golden.stem.startswith(key))
        model = stylize.load_model(MODELS[family], weights=weights, device="cpu")
        content, style = parity_input(str(data["content"])), parity_input(str(data["style"]))
        found[f"{golden.stem}/optimised"] = model(content, style).numpy()
        net = model.network.to(memory_format=torch.contiguous_format)
        with torch.inference_mode():
            found[f"{golden.stem}/reference"] = reference_forward(net, content, style).numpy()
    return found


def compare(before: Path, after: Path) -> int:
    a, b = np.load(before), np.load(after)
    differ = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"{key}: only in {'after' if key in b else 'before'}")
            differ += 1
            continue
        same = a[key].shape == b[key].shape and np.array_equal(a[key], b[key])
        diff = float(np.abs(a[key] - b[key]).max()) if a[key].shape == b[key].shape else float("nan")
        print(f"{key}: {'bit-identical' if same else f'differs (max |d| {diff:.3g})'}")
        differ += not same
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    np.savez(args.out, **outputs(args.root.resolve()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
