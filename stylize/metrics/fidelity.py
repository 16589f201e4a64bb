"""Style fidelity figures that do not use the VGG encoder the models were trained with.

A model trained against a VGG loss can lower that loss without carrying a style a person would
recognise; these figures look at the pixels instead. Images are (3, H, W) float32 in [0, 1], sRGB.

* Colour distance: the sliced 2-Wasserstein distance between the CIELAB (D65) pixel distributions
  of two images. The pixels are projected on `PROJECTIONS` fixed unit directions of Lab space
  (drawn from a `torch.Generator` seeded with `SEED`, so figures reproduce), each projection is
  summarised by `QUANTILES` quantiles at the levels (k + 1/2) / QUANTILES, and the distance is the
  root mean square difference of the quantiles over directions and levels, in Lab units
  (a uniform shift of every pixel by dL = 10 gives about 10 / sqrt(3)).
* Texture signature: the luminance L*/100 at three scales (full, and averaged over 2x2 and 4x4
  blocks); at each, the mean and the standard deviation of the Sobel gradient magnitude (kernel / 8)
  and of the absolute 3x3 Laplacian, over valid positions: 12 numbers. Their magnitudes differ by
  orders between scales and kinds, so signatures are compared as the root mean square difference
  of log(feature + 1e-4): a relative difference, equal weight for every feature, no dependence on
  the set being compared. Compare images of similar size (the scales are in pixels).
* SSIM (Wang et al. 2004) of grey images (Rec. 601 luma), 11x11 Gaussian window with sigma 1.5,
  C1 = (0.01)^2, C2 = (0.03)^2 for a data range of 1, averaged over the positions where the window
  fits (no padding).

Over a grid of outputs (each photo with each evaluation style, `fidelity`):

* colour top-1: the fraction of outputs whose own style is the nearest of the evaluation styles
  by colour distance (chance: 1 / number of styles); texture top-1 the same by signature distance;
* colour ratio: the mean over outputs of distance(output, own style) / distance(photo, own style):
  1 means no closer to the style than the photo was, 0 the style's own colours;
* style dependence: the mean absolute pixel difference between the outputs of one photo under two
  different styles, over every pair of styles and every photo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

PROJECTIONS = 64
QUANTILES = 128
SEED = 0
TEXTURE_EPS = 1e-4
SCALES = (1, 2, 4)

# sRGB (D65) -> XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


def rgb_to_lab(image: Tensor) -> Tensor:
    """CIELAB of an sRGB image.

    Args:
        image: (3, H, W) float in [0, 1].

    Returns:
        (3, H, W) float32: L* in [0, 100], a* and b* roughly in [-128, 128].
    """
    _check(image, "image")
    rgb = image.float().clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,jhw->ihw", _RGB_TO_XYZ, linear) / _WHITE[:, None, None]
    delta = 6 / 29
    f = torch.where(xyz > delta**3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * delta**2) + 4 / 29)
    return torch.stack((116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])))


def _directions() -> Tensor:
    generator = torch.Generator().manual_seed(SEED)
    directions = torch.randn(PROJECTIONS, 3, generator=generator)
    return directions / directions.norm(dim=1, keepdim=True)


def colour_quantiles(image: Tensor) -> Tensor:
    """The summary of an image's Lab distribution that colour distances compare.

    Args:
        image: (3, H, W) float in [0, 1].

    Returns:
        (PROJECTIONS, QUANTILES) float32: per fixed direction, the quantiles of the projected pixels.
    """
    pixels = rgb_to_lab(image).reshape(3, -1)
    projected, _ = torch.sort(_directions() @ pixels, dim=1)
    count = projected.shape[1]
    levels = ((torch.arange(QUANTILES, dtype=torch.float64) + 0.5) / QUANTILES * count).long().clamp_max(count - 1)
    return projected[:, levels]


def quantile_distance(a: Tensor, b: Tensor) -> Tensor:
    """Sliced Wasserstein distance between summaries of `colour_quantiles`; broadcasts over leading dims."""
    return ((a - b) ** 2).mean(dim=(-2, -1)).sqrt()


def colour_distance(a: Tensor, b: Tensor) -> float:
    """Sliced 2-Wasserstein distance between the Lab pixel distributions of two images (any sizes)."""
    return float(quantile_distance(colour_quantiles(a), colour_quantiles(b)))


def _luminance(image: Tensor) -> Tensor:
    return rgb_to_lab(image)[0] / 100


def texture_signature(image: Tensor) -> Tensor:
    """Mean and spread of Sobel and Laplacian responses of the luminance at three scales.

    Args:
        image: (3, H, W) float in [0, 1], at least 4 * 3 pixels on each side.

    Returns:
        (12,) float32: for each scale (1, 2, 4), mean and std of the Sobel gradient magnitude, then
        mean and std of the absolute Laplacian; log(feature + TEXTURE_EPS).
    """
    _check(image, "image", min_side=3 * max(SCALES))
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
    kernels = torch.stack((sobel_x, sobel_x.T, torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])))
    luminance = _luminance(image)[None, None]
    features = []
    for scale in SCALES:
        level = F.avg_pool2d(luminance, scale) if scale > 1 else luminance
        gx, gy, laplacian = F.conv2d(level, kernels[:, None])[0]
        magnitude = (gx**2 + gy**2).sqrt()
        laplacian = laplacian.abs()
        features += [magnitude.mean(), magnitude.std(), laplacian.mean(), laplacian.std()]
    return torch.log(torch.stack(features) + TEXTURE_EPS)


def signature_distance(a: Tensor, b: Tensor) -> Tensor:
    """Root mean square difference of texture signatures (..., 12); broadcasts over leading dims."""
    return ((a - b) ** 2).mean(dim=-1).sqrt()


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: Tensor, b: Tensor) -> float:
    """Mean structural similarity of two images of the same size, as grey (Rec. 601 luma).

    Args:
        a, b: (3, H, W) float in [0, 1], H and W at least 11.

    Returns:
        SSIM in [-1, 1]; 1 for identical images.
    """
    _check(a, "a", min_side=11)
    _check(b, "b", min_side=11)
    if a.shape != b.shape:
        raise ValueError(f"SSIM compares images of one size, not {tuple(a.shape)} and {tuple(b.shape)}")
    luma = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
    x = (a.float().clamp(0, 1) * luma).sum(0)[None, None]
    y = (b.float().clamp(0, 1) * luma).sum(0)[None, None]
    window = _gaussian_window()
    mu_x, mu_y = F.conv2d(x, window), F.conv2d(y, window)
    var_x = F.conv2d(x * x, window) - mu_x**2
    var_y = F.conv2d(y * y, window) - mu_y**2
    cov = F.conv2d(x * y, window) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(value.mean())


def top1(distances: Tensor) -> float:
    """Retrieval accuracy: the fraction of rows whose smallest entry is on the diagonal of the last two dims.

    Args:
        distances: (..., S, S): entry [..., s, t] is the distance of the output made with style s to style t.
    """
    own = torch.arange(distances.shape[-1])
    return float((distances.argmin(dim=-1) == own).float().mean())


@dataclass(frozen=True)
class Fidelity:
    """The figures of a grid of outputs: P photos, each stylised with each of S styles.

    Attributes:
        colour: (P, S, S) float32, colour distance of output (p, s) to style t.
        photo_colour: (P, S) float32, colour distance of photo p to style s.
        texture: (P, S, S) float32, signature distance of output (p, s) to style t.
        ssim: (P, S) float32, SSIM of output (p, s) to photo p.
        dependence: (P,) float32, per photo the mean absolute pixel difference between its outputs
            under two different styles, over every pair of styles.
    """

    colour: Tensor
    photo_colour: Tensor
    texture: Tensor
    ssim: Tensor
    dependence: Tensor

    @property
    def chance(self) -> float:
        """The top-1 a style-blind output reaches on average: 1 / number of styles."""
        return 1.0 / self.colour.shape[-1]

    @property
    def colour_top1(self) -> float:
        return top1(self.colour)

    @property
    def texture_top1(self) -> float:
        return top1(self.texture)

    @property
    def own_colour(self) -> Tensor:
        """(P, S): colour distance of each output to its own style."""
        return torch.diagonal(self.colour, dim1=-2, dim2=-1)

    @property
    def colour_ratio(self) -> float:
        return float((self.own_colour / self.photo_colour.clamp_min(1e-6)).mean())

    @property
    def mean_ssim(self) -> float:
        return float(self.ssim.mean())

    @property
    def style_dependence(self) -> float:
        return float(self.dependence.mean())

    def summary(self) -> dict[str, float]:
        """The headline figures, by the names the gates use."""
        return {
            "colour_top1": self.colour_top1,
            "colour_ratio": self.colour_ratio,
            "texture_top1": self.texture_top1,
            "ssim": self.mean_ssim,
            "style_dependence": self.style_dependence,
            "chance": self.chance,
        }


def fidelity(photos: Sequence[Tensor], styles: Sequence[Tensor], outputs: Sequence[Sequence[Tensor]]) -> Fidelity:
    """Measure a grid of stylisations.

    Args:
        photos: P images (3, H_p, W_p) float in [0, 1].
        styles: S >= 2 images (3, h, w) float in [0, 1], of a size similar to the photos'.
        outputs: P rows of S images; outputs[p][s] is photo p with style s, at photo p's size.

    Returns:
        The per-pair tables (`Fidelity`); its properties give the headline figures.
    """
    if len(styles) < 2:
        raise ValueError(f"retrieval needs at least 2 styles, got {len(styles)}")
    if len(outputs) != len(photos) or any(len(row) != len(styles) for row in outputs):
        raise ValueError(f"outputs must be {len(photos)} rows of {len(styles)} images")
    style_colour = torch.stack([colour_quantiles(s) for s in styles])  # (S, PROJ, Q)
    style_texture = torch.stack([texture_signature(s) for s in styles])  # (S, 12)
    colour, photo_colour, texture, similarity, dependence = [], [], [], [], []
    for photo, row in zip(photos, outputs, strict=True):
        for output in row:
            if output.shape != photo.shape:
                raise ValueError(f"output {tuple(output.shape)} is not its photo's size {tuple(photo.shape)}")
        colour.append(torch.stack([quantile_distance(colour_quantiles(o)[None], style_colour) for o in row]))
        photo_colour.append(quantile_distance(colour_quantiles(photo)[None], style_colour))
        texture.append(torch.stack([signature_distance(texture_signature(o)[None], style_texture) for o in row]))
        similarity.append(torch.tensor([ssim(o, photo) for o in row]))
        pairs = itertools.combinations(range(len(row)), 2)
        dependence.append(torch.stack([(row[i].float() - row[j].float()).abs().mean() for i, j in pairs]).mean())
    return Fidelity(
        colour=torch.stack(colour),
        photo_colour=torch.stack(photo_colour),
        texture=torch.stack(texture),
        ssim=torch.stack(similarity),
        dependence=torch.stack(dependence),
    )


def _check(image: Tensor, name: str, min_side: int = 1) -> None:
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"{name} must be (3, H, W), got {tuple(image.shape)}")
    if min(image.shape[1:]) < min_side:
        raise ValueError(f"{name} must be at least {min_side} pixels on each side, got {tuple(image.shape[1:])}")


# What a shipped default must reach on the evaluation set (issue 15), figure -> (comparison, bound).
STYLE_DEPENDENCE_MIN = 0.1
GATES: dict[str, tuple[str, float]] = {
    "colour_top1": (">=", 0.9),
    "colour_ratio": ("<=", 0.4),
    "texture_top1": (">=", 0.6),
    "ssim": (">=", 0.45),
    "style_dependence": (">=", STYLE_DEPENDENCE_MIN),
}
# Below these, the output barely depends on the style: the weights must not be a silent default.
COLLAPSE_RATIO = 0.9
COLLAPSE_MARGIN = 0.1


def missed_gates(summary: dict[str, float]) -> list[str]:
    """The gates of `GATES` a `Fidelity.summary()` misses, each as "figure value op bound"."""
    missed = []
    for figure, (op, bound) in GATES.items():
        value = summary[figure]
        if not (value >= bound if op == ">=" else value <= bound):
            missed.append(f"{figure} {value:.3g} (needs {op} {bound:g})")
    return missed


def collapse(summary: dict[str, float]) -> list[str]:
    """Why a `Fidelity.summary()` shows outputs that barely depend on the style; empty when they do.

    Collapse: colour ratio at or above COLLAPSE_RATIO, colour top-1 within COLLAPSE_MARGIN of chance,
    or style dependence below STYLE_DEPENDENCE_MIN.
    """
    reasons = []
    if summary["colour_ratio"] >= COLLAPSE_RATIO:
        reasons.append(f"colour ratio {summary['colour_ratio']:.3g} >= {COLLAPSE_RATIO}")
    if summary["colour_top1"] <= summary["chance"] + COLLAPSE_MARGIN:
        reasons.append(
            f"colour top-1 {summary['colour_top1']:.3g} <= chance {summary['chance']:.3g} + {COLLAPSE_MARGIN}"
        )
    if summary["style_dependence"] < STYLE_DEPENDENCE_MIN:
        reasons.append(f"style dependence {summary['style_dependence']:.3g} < {STYLE_DEPENDENCE_MIN}")
    return reasons
