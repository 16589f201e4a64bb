"""Style loss and content loss of a stylisation, measured with a VGG encoder: pure tensor functions.

Notation: F^l(x) is the encoder's relu{l}_1 feature map of image x, (C_l, H_l, W_l), l = 1..5;
mu_c and sigma_c are the per-channel mean and standard deviation over space, computed as the
networks compute them (`stylize.models.common.mean_std`: unbiased variance, sigma = sqrt(var + 1e-5));
mvn(F) = (F - mu) / sigma per channel.

Style loss of an output o against its style s (the AdaIN / AdaAttN global style loss, without weight):

    L_style(o, s) = sum over l = 1..5 of  mean_c (mu_c(F^l(o)) - mu_c(F^l(s)))^2
                                        + mean_c (sigma_c(F^l(o)) - sigma_c(F^l(s)))^2

Content loss of o against its content c (the normalised content loss of SANet / StyTr², without weight):

    L_content(o, c) = sum over l = 4, 5 of  mean over (C_l, H_l, W_l) of (mvn(F^l(o)) - mvn(F^l(c)))^2

Over a set of content-style pairs, each figure is the arithmetic mean of its per-pair values.
Both are 0 when the output is the style (style loss) or the content (content loss) itself.
Output and content must have the same size (the content loss compares positions); the style may
have any size. Figures are only comparable when measured with the same encoder weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from stylize.models.common import mean_std, mvn
from stylize.models.vgg import LAYER_NAMES, VGGEncoder

STYLE_LAYERS: tuple[int, ...] = (0, 1, 2, 3, 4)  # relu1_1 ... relu5_1
CONTENT_LAYERS: tuple[int, ...] = (3, 4)  # relu4_1, relu5_1
STYLE_LAYER_NAMES = tuple(LAYER_NAMES[i] for i in STYLE_LAYERS)
CONTENT_LAYER_NAMES = tuple(LAYER_NAMES[i] for i in CONTENT_LAYERS)

# Per style layer, (mean, std), each (N, C, 1, 1) float32.
StyleStats = list[tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class Quality:
    """The figures of N outputs.

    Attributes:
        style_layers: (N, 5) float32, the style loss term of each layer relu1_1 ... relu5_1.
        content_layers: (N, 2) float32, the content loss term of relu4_1 and relu5_1.
    """

    style_layers: Tensor
    content_layers: Tensor

    @property
    def style(self) -> Tensor:
        """(N,) style loss: the sum of the layer terms."""
        return self.style_layers.sum(dim=1)

    @property
    def content(self) -> Tensor:
        """(N,) content loss: the sum of the layer terms."""
        return self.content_layers.sum(dim=1)

    def __len__(self) -> int:
        return int(self.style_layers.shape[0])

    @staticmethod
    def cat(items: Sequence[Quality]) -> Quality:
        """The figures of several batches as one."""
        if not items:
            raise ValueError("no figures to join")
        return Quality(torch.cat([q.style_layers for q in items]), torch.cat([q.content_layers for q in items]))


def features(encoder: VGGEncoder, image: Tensor) -> list[Tensor]:
    """relu1_1 ... relu5_1 of `image` (N, 3, H, W) in [0, 1], float32, without autograd."""
    _check_image(image, "image")
    parameter = next(encoder.parameters())
    with torch.inference_mode():
        return encoder.features(image.to(parameter.device, torch.float32), upto=5)


def statistics(feats: Sequence[Tensor]) -> StyleStats:
    """Per style layer, the per-channel (mean, std) of `feats` (as from `features`), float32."""
    return [mean_std(feats[i].float()) for i in STYLE_LAYERS]


def style_statistics(encoder: VGGEncoder, style: Tensor) -> StyleStats:
    """The style's statistics, to compute once and compare many outputs with.

    Args:
        style: (N, 3, h, w) or (1, 3, h, w) float in [0, 1], any size.
    """
    return statistics(features(encoder, style))


def style_loss_layers(output: StyleStats, style: StyleStats) -> Tensor:
    """Per layer, mean_c (mu_o - mu_s)^2 + mean_c (sigma_o - sigma_s)^2.

    Args:
        output, style: statistics (see `statistics`); a style batch of 1 applies to every output.

    Returns:
        (N, 5) float32.
    """
    if len(output) != len(style):
        raise ValueError(f"{len(output)} output layers but {len(style)} style layers")
    terms = []
    for (mean_o, std_o), (mean_s, std_s) in zip(output, style, strict=True):
        _check_batch(mean_o.shape[0], mean_s.shape[0], "style")
        mean_term = (mean_o - mean_s.to(mean_o.device)).pow(2).flatten(1).mean(dim=1)
        std_term = (std_o - std_s.to(std_o.device)).pow(2).flatten(1).mean(dim=1)
        terms.append(mean_term + std_term)
    return torch.stack(terms, dim=1)


def content_loss_layers(output: Sequence[Tensor], content: Sequence[Tensor]) -> Tensor:
    """Per content layer, the mean squared difference of the mean-variance-normalised features.

    Args:
        output, content: features relu1_1 ... relu5_1 (as from `features`) of images of one size.

    Returns:
        (N, 2) float32.
    """
    terms = []
    for i in CONTENT_LAYERS:
        out, ref = output[i].float(), content[i].float()
        if out.shape[1:] != ref.shape[1:]:
            raise ValueError(
                f"{LAYER_NAMES[i]} of the output is {tuple(out.shape[1:])} but the content's is "
                f"{tuple(ref.shape[1:])}: output and content must have the same size"
            )
        _check_batch(out.shape[0], ref.shape[0], "content")
        terms.append((mvn(out) - mvn(ref.to(out.device))).pow(2).flatten(1).mean(dim=1))
    return torch.stack(terms, dim=1)


def measure(encoder: VGGEncoder, output: Tensor, content: Tensor, style: Tensor | StyleStats) -> Quality:
    """The style and content loss of outputs.

    Args:
        encoder: the VGG encoder that defines the figures.
        output: (N, 3, H, W) float in [0, 1] (clamp a raw network output first: measure what is seen).
        content: (N, 3, H, W) or (1, 3, H, W), the same size as `output`.
        style: (N or 1, 3, h, w) in [0, 1], any size, or its `style_statistics`.

    Returns:
        The figures of each output (`Quality.style`, `Quality.content`: (N,) float32).
    """
    _check_image(output, "output")
    _check_image(content, "content")
    if output.shape[-2:] != content.shape[-2:]:
        raise ValueError(
            f"output is {tuple(output.shape[-2:])} but content is {tuple(content.shape[-2:])}: "
            "resize the output to the content's size first"
        )
    out_feats = features(encoder, output)
    content_feats = features(encoder, content)
    style_stats = style if isinstance(style, list) else style_statistics(encoder, style)
    return Quality(
        style_loss_layers(statistics(out_feats), style_stats).cpu(),
        content_loss_layers(out_feats, content_feats).cpu(),
    )


def fingerprint(encoder: VGGEncoder) -> str:
    """ "sha256:<first 16 hex>" of the encoder's float32 weights in state-dict order: which encoder
    measured a figure, whatever file it came from (figures of different encoders do not compare)."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in encoder.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def _check_image(image: Tensor, what: str) -> None:
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[1] != 3 or not image.is_floating_point():
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"{what} must be a float tensor (N, 3, H, W) in [0, 1], got {shape}")


def _check_batch(n_out: int, n_ref: int, what: str) -> None:
    if n_ref not in (1, n_out):
        raise ValueError(f"{n_out} outputs but {n_ref} {what} images: give one, or one per output")
