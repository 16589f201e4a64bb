"""The shape every style network shares: encode, remember a style, attend, decode."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from stylize.models.config import Compute
from stylize.models.kernels.scratch import KernelMemory
from stylize.models.vgg import Encoded, VGGEncoder

# Per attention layer (2 = relu3_1, 3 = relu4_1, 4 = relu5_1): what the network keeps of a style,
# and what attention produced for a content.
StyleMemory = dict[int, Any]
Outputs = dict[int, Tensor]


class StyleNetwork(nn.Module):
    """Encoder + attention + decoder. Tensors in, tensors out; no files, no printing.

    Subclasses set `multiple` (content sides must be multiples of it), `style_multiple` (the
    same for styles), `depth` (encoder layers used) and `attention_layers`, and implement the
    three steps below and `official_forward`. A content batch of N may share a style of batch 1.
    The model's entry in `stylize.weights.registry` names the subclass.

    Attributes:
        kernel_memory: the fast paths' scratch buffers and derived weights; they belong to this
            network and go with it (`release()` gives them back sooner).
    """

    multiple: int
    style_multiple = 1
    depth: int
    attention_layers: tuple[int, ...]

    def __init__(self) -> None:
        super().__init__()
        self.encoder = VGGEncoder()
        self.kernel_memory = KernelMemory()

    def encode(self, image: Tensor, compute: Compute) -> Encoded:
        """(N, 3, H, W) in [0, 1], sides multiples of `multiple` -> encoder features."""
        return self.encoder.encode(
            image, self.depth, self.attention_layers, compute.band_pixels, self.kernel_memory_for(compute)
        )

    def kernel_memory_for(self, compute: Compute) -> KernelMemory | None:
        """The fast paths' memory when `compute` asks for them, None for the plain layers."""
        return self.kernel_memory if compute.kernels == "fast" else None

    def remember_style(self, style: Encoded, compute: Compute) -> StyleMemory:
        raise NotImplementedError

    def attend(self, content: Encoded, memory: StyleMemory, compute: Compute) -> Outputs:
        raise NotImplementedError

    def decode(self, outputs: Outputs, compute: Compute) -> Tensor:
        raise NotImplementedError

    def official_forward(self, content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
        """The decoder output (N, 3, H, W), unclamped, computed as the released code does, on whole tensors.

        The yardstick of the banded path (`stylize.models.reference`) and, being differentiable, what
        training runs. Attention runs in float32 with autocast off (`float32_attention`); the merge
        conv and the decoder follow the caller's autocast.

        Args:
            content, style: encoder features [relu1_1, ...] (at least `depth` layers), (N, C, h, w)
                each; a style of batch N (one style per content).
            seed: seed of the official style-key sample (used where a layer has more positions than
                its module samples).
        """
        raise NotImplementedError

    def content_outputs(self, content: Encoded) -> Outputs:
        """What `attend` would give with no style at all: the content's own features.

        Blending attention outputs towards these is the feature-level content-style trade-off.
        """
        return {layer: content.deep[layer] for layer in self.attention_layers}

    def forward(self, content: Tensor, style: Tensor, compute: Compute | None = None) -> Tensor:
        """Raw decoder output (N, 3, H, W) for content and style (N, 3, *, *) of supported sizes."""
        compute = compute or Compute()
        memory = self.remember_style(self.encode(style, compute), compute)
        return self.decode(self.attend(self.encode(content, compute), memory, compute), compute)


def float32_attention(device: torch.device) -> torch.autocast:
    """A context that runs attention in float32 whatever autocast the caller set: its
    std = sqrt(E[v^2] - E[v]^2) cancels badly in bf16."""
    return torch.autocast(device_type=device.type, enabled=False)
