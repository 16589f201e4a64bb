"""Exactness: our networks against what the official code computed (tests/data/parity, see its README)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stylize.models.adaattn import AdaAttN, sample_positions
from stylize.models.common import AttnMemory, KeySource
from stylize.models.config import Compute
from stylize.models.reference import adaattn_layer, reference_forward
from stylize.weights.checkpoint import read_state_dict
from stylize.weights.locate import FileRef
from tests.conftest import PARITY, parity_input

MEAN_TOL = 5e-4  # mean |d| / std of the golden output
MAX_TOL = 1e-2  # max |d| / std

CASES = {
    "adaattn_256": "adaattn",
    "adaattn_512_sampled": "adaattn",
    "adaattn_256x384_style320x480": "adaattn",
    "adaattn_video_256x512": "adaattn_video",
    "stya2k_256": "stya2k",
    "stya2k_512": "stya2k",
}


def golden(case: str) -> dict[str, np.ndarray]:
    return dict(np.load(PARITY / "golden" / f"{case}.npz"))


def assert_parity(actual: np.ndarray, expected: np.ndarray, label: str, tmp_path: Path) -> None:
    diff = np.abs(actual - expected)
    scale = expected.std()
    mean_rel, max_rel = diff.mean() / scale, diff.max() / scale
    if mean_rel > MEAN_TOL or max_rel > MAX_TOL:
        from stylize.media.images import tensor_to_image

        if expected.ndim == 4 and expected.shape[1] == 3:  # an image: write both to look at
            for name, array in (("actual", actual), ("expected", expected)):
                tensor_to_image(torch.from_numpy(array)).save(tmp_path / f"{label}_{name}.png")
        pytest.fail(
            f"{label}: mean|d|/std {mean_rel:.2e} (limit {MEAN_TOL}), max|d|/std {max_rel:.2e} (limit {MAX_TOL}); "
            f"images written to {tmp_path}"
        )


@pytest.mark.parametrize("case", list(CASES))
def test_optimised_path_matches_golden(case: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model = request.getfixturevalue(CASES[case])
    data = golden(case)
    content, style = parity_input(str(data["content"])), parity_input(str(data["style"]))
    out = model(content, style)
    assert out.shape == data["output"].shape
    assert_parity(out.numpy(), data["output"], case, tmp_path)


@pytest.mark.parametrize("case", ["adaattn_256", "adaattn_256x384_style320x480", "adaattn_video_256x512", "stya2k_256"])
def test_reference_path_matches_golden(case: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model = request.getfixturevalue(CASES[case])
    data = golden(case)
    content, style = parity_input(str(data["content"])), parity_input(str(data["style"]))
    net = model.network.to(memory_format=torch.contiguous_format)
    with torch.inference_mode():
        out = reference_forward(net, content, style)
    assert_parity(out.numpy(), data["output"], f"reference_{case}", tmp_path)


def test_encoder_matches_golden_relu3(adaattn) -> None:
    data = golden("adaattn_256")
    content = parity_input(str(data["content"]))
    with torch.inference_mode():
        relu3 = adaattn.network.encoder.features(content, 3)[2]
    np.testing.assert_allclose(relu3.mean(dim=(2, 3)).numpy(), data["content_relu3_1_mean"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(relu3[..., :16, :16].numpy(), data["content_relu3_1_corner"], rtol=1e-3, atol=1e-3)


def test_sampled_case_leaves_the_process_rng_alone(adaattn) -> None:
    """The official code calls torch.manual_seed(6666) inside forward; we must not."""
    content, style = parity_input("content_256x256.png")[..., :64, :64], parity_input("style_512x512.png")
    style = style[..., :272, :272]  # 68 x 68 = 4624 relu3_1 positions > 4096: the sample is drawn
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    adaattn(content, style)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.initial_seed() == 1234


def test_official_sample_is_the_documented_permutation() -> None:
    # official-implementations.md §2.5 and §7: randperm after seed 6666, on the CPU generator.
    assert sample_positions(16384, 10, 6666).tolist() == [
        12209,
        9403,
        8243,
        2047,
        16010,
        2524,
        14611,
        11281,
        7671,
        8145,
    ]
    assert sample_positions(6400, 8, 6666).tolist() == [4017, 3421, 2485, 2429, 6026, 715, 2145, 1642]


def real_module_inputs() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shapes = [(1, 256, 32, 32), (1, 256, 80, 80), (1, 448, 32, 32), (1, 448, 80, 80)]
    return [torch.rand(*shape, generator=g) for shape in shapes]


@pytest.fixture(scope="module")
def real_adaattn_3() -> AdaAttN:
    state, digests = read_state_dict(FileRef(PARITY / "real" / "latest_net_adaattn_3.pth"))
    assert digests[0] == "sha256:14420dbd26eb02f84e41156a14605ee27ba081bc66b235cda1fce635e49ca24f"
    module = AdaAttN(256, 448, 64 * 64)
    module.load_state_dict(state, strict=True)
    return module.eval()


def test_released_adaattn_3_module_matches_official_output(real_adaattn_3: AdaAttN, tmp_path: Path) -> None:
    content, style, content_key, style_key = real_module_inputs()
    expected = np.load(PARITY / "real" / "adaattn_3_module.npz")["output"]
    with torch.inference_mode():
        memory = real_adaattn_3.remember(style, style_key, Compute())
        ours = real_adaattn_3.attend(content, KeySource([content_key], normalise=False), memory, Compute())
        official = adaattn_layer(real_adaattn_3, content, style, content_key, style_key, 6666)
    assert_parity(ours.numpy(), expected, "real_adaattn_3", tmp_path)
    assert_parity(official.numpy(), expected, "real_adaattn_3_reference", tmp_path)
    # The documented figures (official-implementations.md §7).
    assert ours.sum().item() == pytest.approx(-7880.0859, rel=2e-3)
    np.testing.assert_allclose(ours[0, 0, 0, :4].numpy(), [0.16238324, 0.14302263, -0.26946756, -0.27506882], atol=2e-4)


def test_two_cpu_runs_are_bit_identical(adaattn, stya2k) -> None:
    content, style = parity_input("content_256x256.png")[..., :128, :], parity_input("style_512x512.png")[..., :272, :]
    for model in (adaattn, stya2k):
        assert torch.equal(model(content, style), model(content, style))


def test_key_source_equals_the_official_key(real_adaattn_3: AdaAttN) -> None:
    from stylize.models.common import mvn

    parts = [torch.rand(1, 64, 20, 24), torch.rand(1, 128, 20, 24), torch.rand(1, 256, 20, 24)]
    official = torch.cat([mvn(p) for p in parts], dim=1).flatten(2).transpose(1, 2)  # (N, positions, C_key)
    source = KeySource(parts)
    assert torch.allclose(source.rows(0, 20), official, atol=1e-6)
    assert torch.allclose(torch.cat([source.rows(0, 7), source.rows(7, 20)], dim=1), official, atol=1e-6)
    assert torch.equal(KeySource(parts, normalise=False).rows(3, 5), torch.cat(parts, 1)[..., 3:5, :].flatten(2).mT)


def test_attention_memory_reads_the_official_moments() -> None:
    g = torch.Generator().manual_seed(3)
    values = torch.rand(1, 50, 8, generator=g) * 5 + 3
    attn = torch.softmax(torch.randn(1, 7, 50, generator=g), dim=-1)
    mean, std = AttnMemory(torch.zeros(1, 1, 50), values).read(attn)
    ref_mean = attn @ values
    ref_std = torch.sqrt(torch.relu(attn @ values**2 - ref_mean**2))
    assert torch.allclose(mean, ref_mean, atol=1e-5)
    assert torch.allclose(std, ref_std, atol=1e-4)
