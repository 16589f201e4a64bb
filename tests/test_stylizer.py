"""Any size, bounded memory, style reuse and the user controls of the Stylizer."""

from __future__ import annotations

import pytest
import torch

from stylize.errors import OutOfMemory
from stylize.models.adaattn import AdaAttN
from stylize.models.color import luminance
from stylize.models.config import Compute
from stylize.models.kernels import winograd
from stylize.models.reference import adaattn_layer
from stylize.models.sizing import Padding
from stylize.models.stya2k import block, unblock
from stylize.stylizer import PreparedStyle, Stylizer, pad_reflect
from tests.conftest import smooth_image

SMALL = Compute(chunk_elements=1 << 12, band_pixels=1 << 12)  # forces many chunks and bands
WHOLE = Compute(chunk_elements=1 << 40, band_pixels=1 << 40)


def with_compute(model: Stylizer, compute: Compute) -> Stylizer:
    return Stylizer(model.network, model.spec, model.device, model.precision, compute)


def close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-4) -> bool:
    return bool((a - b).abs().max() <= rel * b.std() + 1e-6)


@pytest.mark.parametrize("size", [(333, 500), (257, 1025), (64, 2000)])
def test_adaattn_keeps_any_size(adaattn: Stylizer, size: tuple[int, int]) -> None:
    out = adaattn(smooth_image(*size), smooth_image(96, 128, seed=1))
    assert out.shape == (1, 3, *size)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model_name", ["stya2k", "adaattn_video"])
@pytest.mark.parametrize("size", [(33, 50), (37, 129), (16, 250)])
def test_other_models_keep_any_size(request: pytest.FixtureRequest, model_name: str, size: tuple[int, int]) -> None:
    model = request.getfixturevalue(model_name)
    out = model(smooth_image(*size), smooth_image(70, 90, seed=1))
    assert out.shape == (1, 3, *size)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model_name", ["adaattn", "stya2k", "adaattn_video"])
@pytest.mark.parametrize("style_size", [(40, 40), (300, 420)])
def test_style_smaller_and_larger_than_content(request: pytest.FixtureRequest, model_name: str, style_size) -> None:
    model = request.getfixturevalue(model_name)
    out = model(smooth_image(96, 160), smooth_image(*style_size, seed=2))
    assert out.shape == (1, 3, 96, 160) and torch.isfinite(out).all()


def test_stya2k_non_square_blocking_round_trips() -> None:
    x = torch.rand(2, 16, 24, 40)
    for p in (4, 8):
        assert torch.equal(unblock(block(x, p), p, (24, 40)), x)


@pytest.mark.parametrize("model_name", ["adaattn", "stya2k", "adaattn_video"])
@pytest.mark.parametrize(("winograd_convs", "rel"), [(False, 1e-4), (True, 1e-3)])
def test_chunked_and_banded_equal_whole(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, model_name: str, winograd_convs: bool, rel: float
) -> None:
    """Same values in chunks and bands: to fp32 rounding with direct convolutions; with Winograd's
    (where band edges move the tiles, so each band rounds differently) to its larger rounding."""
    if not winograd_convs:
        monkeypatch.setattr(winograd, "MIN_CHANNELS", 1 << 30)
    model = request.getfixturevalue(model_name)
    content, style = smooth_image(192, 128), smooth_image(160, 200, seed=3)
    chunked = with_compute(model, SMALL)(content, style)
    whole = with_compute(model, WHOLE)(content, style)
    assert close(chunked, whole, rel), (chunked - whole).abs().max()


@pytest.mark.parametrize("model_name", ["adaattn", "stya2k", "adaattn_video"])
def test_bf16_autocast_stays_close_to_fp32(request: pytest.FixtureRequest, model_name: str) -> None:
    """The bf16 path (autocast; the CPU's banded convolutions keep its bf16 outputs) against fp32."""
    model = request.getfixturevalue(model_name)
    content, style = smooth_image(96, 80), smooth_image(64, 72, seed=3)
    exact = model(content, style)
    bf16 = Stylizer(model.network, model.spec, model.device, "bf16", model.compute)(content, style)
    assert bf16.shape == exact.shape and bf16.dtype == torch.float32
    relative = (bf16 - exact).abs().mean() / exact.std()
    # Measured 7.8e-2 for AdaAttN (random weights: the unscaled scores make attention sharp and
    # sensitive), less for the others; the bound also catches a path left in fp32 (0) or broken.
    assert 0 < relative < 0.12, relative


def test_full_policy_attends_every_style_position(parity_weights) -> None:
    """'full' equals the official layer with no sampling; 'official' samples (and differs)."""
    import stylize

    model = stylize.load_model("adaattn", weights=parity_weights, device="cpu")
    module: AdaAttN = model.network.adaattn_3
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 256, 16, 16, generator=g), torch.rand(1, 256, 72, 72, generator=g)  # 5184 > 4096
    content_key, style_key = torch.rand(1, 448, 16, 16, generator=g), torch.rand(1, 448, 72, 72, generator=g)
    from stylize.models.common import KeySource

    with torch.inference_mode():
        full = module.attend(
            content,
            KeySource([content_key], normalise=False),
            module.remember(style, style_key, Compute(policy="full")),
            Compute(policy="full", chunk_elements=1 << 14),
        )
        official = module.attend(
            content, KeySource([content_key], normalise=False), module.remember(style, style_key, Compute()), Compute()
        )
        module.max_sample = 1 << 30
        try:
            unsampled = adaattn_layer(module, content, style, content_key, style_key, 6666)
        finally:
            module.max_sample = 64 * 64
    assert close(full, unsampled)
    assert not close(official, unsampled, rel=1e-2)


