"""`stylize grid` and the contact-sheet layout (stylize.media.sheet), on tiny images with the parity weights."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stylize.cli.main import cli
from stylize.media.atomic import atomic_path
from stylize.media.images import resize_long_side, tensor_to_image
from stylize.media.sheet import BACKGROUND, SheetLayout, compose, fit_in_cell
from tests.conftest import smooth_image

CELL, GAP, SIZE = 32, 2, 48


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("grid")
    shapes = {"contents": [(40, 60), (48, 48)], "styles": [(64, 64), (30, 50), (50, 30)]}
    found: dict[str, list[Path]] = {}
    for kind, sizes in shapes.items():
        found[kind] = []
        for i, (h, w) in enumerate(sizes):
            path = folder / f"{kind[:-1]}{i}.png"
            tensor_to_image(smooth_image(h, w, seed=10 * len(found) + i)).save(path)
            found[kind].append(path)
    return found


@pytest.fixture(scope="module")
def sheet_run(inputs, parity_weights: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid-out")
    args = ["grid", *map(str, inputs["contents"])]
    for style in inputs["styles"]:
        args += ["-s", str(style)]
    args += ["-o", str(out / "sheet.png"), "--cell", str(CELL), "--gap", str(GAP), "--no-labels",
             "--size", str(SIZE), "--style-size", str(SIZE), "--outputs", str(out / "cells"),
             "--weights", str(parity_weights), "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, result


def cell_pixels(sheet: Image.Image, layout: SheetLayout, row: int, column: int, image: Image.Image) -> np.ndarray:
    fitted = fit_in_cell(image, layout.cell)
    x, y = layout.placement(row, column, fitted.size)
    return np.asarray(sheet.crop((x, y, x + fitted.width, y + fitted.height)))


def test_sheet_has_one_more_row_and_column_than_contents_and_styles(sheet_run, inputs) -> None:
    out, result = sheet_run
    sheet = Image.open(out / "sheet.png")
    layout = SheetLayout(len(inputs["contents"]) + 1, len(inputs["styles"]) + 1, CELL, GAP)
    assert sheet.size == layout.size == (4 * (CELL + GAP) + GAP, 3 * (CELL + GAP) + GAP)
    assert "3 rows x 4 columns" in result.output


def test_header_cells_are_the_resized_styles_and_contents(sheet_run, inputs) -> None:
    out, _ = sheet_run
    sheet = Image.open(out / "sheet.png").convert("RGB")
    layout = SheetLayout(3, 4, CELL, GAP)
    for c, path in enumerate(inputs["styles"], start=1):
        expected = fit_in_cell(resize_long_side(Image.open(path).convert("RGB"), SIZE), CELL)
        np.testing.assert_array_equal(cell_pixels(sheet, layout, 0, c, expected), np.asarray(expected))
    for r, path in enumerate(inputs["contents"], start=1):
        expected = fit_in_cell(resize_long_side(Image.open(path).convert("RGB"), SIZE), CELL)
        np.testing.assert_array_equal(cell_pixels(sheet, layout, r, 0, expected), np.asarray(expected))
    x, y = layout.origin(0, 0)
    corner = np.asarray(sheet.crop((x, y, x + CELL, y + CELL)))
    assert (corner == np.array(BACKGROUND, dtype=np.uint8)).all()


def test_result_cells_are_the_stylised_outputs(sheet_run, inputs) -> None:
    out, _ = sheet_run
    sheet = Image.open(out / "sheet.png").convert("RGB")
    layout = SheetLayout(3, 4, CELL, GAP)
    written = sorted(p.name for p in (out / "cells").iterdir())
    assert written == sorted(f"content{i}_style{j}.png" for i in range(2) for j in range(3))
    for r in range(2):
        for c in range(3):
            result = Image.open(out / "cells" / f"content{r}_style{c}.png")
            content = resize_long_side(Image.open(inputs["contents"][r]), SIZE)
            assert result.size == content.size  # full size: the content's size at --size
            fitted = fit_in_cell(result.convert("RGB"), CELL)
            np.testing.assert_array_equal(cell_pixels(sheet, layout, r + 1, c + 1, fitted), np.asarray(fitted))
    assert not list(out.glob(".*tmp*")), "no temporary files left behind"


def test_bad_sheet_suffix_is_a_usage_error(inputs, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["grid", str(inputs["contents"][0]), "-s", str(inputs["styles"][0]), "-o", str(tmp_path / "sheet.gif")]
    )
    assert result.exit_code == 2 and ".png, .jpg" in result.output
    assert not (tmp_path / "sheet.gif").exists()


def test_grid_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["grid", "--help"])
    assert result.exit_code == 0
    assert "stylize grid photo1.jpg" in result.output and "--cell" in result.output and "--model" in result.output


# --- layout and composition (no model) ---------------------------------------------------------


def test_layout_arithmetic() -> None:
    layout = SheetLayout(rows=2, columns=3, cell=10, gap=1)
    assert layout.size == (34, 23)
    assert layout.origin(0, 0) == (1, 1) and layout.origin(1, 2) == (23, 12)
    assert layout.placement(1, 2, (10, 4)) == (23, 15)
    with pytest.raises(IndexError):
        layout.origin(2, 0)
    with pytest.raises(ValueError):
        SheetLayout(0, 1, 10)


def test_compose_fits_centres_and_labels() -> None:
    wide = Image.new("RGB", (40, 20), (255, 0, 0))
    tall = Image.new("RGB", (10, 30), (0, 0, 255))
    plain = compose([[None, wide], [tall, wide]], cell=20, gap=0)
    assert plain.size == (40, 40)
    # The wide image becomes 20x10, centred vertically in cell (0, 1): rows 5..14.
    array = np.asarray(plain)
    assert (array[5:15, 20:40] == [255, 0, 0]).all() and (array[0:5, 20:40] == 255).all()
    labelled = compose([[None, wide], [tall, wide]], cell=20, gap=0, labels={(0, 1): "wave"})
    changed = np.any(np.asarray(labelled) != array, axis=2)
    assert changed[:20, 20:].any() and not changed[20:, :].any() and not changed[:, :20].any()


def test_atomic_path_replaces_on_success_and_cleans_up_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("stop")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as temp:
        assert temp.suffix == ".png" and temp.parent == tmp_path
        temp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and list(tmp_path.iterdir()) == [target]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600


def test_an_unwritable_sheet_fails_before_the_model_loads(inputs, tmp_path: Path) -> None:
    out = "/proc/stylize-sheet.png"
    args = ["grid", str(inputs["contents"][0]), "-s", str(inputs["styles"][0]), "-o", out, "--weights", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [f"error: {out}: cannot write: no such file or directory"]
