"""Training images: loaded once, sampled as augmented square crops with one seeded generator.

Every random choice (image, scale, position, flip, colour jitter, the video model's camera move)
is drawn from a CPU `torch.Generator`, so a checkpoint that stores its state resumes the exact
same sequence of batches. The pixel work (torchvision's functional transforms, which draw nothing
themselves) runs on the training device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor
from torchvision.transforms.v2 import InterpolationMode

from stylize.errors import SetupError
from stylize.media.formats import IMAGE_EXTENSIONS
from stylize.media.images import read_image, resize_long_side


def list_images(folders: list[Path] | tuple[Path, ...]) -> list[Path]:
    """Image files under the folders (recursively), sorted, so the order is the same everywhere."""
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise SetupError(f"{folder}: not a folder of images")
        found += [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(found)


def load_image(path: Path, long_side: int) -> Tensor:
    """An image read as every user picture is (upright, pixel limit; `read_image`), as (3, H, W)
    uint8 RGB, reduced (bicubic) so its long side is at most `long_side`.

    Raises:
        InputError: naming the file.
    """
    import numpy as np

    image = resize_long_side(read_image(path).rgb, long_side, only_down=True)
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


@dataclass(frozen=True)
class Augment:
    """Augmentation ranges.

    Attributes:
        min_scale, max_scale: the crop is taken as if the image were resized to a short side of
            crop x s, s uniform in [min_scale, max_scale] (s = 1: the whole short side; 2: half of it).
        flip: horizontal flips with probability 1/2.
        brightness, contrast, saturation: jitter factors 1 +- value (torchvision's `adjust_*`).
        hue: a shift of the HSV hue by +- value of a full turn (torchvision's `adjust_hue`).
        shift: the video model's second frame: camera translation, at most this fraction of the crop.
        zoom: the second frame's zoom, 1 +- value.
    """

    min_scale: float = 1.0
    max_scale: float = 2.0
    flip: bool = True
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.03
    shift: float = 0.04
    zoom: float = 0.03


CONTENT_AUGMENT = Augment()
# Style colours are part of the style: jitter them a little more, to see more palettes.
STYLE_AUGMENT = Augment(brightness=0.15, contrast=0.15, saturation=0.25, hue=0.06)


class ImagePool:
    """Images held in memory as uint8 on the device, sampled as augmented crops.

    Args:
        paths: the image files.
        long_side: images are reduced to this long side when loaded.
        device: where the images live and crops are made.
    """

    def __init__(self, paths: list[Path], long_side: int, device: torch.device) -> None:
        if not paths:
            raise SetupError("no training images found")
        self.paths = paths
        self.images = [load_image(p, long_side).to(device) for p in paths]
        self.device = device

    def __len__(self) -> int:
        return len(self.images)

    def crop(self, index: int, top: float, left: float, side: float, size: int) -> Tensor:
        """The square region (top, left, side) of image `index` in source pixels, resized to
        (3, size, size) float32 in [0, 1] (bilinear, antialiased when reducing)."""
        image = self.images[index]
        _, h, w = image.shape
        side = min(side, h, w)
        top = min(max(0.0, top), h - side)
        left = min(max(0.0, left), w - side)
        # Rounded outward to whole source pixels: the region may show up to a pixel more than the square.
        y0, x0 = int(math.floor(top)), int(math.floor(left))
        y1, x1 = min(h, int(math.ceil(top + side))), min(w, int(math.ceil(left + side)))
        region = TF.crop(image, y0, x0, y1 - y0, x1 - x0).float().div_(255.0)
        out = TF.resize(region, [size, size], InterpolationMode.BILINEAR, antialias=side > size)
        return out.clamp_(0.0, 1.0)

    def sample(
        self, count: int, size: int, augment: Augment, generator: torch.Generator, pairs: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """`count` augmented crops (count, 3, size, size) float32 in [0, 1].

        With `pairs`, also a second view of each crop, moved by a small random camera shift and
        zoom (same flip and colours): two "consecutive frames" for the video model's loss.
        """
        firsts, seconds = [], []
        for _ in range(count):
            index = int(torch.randint(len(self.images), (1,), generator=generator))
            _, h, w = self.images[index].shape
            short = min(h, w)
            scale = augment.min_scale + (augment.max_scale - augment.min_scale) * _uniform(generator)
            # As if the image were resized to a short side of size * scale, then cropped to size.
            side = short / scale
            top = (h - side) * _uniform(generator)
            left = (w - side) * _uniform(generator)
            flip = augment.flip and _uniform(generator) < 0.5
            jitter = _draw_jitter(augment, generator)
            views = [(top, left, side)]
            if pairs:
                dy, dx = (2 * _uniform(generator) - 1, 2 * _uniform(generator) - 1)
                zoom = 1 + augment.zoom * (2 * _uniform(generator) - 1)
                side2 = min(short, side * zoom)
                centre_y = top + side / 2 + dy * augment.shift * side
                centre_x = left + side / 2 + dx * augment.shift * side
                views.append((centre_y - side2 / 2, centre_x - side2 / 2, side2))
            crops = []
            for view_top, view_left, view_side in views:
                crop = self.crop(index, view_top, view_left, view_side, size)
                if flip:
                    crop = TF.horizontal_flip(crop)
                crops.append(_apply_jitter(crop, jitter))
            firsts.append(crops[0])
            if pairs:
                seconds.append(crops[1])
        batch = torch.stack(firsts)
        return (batch, torch.stack(seconds)) if pairs else batch

    def centre_crop(self, index: int, size: int) -> Tensor:
        """A fixed view for validation: the centre square of the short side, (3, size, size)."""
        _, h, w = self.images[index].shape
        short = min(h, w)
        return self.crop(index, (h - short) / 2, (w - short) / 2, short, size)


def _uniform(generator: torch.Generator) -> float:
    return float(torch.rand((), generator=generator))


def _draw_jitter(augment: Augment, generator: torch.Generator) -> tuple[float, float, float, float]:
    def around_one(amount: float) -> float:
        return 1.0 + amount * (2 * _uniform(generator) - 1)

    hue = augment.hue * (2 * _uniform(generator) - 1)
    return around_one(augment.brightness), around_one(augment.contrast), around_one(augment.saturation), hue


def _apply_jitter(image: Tensor, jitter: tuple[float, float, float, float]) -> Tensor:
    """Brightness, contrast, saturation and hue (in this order) on (3, H, W) in [0, 1], each clamped."""
    brightness, contrast, saturation, hue = jitter
    x = TF.adjust_brightness(image, brightness)
    x = TF.adjust_contrast(x, contrast)
    x = TF.adjust_saturation(x, saturation)
    return TF.adjust_hue(x, hue) if hue else x
