"""Stylizer: a loaded model on a device. Prepare a style once, stylise many contents with it.

Any content size: the content is padded (reflection) to the multiple the network needs and the
result cropped back, so the output has exactly the content's size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from stylize.device import autocast, is_out_of_memory, memory_at_failure, release_cached_memory, reset_peak_memory
from stylize.errors import OutOfMemory
from stylize.models.color import keep_colors
from stylize.models.config import Compute
from stylize.models.network import Outputs, StyleMemory, StyleNetwork
from stylize.models.sizing import Padding, padding_to_multiple
from stylize.weights.registry import ModelSpec

if TYPE_CHECKING:
    from PIL import Image

    from stylize.weights.checkpoint import Verification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedStyle:
    """A style encoded once: its attention memory for every layer, reused for every content.

    Attributes:
        memory: per attention layer, what the network keeps of the style.
        size: the style image's (height, width).
        model: the model it was prepared for.
    """

    memory: StyleMemory = field(repr=False)
    size: tuple[int, int]
    model: str


StyleLike = Tensor | PreparedStyle


def pad_reflect(image: Tensor, padding: Padding) -> Tensor:
    """Reflection padding, repeated when a pad is wider than the image (tiny inputs)."""
    while not padding.is_zero:
        h, w = image.shape[-2:]
        step = Padding(
            min(padding.top, h - 1), min(padding.bottom, h - 1), min(padding.left, w - 1), min(padding.right, w - 1)
        )
        if step.is_zero:  # a 1-pixel side cannot reflect
            return F.pad(image, (padding.left, padding.right, padding.top, padding.bottom), mode="replicate")
        image = F.pad(image, (step.left, step.right, step.top, step.bottom), mode="reflect")
        padding = Padding(
            padding.top - step.top, padding.bottom - step.bottom, padding.left - step.left, padding.right - step.right
        )
    return image


def crop(image: Tensor, padding: Padding, size: tuple[int, int]) -> Tensor:
    return image[..., padding.top : padding.top + size[0], padding.left : padding.left + size[1]]


class Stylizer:
    """A style-transfer model ready to run. Create it with `stylize.load_model`.

    Attributes:
        spec: the model's registry entry.
        network: the network (on `device`).
        device: where it runs.
        precision: "fp32" (exact), "bf16" or "fp16" (autocast).
        compute: attention policy and memory bounds.
        bundled: True when running stylize's own trained weights instead of a paper's release.
        verification: per weight file, how it compares with the released file.
        location: the folder or zip the weights came from.
    """

    def __init__(
        self,
        network: StyleNetwork,
        spec: ModelSpec,
        device: torch.device,
        precision: str = "fp32",
        compute: Compute | None = None,
        bundled: bool = False,
        verification: dict[str, Verification] | None = None,
        location: str = "",
    ) -> None:
        self.spec = spec
        self.location = location
        self.device = device
        self.precision = precision
        self.compute = compute or Compute()
        self.bundled = bundled
        self.verification = verification or {}
        # Channels-last convolutions are markedly faster on CPUs (oneDNN) and GPUs alike.
        self.network = network.to(device).to(memory_format=torch.channels_last).eval()  # type: ignore[call-overload]

    @property
    def name(self) -> str:
        return self.spec.name

    # --- styles ------------------------------------------------------------------------

    def prepare_style(self, style: StyleLike) -> PreparedStyle:
        """Encode a style (1, 3, H, W) in [0, 1] once, for any number of contents."""
        if isinstance(style, PreparedStyle):
            return style
        _check_image(style, "style")
        size = (int(style.shape[-2]), int(style.shape[-1]))
        image = self._to_device(style)
        image = pad_reflect(image, padding_to_multiple(*size, self.network.style_multiple))
        memory = self._with_memory_retry(lambda compute: self._remember(image, compute), size)
        return PreparedStyle(memory, size, self.name)

    def _remember(self, image: Tensor, compute: Compute) -> StyleMemory:
        with torch.inference_mode(), autocast(self.device, self.precision):
            return self.network.remember_style(self.network.encode(image, compute), compute)

    # --- stylising ---------------------------------------------------------------------

    def stylize(
        self,
        content: Tensor,
        styles: StyleLike | Sequence[StyleLike],
        *,
        weights: Sequence[float] | None = None,
        masks: Sequence[Tensor] | None = None,
        alpha: float = 1.0,
        preserve_color: bool = False,
    ) -> Tensor:
        """Stylise a content with one or several styles.

        Args:
            content: (N, 3, H, W) float in [0, 1], any size.
            styles: a style tensor (1, 3, h, w) in [0, 1], a `PreparedStyle`, or a sequence of them.
            weights: per style, its share when interpolating several styles (normalised to sum 1).
            masks: per style, an (H, W) map in [0, 1] of where it applies (spatial control).
                Where no mask is set, `weights` apply.
            alpha: 1 = full style, 0 = the content's own features (feature-level trade-off).
            preserve_color: keep the content's colours (luminance-only transfer).

        Returns:
            (N, 3, H, W) float32 raw decoder output: not clamped (clamp to [0, 1] to view).
        """
        _check_image(content, "content")
        style_list: list[StyleLike] = list(styles) if isinstance(styles, (list, tuple)) else [styles]  # type: ignore[list-item]
        prepared = [self.prepare_style(s) for s in style_list]
        mixing = _style_weights(len(prepared), weights)
        if masks is not None and len(masks) != len(prepared):
            raise ValueError(f"{len(masks)} masks for {len(prepared)} styles: give one mask per style")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be within 0..1, not {alpha}")
        size = (int(content.shape[-2]), int(content.shape[-1]))
        padding = padding_to_multiple(*size, self.network.multiple)
        image = pad_reflect(self._to_device(content), padding)
        mask_maps = [pad_reflect(self._to_device(m[None, None].float()), padding) for m in masks] if masks else None

        def run(compute: Compute) -> Tensor:
            with torch.inference_mode(), autocast(self.device, self.precision):
                return self._stylize_padded(image, prepared, mixing, mask_maps, alpha, compute)

        out = crop(self._with_memory_retry(run, size), padding, size).float()
        if preserve_color:
            out = keep_colors(out, content.to(out.device, torch.float32))
        return out.contiguous()

    def _stylize_padded(
        self,
        image: Tensor,
        prepared: list[PreparedStyle],
        mixing: list[float],
        masks: list[Tensor] | None,
        alpha: float,
        compute: Compute,
    ) -> Tensor:
        net = self.network
        encoded = net.encode(image, compute)
        combined: Outputs = {}
        for index, style in enumerate(prepared):
            outputs = net.attend(encoded, style.memory, compute)
            for layer, value in outputs.items():
                share = _share(index, mixing, masks, value.shape[-2:])
                combined[layer] = combined.get(layer, 0) + share * value if len(prepared) > 1 else value
            del outputs
        if alpha < 1.0:
            own = net.content_outputs(encoded)
            combined = {k: alpha * v + (1.0 - alpha) * own[k] for k, v in combined.items()}
            del own
        # Decoding needs only the attention outputs: the encoder's features (1.4 GB for a 4K AdaAttN
        # content) would otherwise stay through the decoder's peak.
        del encoded
        return net.decode(combined, compute)

    def forward(self, content: Tensor, style: StyleLike) -> Tensor:
        """Raw output (N, 3, H, W) for content (N, 3, H, W) and style (1, 3, h, w), both in [0, 1]."""
        return self.stylize(content, style)

    __call__ = forward

    def stylize_pil(
        self,
        content: Image.Image,
        style: Image.Image | Sequence[Image.Image],
        *,
        style_size: int | None = 512,
        max_size: int | None = None,
        **options: object,
    ) -> Image.Image:
        """The same on PIL images: returns an RGB (or RGBA, if the content has alpha) image.

        Args:
            style_size: the style's long side (512, as in the papers); None keeps its size.
            max_size: bound on the content's long side; None keeps its size.
            options: `weights`, `masks`, `alpha`, `preserve_color` as in `stylize`.
        """
        from stylize.media.images import image_to_tensor, resize_long_side, tensor_to_image

        styles: list[Image.Image] = list(style) if isinstance(style, (list, tuple)) else [style]  # type: ignore[list-item]
        style_tensors = [image_to_tensor(resize_long_side(s.convert("RGB"), style_size)) for s in styles]
        bounded = resize_long_side(content, max_size, only_down=True)
        out = self.stylize(image_to_tensor(bounded.convert("RGB")), style_tensors, **options)  # type: ignore[arg-type]
        result = tensor_to_image(out)
        if "A" in bounded.getbands():
            result.putalpha(bounded.getchannel("A"))
        return result

    # --- helpers -----------------------------------------------------------------------

    def _to_device(self, image: Tensor) -> Tensor:
        return image.to(self.device, torch.float32).contiguous(memory_format=torch.channels_last)

    def _with_memory_retry(self, step, size: tuple[int, int]):  # type: ignore[no-untyped-def]
        """Run `step(compute)`; on out-of-memory retry with half the working memory, down to the smallest."""
        compute = self.compute
        while True:
            reset_peak_memory(self.device)
            try:
                return step(compute)
            except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
                if not is_out_of_memory(exc):
                    raise
                if compute.is_smallest:
                    raise OutOfMemory(self._what_fits(size, exc)) from exc
                release_cached_memory(self.device, self.network.kernel_memory)
                compute = compute.halved(self.device.type)
                log.info("out of memory at %dx%d; retrying with smaller chunks", size[1], size[0])

    def _what_fits(self, size: tuple[int, int], exc: BaseException) -> str:
        h, w = size
        usage = memory_at_failure(self.device, exc)
        if usage is None:
            return f"{w}x{h} does not fit in memory on {self.device.type}; try a smaller --max-size"
        obtained, asked = usage
        # Memory grows about linearly with pixels: scale the side by the share that could be had.
        side = int(max(h, w) * math.sqrt(obtained / (obtained + asked)) * 0.9)
        return (
            f"{w}x{h} does not fit on {self.device.type} even in the smallest chunks (it needs more than "
            f"{(obtained + asked) / 2**30:.1f} GiB; {obtained / 2**30:.1f} GiB could be had): try --max-size {side} "
            "or less, --precision bf16, or --device cpu"
        )


def _check_image(image: Tensor, what: str) -> None:
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"{what} must be a float tensor (N, 3, H, W) in [0, 1], got {shape}")
    if not image.is_floating_point():
        raise ValueError(f"{what} must be a float tensor in [0, 1], got {image.dtype}")


def _style_weights(count: int, weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0 / count] * count
    if len(weights) != count:
        raise ValueError(f"{len(weights)} style weights for {count} styles")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("style weights must be non-negative and not all zero")
    total = float(sum(weights))
    return [w / total for w in weights]


def _share(index: int, mixing: list[float], masks: list[Tensor] | None, size: torch.Size) -> Tensor | float:
    """Style `index`'s share at each position of a layer of `size`: its mask, normalised across
    styles, where any mask is set; its mixing weight elsewhere."""
    if masks is None:
        return mixing[index]
    resized = [F.interpolate(m, size=(int(size[0]), int(size[1])), mode="nearest") for m in masks]
    total = torch.stack(resized).sum(dim=0)
    covered = total > 0
    return torch.where(covered, resized[index] / total.clamp_min(1e-8), torch.full_like(total, mixing[index]))
