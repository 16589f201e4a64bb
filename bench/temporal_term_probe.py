"""What the video model's inter-frame similarity loss rewards: measured on outputs, not trained.

    python bench/temporal_term_probe.py [--size 256] [--photos 4]

For held-out photos x paintings (tests/data/heldout), two "frames" are two views of the photo, the
second moved by 4 % of the side (the training's largest camera shift). Each of stylize's own
models stylises both with the painting, and the unweighted terms of the training objective are
measured on the pair as training measures them (`stylize.training.losses`): the inter-frame
similarity term (relu2_1..relu4_1, as the video model was trained with it, weight 10), and the
global style term (relu2_1..relu5_1, weight 10). The photo itself, passed through unstylised, is
the reference: its similarity term is 0 by construction. Results: bench/results/temporal_term_probe.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "tests" / "data" / "heldout"
MODELS = ("adaattn", "adaattn-video", "stya2k")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "temporal_term_probe.md")
    args = parser.parse_args()

    import torch

    import stylize
    from stylize.media.images import image_to_tensor, read_image
    from stylize.training import losses
    from stylize.training.config import TrainConfig

    torch.manual_seed(0)
    size, shift = args.size, max(1, round(0.04 * args.size))

    def load(path: Path, side: int) -> torch.Tensor:
        """A centre square of `side` px."""
        from PIL import ImageOps

        return image_to_tensor(ImageOps.fit(read_image(path).rgb, (side, side)))

    photos = [load(p, size + shift) for p in sorted((HELDOUT / "photos").glob("*.jpg"))[: args.photos]]
    views = [(p[..., :size, :size], p[..., shift : shift + size, shift : shift + size]) for p in photos]
    paintings = [load(p, size) for p in sorted((HELDOUT / "paintings").glob("*.jpg"))]
    positions = TrainConfig.temporal_positions
    rows: dict[str, dict[str, float]] = {}
    for name in ("photo (unstylised)", *MODELS):
        model = stylize.load_model(name if name in MODELS else "adaattn", device="cpu", precision="fp32")
        encoder = model.network.encoder
        similarity, style_term, count = 0.0, 0.0, 0
        with torch.inference_mode():
            for painting in paintings:
                sf = encoder.features(painting)
                prepared = model.prepare_style(painting)
                for a, b in views:
                    if name in MODELS:
                        a_out, b_out = (model.stylize(v, [prepared]).clamp(0, 1) for v in (a, b))
                    else:
                        a_out, b_out = a, b
                    of = (encoder.features(a_out), encoder.features(b_out))
                    cf = (encoder.features(a), encoder.features(b))
                    generator = torch.Generator().manual_seed(count)
                    similarity += float(losses.similarity_loss(of, cf, range(1, 4), positions, generator))
                    style_term += float(losses.global_loss(of[0], sf, range(1, 5)))
                    count += 1
        rows[name] = {"similarity": similarity / count, "global": style_term / count}
        print(name, rows[name], flush=True)

    lines = [
        "# What the inter-frame similarity loss rewards",
        "",
        f"Written by `python bench/temporal_term_probe.py --size {size} --photos {args.photos}`: {args.photos} "
        f"held-out photos x {len(paintings)} held-out paintings, two views {shift} px apart, stylize's own weights, "
        "CPU fp32. Unweighted terms of the training objective, as `stylize train` computes them (the video model "
        "weighs both by 10).",
        "",
        "| output | inter-frame similarity term (relu2_1..relu4_1) | global style term (relu2_1..relu5_1) |",
        "|---|---|---|",
        *(f"| {name} | {row['similarity']:.3f} | {row['global']:.2f} |" for name, row in rows.items()),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