def test_prepared_style_is_reused_bit_identically(adaattn: Stylizer) -> None:
    style = smooth_image(120, 100, seed=4)
    prepared = adaattn.prepare_style(style)
    assert isinstance(prepared, PreparedStyle) and prepared.size == (120, 100)
    for seed in (5, 6):
        content = smooth_image(80, 112, seed=seed)
        assert torch.equal(adaattn(content, prepared), adaattn(content, style))


def test_batch_of_contents_shares_one_style(stya2k: Stylizer) -> None:
    contents = torch.cat([smooth_image(64, 64, seed=s) for s in (7, 8)])
    style = stya2k.prepare_style(smooth_image(64, 64, seed=9))
    batch = stya2k(contents, style)
    for i in range(2):
        assert close(batch[i : i + 1], stya2k(contents[i : i + 1], style))


def test_controls(adaattn: Stylizer) -> None:
    content, first, second = smooth_image(64, 96), smooth_image(64, 64, seed=10), smooth_image(80, 64, seed=11)
    plain = adaattn.stylize(content, first)
    assert close(adaattn.stylize(content, [first, second], weights=[1.0, 0.0]), plain)
    ones, zeros = torch.ones(64, 96), torch.zeros(64, 96)
    assert close(adaattn.stylize(content, [first, second], masks=[ones, zeros]), plain)
    left = torch.zeros(64, 96)
    left[:, :48] = 1
    masked = adaattn.stylize(content, [first, second], masks=[left, 1 - left])
    only_second = adaattn.stylize(content, second)

    # Each side of the mask follows its own style (the decoder's receptive field blurs the seam).
    def distance(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).abs().mean())

    left_side, right_side = (..., slice(None), slice(0, 24)), (..., slice(None), slice(72, 96))
    assert distance(masked[left_side], plain[left_side]) < 0.5 * distance(masked[left_side], only_second[left_side])
    assert distance(masked[right_side], only_second[right_side]) < 0.5 * distance(masked[right_side], plain[right_side])
    assert not close(adaattn.stylize(content, first, alpha=0.0), plain, rel=1e-2)
    kept = adaattn.stylize(content, first, preserve_color=True)
    tolerance = 1e-5 * float(plain.abs().max())  # random weights give outputs far outside [0, 1]
    assert torch.allclose(luminance(kept), luminance(plain), atol=tolerance)
    chroma = lambda x: x - luminance(x)  # noqa: E731
    assert torch.allclose(chroma(kept), chroma(content), atol=tolerance)


def test_bad_arguments_raise_value_errors(adaattn: Stylizer) -> None:
    content, style = smooth_image(32, 32), smooth_image(32, 32)
    with pytest.raises(ValueError, match="alpha"):
        adaattn.stylize(content, style, alpha=2.0)
    with pytest.raises(ValueError, match="2 style weights for 1 styles"):
        adaattn.stylize(content, style, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        adaattn.stylize(content[0], style)


def test_out_of_memory_retries_with_smaller_chunks(adaattn: Stylizer, monkeypatch: pytest.MonkeyPatch) -> None:
    model = with_compute(adaattn, Compute(chunk_elements=1 << 20, band_pixels=1 << 20))
    original = type(model.network).attend
    seen = []

    def attend(self, content, memory, compute):  # type: ignore[no-untyped-def]
        seen.append(compute.chunk_budget("cpu"))
        if seen[-1] > 1 << 18:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, content, memory, compute)

    monkeypatch.setattr(type(model.network), "attend", attend)
    content, style = smooth_image(48, 48), smooth_image(48, 48, seed=1)
    out = model(content, style)
    assert seen == [1 << 20, 1 << 19, 1 << 18]
    seen.clear()
    assert close(out, adaattn(content, style))
    assert seen == [1 << 22, 1 << 21, 1 << 20, 1 << 19, 1 << 18]  # from the CPU's default budget


def test_out_of_memory_at_the_smallest_chunks_says_what_fits(adaattn: Stylizer, monkeypatch) -> None:
    def attend(self, content, memory, compute):  # type: ignore[no-untyped-def]
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(type(adaattn.network), "attend", attend)
    with pytest.raises(OutOfMemory) as info:
        adaattn(smooth_image(40, 60), smooth_image(40, 40))
    assert info.value.message == "60x40 does not fit in memory on cpu; try a smaller --max-size"


def test_out_of_memory_on_cuda_suggests_a_size(adaattn: Stylizer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 3 * 2**30)
    error = RuntimeError("CUDA out of memory. Tried to allocate 9.00 GiB. GPU 0 has a total capacity of 79 GiB")
    model = Stylizer(adaattn.network, adaattn.spec, torch.device("cpu"))
    model.device = torch.device("cuda")  # only the message is computed; nothing runs on it
    message = model._what_fits((2160, 3840), error)
    assert message.startswith("3840x2160 does not fit on cuda even in the smallest chunks (it needs more than 12.0 GiB")
    assert "try --max-size 1728 or less" in message  # 3840 * sqrt(3 / 12) * 0.9


def test_reflection_padding_of_tiny_images() -> None:
    image = torch.arange(6.0).view(1, 1, 2, 3)
    padded = pad_reflect(image, Padding(5, 4, 7, 6))
    assert padded.shape == (1, 1, 11, 16)
    assert torch.equal(padded[..., 5:7, 7:10], image)
    one_pixel = pad_reflect(torch.ones(1, 3, 1, 1), Padding(3, 4, 5, 6))
    assert one_pixel.shape == (1, 3, 8, 12) and torch.equal(one_pixel, torch.ones_like(one_pixel))
