"""Where the outputs' texture misses the painting's: the texture signature, feature by feature.

    python bench/texture_bias.py [--model stya2k] [--weights DIR] [--size 256] [--out FILE]

For each held-out painting (tests/data/heldout), the 12 features of
`stylize.metrics.fidelity.texture_signature` (log mean and spread of the Sobel magnitude and of the
absolute Laplacian of the luminance, at 1, 2 and 4 px) of the painting and the mean over the
held-out photos' outputs, and the output-minus-painting difference averaged over paintings. A
difference with the same sign for every painting is a bias of the model, not of one style: it moves
every output's signature the same way, towards whichever paintings lie in that direction, which is
what texture retrieval then picks. Outputs are measured as `bench/quality.py` measures them: rounded
to 8 bits. Results: bench/results/texture_bias.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "tests" / "data" / "heldout"
FEATURES = [f"{kind} {stat} @{scale}" for scale in (1, 2, 4) for kind in ("sobel", "lapl.") for stat in ("mean", "std")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="stya2k")
    parser.add_argument("--weights", help="a weights folder (default: what stylize finds)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "texture_bias.md")
    args = parser.parse_args()

    import torch

    import stylize
    from stylize.media.atomic import atomic_path
    from stylize.media.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
    from stylize.metrics.fidelity import texture_signature

    torch.set_grad_enabled(False)
    photos = [
        image_to_tensor(resize_long_side(read_image(p).rgb, args.size)) for p in sorted(HELDOUT.glob("photos/*.jpg"))
    ]
    paintings = sorted(HELDOUT.glob("paintings/*.jpg"))
    model = stylize.load_model(args.model, args.weights, device="cpu")
    rows, differences = [], []
    for path in paintings:
        style = image_to_tensor(resize_long_side(read_image(path).rgb, args.size))
        prepared = model.prepare_style(style)
        own = texture_signature(style[0])
        outputs = [image_to_tensor(tensor_to_image(model.stylize(p, prepared)))[0] for p in photos]
        mean_output = torch.stack([texture_signature(o) for o in outputs]).mean(0)
        differences.append(mean_output - own)
        rows.append(f"| {path.stem} | " + " | ".join(f"{d:+.2f}" for d in differences[-1]) + " |")
    stacked = torch.stack(differences)
    mean = stacked.mean(0)
    same_sign = (stacked.sign() == mean.sign()).all(0)
    lines = [
        "# Texture bias: outputs' signature minus the painting's",
        "",
        f"`python bench/texture_bias.py --model {args.model}`"
        + (f" `--weights {args.weights}`" if args.weights else "")
        + f"; {len(photos)} held-out photos x {len(paintings)} held-out paintings at {args.size} px;"
        f" weights {model.location}. Log units: +0.1 is about 10 % more.",
        "",
        "| painting | " + " | ".join(FEATURES) + " |",
        "|---|" + "---:|" * len(FEATURES),
        *rows,
        "| **mean** | " + " | ".join(f"**{d:+.2f}**" for d in mean) + " |",
        "| same sign for every painting | " + " | ".join("yes" if s else "no" for s in same_sign) + " |",
        "",
    ]
    with atomic_path(args.out) as temp:
        temp.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
