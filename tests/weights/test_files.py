"""Finding and loading checkpoints: layouts, zips, hashes, and every bad file giving one clear line."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

import stylize
from stylize.errors import WeightsError
from stylize.weights.files import FileRef, digests, find_files, read_state_dict, resolve, search_locations
from stylize.weights.registry import MODELS
from tests.conftest import PARITY

ADAATTN_FILES = ["latest_net_adaattn_3.pth", "latest_net_transformer.pth", "latest_net_decoder.pth"]
STYA2K_FILES = ["latest_net_A2K.pth", "latest_net_transform.pth", "latest_net_decoder.pth"]


def link(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src, dst)
    return dst


def plain_adaattn(parity_weights: Path, folder: Path) -> Path:
    """A plain folder holding the four AdaAttN files (symlinks, no copying)."""
    for name in ADAATTN_FILES:
        link(parity_weights / "adaattn" / name, folder / name)
    link(parity_weights / "vgg_normalised.pth", folder / "vgg_normalised.pth")
    return folder


def one_line(error: WeightsError) -> str:
    assert "\n" not in error.message
    return error.message


# --- layouts -----------------------------------------------------------------------------


def test_stylize_layout_loads_and_reports_verification(parity_weights: Path) -> None:
    files = find_files(MODELS["adaattn"], parity_weights)
    assert set(files.files) == {"vgg_normalised.pth", *ADAATTN_FILES}
    model = stylize.load_model("adaattn", weights=parity_weights, device="cpu")
    # The random parity files are not the released ones: known digests differ.
    assert model.verification["latest_net_adaattn_3.pth"].status == "differs"


def test_official_checkout_layouts(parity_weights: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name in ADAATTN_FILES:
        link(parity_weights / "adaattn" / name, repo / "checkpoints" / "AdaAttN" / name)
    for name in STYA2K_FILES:
        link(parity_weights / "stya2k" / name, repo / "checkpoints" / "A2K" / name)
    for name in ("latest_net_transformer.pth", "latest_net_decoder.pth"):
        link(parity_weights / "adaattn_video" / name, repo / "attn_adain_video" / name)
    link(parity_weights / "vgg_normalised.pth", repo / "checkpoints" / "vgg_normalised.pth")
    link(parity_weights / "vgg_normalised.pth", repo / "vgg_normalised.pth")
    found = {name: find_files(spec, repo) for name, spec in MODELS.items()}
    assert found["adaattn"].files["latest_net_decoder.pth"].path.parent.name == "AdaAttN"
    assert found["stya2k"].files["latest_net_decoder.pth"].path.parent.name == "A2K"
    assert found["adaattn-video"].files["latest_net_decoder.pth"].path.parent.name == "attn_adain_video"
    # The video checkout keeps its encoder beside the model folder: found from the folder itself too.
    assert find_files(MODELS["adaattn-video"], repo / "attn_adain_video").files["vgg_normalised.pth"]


def test_plain_folder(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "plain")
    assert find_files(MODELS["adaattn"], folder).location == str(folder)
    with pytest.raises(WeightsError, match="no stya2k files"):
        find_files(MODELS["stya2k"], folder)


def test_zip_with_files_nested_anywhere(parity_weights: Path, tmp_path: Path) -> None:
    archive = tmp_path / "AdaAttN_model.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for name in ADAATTN_FILES:
            zf.write(parity_weights / "adaattn" / name, f"AdaAttN_model/deep/er/AdaAttN/{name}")
        zf.write(parity_weights / "vgg_normalised.pth", "AdaAttN_model/vgg_normalised.pth")
        zf.writestr("AdaAttN_model/test_opt.txt", "options")
    model = stylize.load_model("adaattn", weights=archive, device="cpu")
    assert model.network.decoder.decoder_layer_2[24].weight.shape == (3, 64, 3, 3)
    ref = find_files(MODELS["adaattn"], archive).files["latest_net_decoder.pth"]
    assert ref.member == "AdaAttN_model/deep/er/AdaAttN/latest_net_decoder.pth"


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "env"))
    assert search_locations(tmp_path / "given") == [(tmp_path / "given", "--weights")]
    assert search_locations(None) == [(tmp_path / "env", "$STYLIZE_WEIGHTS")]
    monkeypatch.delenv("STYLIZE_WEIGHTS")
    whys = [why for _, why in search_locations(None)]
    assert whys[-1] == "user data folder"


def test_missing_everywhere_names_the_files_and_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "nothing-here"))
    monkeypatch.setattr("stylize.weights.bundled.bundled_files", lambda spec: None)
    with pytest.raises(WeightsError) as info:
        resolve(MODELS["stya2k"])
    assert "latest_net_A2K.pth" in one_line(info.value) and "vgg_normalised.pth" in info.value.message
    assert "stylize weights" in (info.value.hint or "")


# --- bad files ---------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn", weights=tmp_path / "absent", device="cpu")
    assert one_line(info.value) == f"{tmp_path / 'absent'}: no such file or folder"


def test_folder_with_some_files_missing(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "plain")
    (folder / "latest_net_transformer.pth").unlink()
    with pytest.raises(WeightsError) as info:
        stylize.load_model("adaattn", weights=folder, device="cpu")
    assert one_line(info.value) == f"{folder}: adaattn is missing latest_net_transformer.pth"


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


def test_folder_with_both_image_models_is_ambiguous(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "mixed")
    link(parity_weights / "stya2k" / "latest_net_A2K.pth", folder / "latest_net_A2K.pth")
    with pytest.raises(WeightsError, match="holds files of both adaattn and stya2k"):
        find_files(MODELS["stya2k"], folder)


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


def test_text_file_posing_as_zip(tmp_path: Path) -> None:
    fake = tmp_path / "weights.zip"
    fake.write_text("not a zip")
    with pytest.raises(WeightsError, match="not a folder or a zip archive"):
        find_files(MODELS["adaattn"], fake)


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
    from stylize.weights.files import verify
    from stylize.weights.registry import MODELS as specs

    _, file_digests = read_state_dict(FileRef(PARITY / "real" / "latest_net_adaattn_3.pth"))
    assert verify(specs["adaattn"].file("latest_net_adaattn_3.pth"), file_digests).status == "verified"


def test_copy_does_not_change_loading(parity_weights: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copied" / "adaattn"
    shutil.copytree(parity_weights / "adaattn", folder)
    shutil.copy(parity_weights / "vgg_normalised.pth", folder.parent / "vgg_normalised.pth")
    assert find_files(MODELS["adaattn"], folder.parent).files["latest_net_adaattn_3.pth"].path == (
        folder / "latest_net_adaattn_3.pth"
    )
