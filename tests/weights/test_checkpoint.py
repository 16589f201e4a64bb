"""Reading checkpoints safely, telling what a file is, loading strictly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import stylize
from stylize.errors import WeightsError
from stylize.weights.checkpoint import digests, read_state_dict, verify
from stylize.weights.locate import FileRef
from stylize.weights.registry import MODELS
from tests.conftest import PARITY
from tests.weights.folders import link, one_line, plain_adaattn


def test_empty_file(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "plain")
    (folder / "latest_net_decoder.pth").unlink()
    (folder / "latest_net_decoder.pth").write_bytes(b"")
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn", weights=folder, device="cpu")
    assert one_line(info.value) == f"{folder / 'latest_net_decoder.pth'}: empty file (0 bytes)"


def test_truncated_file(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "plain")
    data = (parity_weights / "adaattn" / "latest_net_transformer.pth").read_bytes()
    (folder / "latest_net_transformer.pth").unlink()
    (folder / "latest_net_transformer.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn", weights=folder, device="cpu")
    assert one_line(info.value).startswith(f"{folder / 'latest_net_transformer.pth'}: truncated or not a PyTorch")


def test_file_of_the_other_model_is_named(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "plain")
    (folder / "latest_net_transformer.pth").unlink()
    link(parity_weights / "stya2k" / "latest_net_transform.pth", folder / "latest_net_transformer.pth")
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn", weights=folder, device="cpu")
    message = one_line(info.value)
    assert message.startswith(f"{folder / 'latest_net_transformer.pth'}: not adaattn's latest_net_transformer.pth")
    assert "missing attn_adain_4_1.f.weight" in message
    assert message.endswith("it looks like stya2k's latest_net_transform.pth")


def test_released_file_in_the_wrong_role_is_refused(parity_weights: Path, tmp_path: Path) -> None:
    """adaattn_3 and the video transformer have the same keys and shapes: the digest tells them apart."""
    folder = tmp_path / "attn_adain_video"
    link(PARITY / "real" / "latest_net_adaattn_3.pth", folder / "latest_net_transformer.pth")
    link(parity_weights / "adaattn_video" / "latest_net_decoder.pth", folder / "latest_net_decoder.pth")
    link(parity_weights / "vgg_normalised.pth", folder / "vgg_normalised.pth")
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn-video", weights=folder, device="cpu")
    assert one_line(info.value) == (
        f"{folder / 'latest_net_transformer.pth'}: this is adaattn's latest_net_adaattn_3.pth, "
        "not adaattn-video's latest_net_transformer.pth"
    )


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "latest_net_A2K.pth"
    torch.save({"sim_alpha": torch.ones(1), "payload": _RunsCode(marker)}, evil)
    with pytest.raises(WeightsError) as info:
        read_state_dict(FileRef(evil))
    message = one_line(info.value)
    assert message.startswith(f"{evil}: refused: its pickle asks to run code")
    assert "system" in message
    assert not marker.exists()


def test_not_a_dict_of_tensors(tmp_path: Path) -> None:
    path = tmp_path / "odd.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(WeightsError, match="holds a list, not a dict of tensors"):
        read_state_dict(FileRef(path))


def test_module_prefix_is_accepted(parity_weights: Path, tmp_path: Path) -> None:
    state, _ = read_state_dict(FileRef(parity_weights / "adaattn" / "latest_net_adaattn_3.pth"))
    path = tmp_path / "prefixed.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)
    loaded, _ = read_state_dict(FileRef(path))
    assert set(loaded) == set(state)


def test_digests_are_sha256_and_git_blob() -> None:
    sha, blob = digests(b"hello\n")
    assert sha == "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    assert blob == "gitblob:ce013625030ba8dba906f756967f9e9ca394464a"  # `echo hello | git hash-object --stdin`


def test_released_adaattn_3_is_verified() -> None:
    _, file_digests = read_state_dict(FileRef(PARITY / "real" / "latest_net_adaattn_3.pth"))
    assert verify(MODELS["adaattn"].file("latest_net_adaattn_3.pth"), file_digests).status == "verified"
