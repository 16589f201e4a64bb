"""Images: PIL <-> tensor conversion and resizing."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from stylize.sizing import fit_long_side, scale_long_side


def image_to_tensor(image: Image.Image) -> Tensor:
    """An RGB PIL image -> (1, 3, H, W) float32 in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def tensor_to_image(tensor: Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) float -> RGB PIL image: clamped to [0, 1], x255, rounded."""
    if tensor.ndim == 4:
        tensor = tensor[0]
    array = (tensor.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, mode="RGB")


def resize_long_side(image: Image.Image, side: int | None, only_down: bool = False) -> Image.Image:
    """Resize (bicubic, antialiased) so the long side is `side`; None keeps the image.

    With `only_down`, `side` is a bound: smaller images are kept as they are.
    """
    w, h = image.size
    new_h, new_w = fit_long_side(h, w, side) if only_down else scale_long_side(h, w, side)
    if (new_h, new_w) == (h, w):
        return image
    return image.resize((new_w, new_h), Image.BICUBIC)
