"""scripts/build_dataset.py, offline: the .rcc reader, README licences, tile reassembly, fallback."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.scripttools import load_script

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def ds():
    return load_script("build_dataset")


def make_rcc(files: dict[str, bytes], compress: set[str] = frozenset(), version: int = 3) -> bytes:
    """A Qt resource bundle holding `files` (paths with "/"), in Qt's layout (see read_rcc)."""
    root: dict = {}
    for path, data in files.items():
        node = root
        *folders, name = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = data
    # Breadth-first: the children of a directory are contiguous.
    order: list[tuple[str, object]] = [("", root)]
    first_child: dict[int, int] = {}
    i = 0
    while i < len(order):
        _, node = order[i]
        if isinstance(node, dict):
            first_child[i] = len(order)
            order.extend(sorted(node.items()))
        i += 1
    names, data_blob = bytearray(), bytearray()
    name_offsets, data_offsets = {}, {}
    for index, (name, node) in enumerate(order):
        if index:
            name_offsets[index] = len(names)
            encoded = name.encode("utf-16-be")
            names += struct.pack(">HI", len(name), 0) + encoded
        if not isinstance(node, dict):
            path_name = name
            payload = node
            if path_name in compress:
                payload = struct.pack(">I", len(node)) + zlib.compress(node)
            data_offsets[index] = len(data_blob)
            data_blob += struct.pack(">I", len(payload)) + payload
    node_size = 14 if version == 1 else 22
    header = 24 if version == 3 else 20
    tree_offset = header
    data_offset = tree_offset + node_size * len(order)
    names_offset = data_offset + len(data_blob)
    tree = bytearray()
    for index, (name, node) in enumerate(order):
        flags = 2 if isinstance(node, dict) else (1 if name in compress else 0)
        entry = struct.pack(">IH", name_offsets.get(index, 0), flags)
        if isinstance(node, dict):
            entry += struct.pack(">II", len(node), first_child[index])
        else:
            entry += struct.pack(">HHI", 0, 0, data_offsets[index])
        if version >= 2:
            entry += struct.pack(">Q", 0)
        tree += entry
    head = b"qres" + struct.pack(">IIII", version, tree_offset, data_offset, names_offset)
    if version == 3:
        head += struct.pack(">I", 0)
    return bytes(head + tree + data_blob + names)


def png(image: Image.Image, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"lossless": True} if kind == "WEBP" else {}))
    return buffer.getvalue()


def gradient(width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], axis=-1)
    return Image.fromarray(array.astype(np.uint8), "RGB")


@pytest.mark.parametrize("version", [1, 2, 3])
def test_read_rcc_walks_the_tree_and_inflates(ds, version: int) -> None:
    files = {
        "a/b/plain.txt": b"hello",
        "a/b/packed.bin": bytes(range(200)) * 5,
        "a/top.txt": "é".encode(),
        "c.txt": b"",
    }
    blob = make_rcc(files, compress={"packed.bin"}, version=version)
    assert ds.read_rcc(blob) == files


def test_read_rcc_refuses_other_files(ds) -> None:
    with pytest.raises(ValueError, match="qres"):
        ds.read_rcc(b"PK\x03\x04 not an rcc at all")


README = """Copyright: Timothee Giet, 2018
License: CC-BY-SA 4.0
Files:
question.svg

Copyright: Someone
License: CC0-1.0
Source: https://commons.wikimedia.org/wiki/File:A.jpg
Files:
a.webp
sub/b.webp

Copyright: Other
Source: https://example.org/c
License: Public domain
Comments: cropping
Files: c.webp

Copyright: Third
License: CC-BY-SA-4.0
Files: d.webp
"""


def test_parse_readme_and_licences(ds) -> None:
    entries = ds.parse_readme(README)
    assert set(entries) == {"question.svg", "a.webp", "sub/b.webp", "c.webp", "d.webp"}
    assert entries["sub/b.webp"] == {"licence": "CC0-1.0", "source": "https://commons.wikimedia.org/wiki/File:A.jpg",
                                     "copyright": "Someone"}  # fmt: skip
    assert entries["c.webp"]["licence"] == "Public domain"
    free = {name for name, info in entries.items() if ds.is_free(info["licence"])}
    assert free == {"a.webp", "sub/b.webp", "c.webp"}
    assert ds.is_free("Public Domain") and ds.is_free("CC0") and not ds.is_free("CC-BY 2.0") and not ds.is_free("")


def board_qml(tiles: list[tuple[str, float, float]], width: int, height: int) -> str:
    entries = [
        f'{{ "pixmapfile" : "image/bg.svg", "type" : "SHAPE_BACKGROUND_IMAGE", "width": {width}, "height": {height} }}'
    ]
    entries += [f'{{ "pixmapfile" : "{name}", "x" : "{x}", "y" : "{y}" }}' for name, x, y in tiles]
    return (
        'QtObject {\n property string instruction: qsTr("A Painter, A Picture - 1900")\n property var levels : [\n'
        + (",\n".join(entries) + "\n ]\n}\n")
    )


