"""Where a model's dependence on the style is lost: at the attention, or in the decoder.

    python bench/collapse_probe.py [--size 256] [--out bench/results/collapse_probe.md]

For stylize's own adaattn-video and, for comparison, the relu3_1 layer of adaattn, on the held-out
photos x paintings (tests/data/heldout), the official computation on whole tensors
(`adaattn_layer`, the decoders): how much the attention output at relu3_1 changes between two
paintings (relative L2 over photo pairs of styles), how much the painting's own relu3_1 statistics
change (the same measure on the style's mean and std), how uniform the attention weights are
(entropy over the uniform's), and how much the decoded pictures change (mean |d| in [0, 1]).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "tests" / "data" / "heldout"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "collapse_probe.md")
    args = parser.parse_args()

    import torch

    import stylize
    from stylize.media.images import image_to_tensor, read_image, resize_long_side
    from stylize.models.adaattn import adaattn_layer
    from stylize.models.common import mean_std, shallow_key

    def load(path: Path) -> torch.Tensor:
        return image_to_tensor(resize_long_side(read_image(path).rgb, args.size))

    photos = [load(p) for p in sorted((HELDOUT / "photos").glob("*.jpg"))[: args.photos]]
    paintings = [load(p) for p in sorted((HELDOUT / "paintings").glob("*.jpg"))]
    rows = []
    for name in ("adaattn-video", "adaattn"):
        model = stylize.load_model(name, device="cpu")
        net = model.network.float().to(memory_format=torch.contiguous_format)
        module = net.transformer if name == "adaattn-video" else net.adaattn_3
        with torch.inference_mode():
            styles = [net.encoder.features(s, 3) for s in paintings]
            style_stats = [torch.cat(mean_std(f[2])).flatten() for f in styles]
            attn, pictures, entropy = [], [], []
            for photo in photos:
                content = net.encoder.features(photo, 3)
                outs, pics = [], []
                for style in styles:
                    out = adaattn_layer(module, content[2], style[2], shallow_key(content, 2), shallow_key(style, 2), 0)
                    outs.append(out)
                    if name == "adaattn-video":
                        pics.append(net.decoder(out).clamp(0, 1))
                    q = module.f(shallow_key(content, 2)).flatten(2).transpose(1, 2)
                    k = module.g(shallow_key(style, 2)).flatten(2)
                    if module.cosine:
                        s = (
                            torch.bmm(q, k)
                            / (q.norm(dim=-1, keepdim=True) + 1e-5)
                            / (k.norm(dim=1, keepdim=True) + 1e-5)
                        )
                        w = torch.relu(s + 1)
                        w = w / w.sum(-1, keepdim=True)
                    else:
                        w = torch.softmax(torch.bmm(q, k), dim=-1)
                    h = -(w * (w + 1e-12).log()).sum(-1).mean()
                    entropy.append(float(h / math.log(w.shape[-1])))
                for a, b in itertools.combinations(range(len(outs)), 2):
                    attn.append(float((outs[a] - outs[b]).norm() / outs[a].norm()))
                    if pics:
                        pictures.append(float((pics[a] - pics[b]).abs().mean()))
            stats = [
                float((style_stats[a] - style_stats[b]).norm() / style_stats[a].norm())
                for a, b in itertools.combinations(range(len(style_stats)), 2)
            ]
        rows.append((name, sum(stats) / len(stats), sum(attn) / len(attn), sum(entropy) / len(entropy),
                     sum(pictures) / len(pictures) if pictures else float("nan")))  # fmt: skip
    lines = [
        "# Where the style is lost: adaattn-video against adaattn's relu3_1 layer",
        "",
        f"`python bench/collapse_probe.py --size {args.size} --photos {args.photos}`: stylize's own weights, "
        f"{len(photos)} held-out photos x {len(paintings)} held-out paintings, CPU fp32, the official computation.",
        "",
        "| model (relu3_1 attention) | painting's relu3_1 mean/std change between paintings | attention output change "
        "between paintings | attention entropy / uniform | decoded picture change (mean abs, 0-1) |",
        "|---|---|---|---|---|",
        *(f"| {n} | {s:.3f} | {a:.3f} | {e:.3f} | {p:.4f} |" for n, s, a, e, p in rows),
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
