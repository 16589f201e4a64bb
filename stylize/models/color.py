"""Colour operations on image tensors (N, 3, H, W), RGB, any range."""

from __future__ import annotations

import torch
from torch import Tensor

# ITU-R BT.601 luma weights.
LUMA = (0.299, 0.587, 0.114)


def luminance(image: Tensor) -> Tensor:
    """(N, 3, H, W) -> (N, 1, H, W) luma."""
    weights = torch.tensor(LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def keep_colors(stylized: Tensor, content: Tensor) -> Tensor:
    """The stylised luminance with the content's colours (luminance-only transfer, Gatys et al. 2016).

    In YCbCr every RGB channel is Y plus a function of the chroma, so swapping in the stylised
    luma is adding the luma difference to each channel of the content.
    """
    return content + (luminance(stylized) - luminance(content))