def cut(picture: Image.Image, boxes: list[tuple[int, int, int, int]], width: int, height: int):
    """Tiles of `picture` at `boxes` (left, top, right, bottom), with centres as board fractions."""
    tiles, images = [], {}
    for n, (left, top, right, bottom) in enumerate(boxes):
        name = f"image/t{n}.webp"
        images[name] = picture.crop((left, top, right, bottom))
        # Offset the picture by (100, 50) on the board, as the boards do.
        tiles.append((name, (100 + (left + right) / 2) / width, (50 + (top + bottom) / 2) / height))
    return tiles, images


def test_tiles_reassemble_into_the_picture(ds) -> None:
    picture = gradient(60, 40)
    boxes = [(0, 0, 24, 20), (24, 0, 60, 20), (0, 20, 30, 40), (30, 20, 60, 40)]
    tiles, images = cut(picture, boxes, width=1000, height=500)
    board = ds.parse_board(4, board_qml(tiles, 1000, 500))
    assert (board.width, board.height, board.title) == (1000, 500, "A Painter, A Picture - 1900")
    assembled = ds.assemble(board, images)
    np.testing.assert_array_equal(np.asarray(assembled), np.asarray(picture))


def test_a_one_pixel_gap_is_filled_from_its_neighbours(ds) -> None:
    picture = Image.new("RGB", (40, 20), (200, 100, 50))
    tiles, images = cut(picture, [(0, 0, 20, 20), (20, 0, 40, 20)], width=1000, height=500)
    shifted = [tiles[0], (tiles[1][0], tiles[1][1] + 1 / 1000, tiles[1][2])]  # one pixel to the right
    assembled = ds.assemble(ds.parse_board(1, board_qml(shifted, 1000, 500)), images)
    assert assembled.size == (41, 20)
    assert (np.asarray(assembled) == [200, 100, 50]).all()


def test_gcompris_sources_from_synthetic_bundles(ds, tmp_path: Path) -> None:
    picture = gradient(60, 40)
    boxes = [(0, 0, 30, 40), (30, 0, 60, 40)]
    tiles, images = cut(picture, boxes, width=1000, height=500)
    prefix = "gcompris/src/activities/paintings/resource"
    paintings = {f"{prefix}/board/board7_0.qml": board_qml(tiles, 1000, 500).encode()}
    paintings.update({f"{prefix}/{name}": png(image, "WEBP") for name, image in images.items()})
    rcc_dir = tmp_path / "rcc"
    rcc_dir.mkdir()
    (rcc_dir / "paintings.rcc").write_bytes(make_rcc(paintings, compress={"board7_0.qml"}))
    animals = "gcompris/src/activities/explore_world_animals/resource/animals"
    photo = gradient(400, 300)
    bundle = {
        f"{animals}/README": README.replace("a.webp", "kept.webp").replace("d.webp", "dropped.webp").encode(),
        f"{animals}/kept.webp": png(photo, "WEBP"),
        f"{animals}/c.webp": png(gradient(300, 100), "WEBP"),  # free but too small: an icon
        f"{animals}/dropped.webp": png(photo, "WEBP"),  # CC-BY-SA
    }
    (rcc_dir / "explore_world_animals.rcc").write_bytes(make_rcc(bundle, compress={"README"}))

    [painting] = ds.gcompris_paintings(rcc_dir)
    assert painting.name == "hokusai_great_wave" and painting.kind == "paintings"  # board 7's name
    np.testing.assert_array_equal(np.asarray(painting.image), np.asarray(picture))
    assert "GPL-3.0-or-later" in painting.licence
    [kept] = ds.gcompris_photos(rcc_dir)
    assert (kept.name, kept.licence) == ("kept", "CC0-1.0")
    assert "commons.wikimedia.org" in kept.source and "Someone" in kept.source

    data = tmp_path / "data"
    report = ds.Report()
    rows = ds.write_items([painting, kept], data, max_side=32)
    ds.write_sources(rows, data / "SOURCES.md", report)
    assert max(Image.open(data / "photos" / "kept.jpg").size) == 32
    sources = (data / "SOURCES.md").read_text()
    assert "`photos/kept.jpg`" in sources and "`paintings/hokusai_great_wave.jpg`" in sources


def test_failed_sources_fall_back_to_a_media_folder(ds, tmp_path: Path, monkeypatch) -> None:
    media = tmp_path / "media"
    for kind in ("photos", "paintings"):
        (media / kind).mkdir(parents=True)
        gradient(20, 10).save(media / kind / f"{kind[:-1]}.jpg")
    (media / "SOURCES.md").write_text(
        "| file | source | licence |\n|---|---|---|\n| `photos/photo.jpg` | somewhere | CC0 |\n"
    )
    data = tmp_path / "data"

    def offline(package: str, work: Path) -> Path:
        raise ds.SourceError(f"{package}: apt-get download failed (offline)")

    monkeypatch.setattr(ds, "fetch_deb", offline)
    report = ds.build(data, tmp_path / "work", fallback=media, sources=("opencv",))
    assert report.failed and report.fallback == 2
    assert sorted(p.name for p in (data / "photos").iterdir()) == ["photo.jpg"]
    sources = (data / "SOURCES.md").read_text()
    assert "could not be fetched" in sources and "somewhere" in sources and "CC0" in sources
