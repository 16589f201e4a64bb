"""stylize.metrics.fidelity on images whose figures can be worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from stylize.metrics import fidelity as fd
from tests.conftest import smooth_image


def photo(seed: int = 0, height: int = 48, width: int = 64) -> torch.Tensor:
    return smooth_image(height, width, seed)[0]


def flat(r: float, g: float, b: float, height: int = 32, width: int = 32) -> torch.Tensor:
    return torch.tensor([r, g, b])[:, None, None].expand(3, height, width).clone()


def test_lab_of_known_colours():
    white, black, red = fd.rgb_to_lab(flat(1, 1, 1)), fd.rgb_to_lab(flat(0, 0, 0)), fd.rgb_to_lab(flat(1, 0, 0))
    assert white[:, 0, 0].tolist() == pytest.approx([100.0, 0.0, 0.0], abs=0.01)
    assert black[:, 0, 0].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=0.01)
    # sRGB red: L* 53.24, a* 80.09, b* 67.20 (the published values).
    assert red[:, 0, 0].tolist() == pytest.approx([53.24, 80.09, 67.20], abs=0.05)


def test_colour_distance_of_an_image_to_itself_is_zero():
    image = photo()
    assert fd.colour_distance(image, image) == 0.0
    # The distributions, not the positions: a mirrored image has the same pixels.
    assert fd.colour_distance(image, image.flip(-1)) == pytest.approx(0.0, abs=1e-4)


def test_colour_distance_of_flat_images_is_the_lab_distance_over_sqrt3():
    # Two flat greys differ only in L*; the projection on unit direction d shifts by dL * d_L,
    # and the mean over directions of d_L^2 is about 1/3.
    a, b = flat(0.2, 0.2, 0.2), flat(0.6, 0.6, 0.6)
    d_l = float(fd.rgb_to_lab(b)[0, 0, 0] - fd.rgb_to_lab(a)[0, 0, 0])
    directions = fd._directions()
    expected = d_l * math.sqrt(float((directions[:, 0] ** 2).mean()))
    assert fd.colour_distance(a, b) == pytest.approx(expected, rel=1e-4)
    assert expected == pytest.approx(d_l / math.sqrt(3), rel=0.2)


def test_a_colour_shifted_image_is_further_than_itself_and_further_with_a_larger_shift():
    image = photo() * 0.8
    shifted = image + torch.tensor([0.15, 0.0, -0.1])[:, None, None]
    more = image + torch.tensor([0.2, 0.0, -0.2])[:, None, None]
    assert fd.colour_distance(image, shifted.clamp(0, 1)) > 5
    assert fd.colour_distance(image, more.clamp(0, 1)) > fd.colour_distance(image, shifted.clamp(0, 1))


def test_colour_distance_is_reproducible_and_symmetric():
    a, b = photo(1), photo(2, 40, 30)
    assert fd.colour_distance(a, b) == fd.colour_distance(a, b)
    assert fd.colour_distance(a, b) == pytest.approx(fd.colour_distance(b, a), rel=1e-6)


def test_texture_signature_separates_smooth_from_noisy():
    smooth = photo(3)
    noisy = (smooth + 0.2 * torch.rand(smooth.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    signature = fd.texture_signature(smooth)
    assert signature.shape == (12,)
    assert float(fd.signature_distance(signature, signature)) == 0.0
    assert float(fd.signature_distance(signature, fd.texture_signature(noisy))) > 1.0
    # A flat image has no edges: every feature is log(eps).
    assert fd.texture_signature(flat(0.5, 0.5, 0.5)).tolist() == pytest.approx(
        [math.log(fd.TEXTURE_EPS)] * 12, abs=1e-3
    )


def test_ssim_of_an_image_to_itself_is_one_and_lower_for_noise():
    image = photo(4)
    assert fd.ssim(image, image) == pytest.approx(1.0, abs=1e-6)
    noise = torch.rand(image.shape, generator=torch.Generator().manual_seed(1))
    assert fd.ssim(image, (image + 0.3 * (noise - 0.5)).clamp(0, 1)) < 0.5
    # A uniform brightness change leaves structure and contrast: only the luminance term drops.
    assert fd.ssim(image * 0.5, image * 0.5 + 0.05) > 0.9


def test_ssim_needs_one_size():
    with pytest.raises(ValueError, match="one size"):
        fd.ssim(photo(0, 32, 32), photo(0, 32, 40))


def test_exact_copies_of_the_styles_are_retrieved_every_time():
    photos = [photo(10), photo(11)]
    styles = [photo(20 + s) * torch.tensor(tint)[:, None, None] for s, tint in enumerate(TINTS)]
    outputs = [[style for style in styles] for _ in photos]  # every output *is* its style
    figures = fd.fidelity(photos, styles, outputs)
    assert figures.colour_top1 == 1.0
    assert figures.texture_top1 == 1.0
    assert figures.colour_ratio == pytest.approx(0.0, abs=1e-6)
    assert figures.chance == pytest.approx(1 / 3)
    assert figures.colour.shape == (2, 3, 3)


def test_outputs_that_ignore_the_style_are_at_chance_and_independent_of_it():
    photos = [photo(10), photo(11)]
    styles = [photo(20 + s) * torch.tensor(tint)[:, None, None] for s, tint in enumerate(TINTS)]
    outputs = [[p for _ in styles] for p in photos]  # the photo itself, whatever the style
    figures = fd.fidelity(photos, styles, outputs)
    assert figures.colour_ratio == pytest.approx(1.0)
    assert figures.style_dependence == 0.0
    assert figures.mean_ssim == pytest.approx(1.0, abs=1e-6)
    # Every output of a photo is the same, so all its styles get the same nearest: 1 of 3 right.
    assert figures.colour_top1 == pytest.approx(1 / 3)


def test_style_dependence_is_the_mean_pixel_difference_between_styles():
    photos = [flat(0.5, 0.5, 0.5)]
    styles = [flat(0, 0, 0), flat(1, 1, 1)]
    outputs = [[flat(0.2, 0.2, 0.2), flat(0.6, 0.6, 0.6)]]
    assert fd.fidelity(photos, styles, outputs).style_dependence == pytest.approx(0.4)


def test_fidelity_checks_the_grid():
    with pytest.raises(ValueError, match="at least 2 styles"):
        fd.fidelity([photo()], [photo()], [[photo()]])
    with pytest.raises(ValueError, match="rows"):
        fd.fidelity([photo()], [photo(1), photo(2)], [[photo()]])
    with pytest.raises(ValueError, match="photo's size"):
        fd.fidelity([photo()], [photo(1), photo(2)], [[photo(0, 32, 32), photo()]])


TINTS = ((1.0, 0.4, 0.3), (0.3, 1.0, 0.4), (0.3, 0.4, 1.0))
