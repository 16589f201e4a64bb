"""Finding a model's files: stylize's layout, official checkouts, plain folders, zips, the search."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

import stylize
from stylize.errors import WeightsError
from stylize.weights.locate import find_files, resolve
from stylize.weights.registry import MODELS
from tests.weights.folders import ADAATTN_FILES, STYA2K_FILES, link, one_line, plain_adaattn


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


def test_missing_everywhere_names_the_files_and_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLIZE_WEIGHTS", str(tmp_path / "nothing-here"))
    monkeypatch.setattr("stylize.weights.locate.bundled_files", lambda spec: None)
    with pytest.raises(WeightsError) as info:
        resolve(MODELS["stya2k"])
    assert "latest_net_A2K.pth" in one_line(info.value) and "vgg_normalised.pth" in info.value.message
    assert "stylize weights" in (info.value.hint or "")


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


def test_folder_with_both_image_models_is_ambiguous(parity_weights: Path, tmp_path: Path) -> None:
    folder = plain_adaattn(parity_weights, tmp_path / "mixed")
    link(parity_weights / "stya2k" / "latest_net_A2K.pth", folder / "latest_net_A2K.pth")
    with pytest.raises(WeightsError, match="holds files of both adaattn and stya2k"):
        find_files(MODELS["stya2k"], folder)


def test_text_file_posing_as_zip(tmp_path: Path) -> None:
    fake = tmp_path / "weights.zip"
    fake.write_text("not a zip")
    with pytest.raises(WeightsError, match="not a folder or a zip archive"):
        find_files(MODELS["adaattn"], fake)


def test_copy_does_not_change_loading(parity_weights: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copied" / "adaattn"
    shutil.copytree(parity_weights / "adaattn", folder)
    shutil.copy(parity_weights / "vgg_normalised.pth", folder.parent / "vgg_normalised.pth")
    assert find_files(MODELS["adaattn"], folder.parent).files["latest_net_adaattn_3.pth"].path == (
        folder / "latest_net_adaattn_3.pth"
    )
