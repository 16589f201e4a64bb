#!/usr/bin/env python3
"""Rebuild stylize's free training set (content photos and style paintings) from packages.

    python scripts/build_dataset.py DATA_DIR [--work DIR] [--max-side 1024] [--fallback MEDIA_DIR]

writes DATA_DIR/photos/*.jpg, DATA_DIR/paintings/*.jpg and DATA_DIR/SOURCES.md (file, source,
licence), every image at most --max-side pixels on its long side. The sources:

* scikit-image's sample photos (astronaut, chelsea, coffee, rocket, hubble_deep_field: public
  domain or CC0, per their docstrings), from an installed skimage or `pip download scikit-image`.
* Debian `gcompris-qt-data` (`apt-get download`, no root): photos in Qt resource bundles (.rcc)
  of the explore_*, erase and clickgame activities, kept only where the README inside the bundle
  says Public Domain or CC0; and the 22 paintings of the paintings activity, which ship as puzzle
  tiles with their positions in board/boardN_0.qml and are reassembled here. The paintings are in
  the public domain; GCompris packages these scans under GPL-3.0-or-later (SOURCES.md says so).
* Debian `opencv-doc`: starry_night.jpg (Van Gogh; the samples are Apache-2.0/BSD-3-Clause).

A source that cannot be fetched (no apt-get, no network) is reported; with --fallback (default:
$STYLIZE_MEDIA, when set) the images of that folder fill in, and the
script says exactly which sources are missing. Needs only Pillow and numpy (and pip / apt-get /
dpkg-deb for the downloads).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
# A folder with the same layout that fills in for sources that cannot be fetched.
DEFAULT_FALLBACK = Path(os.environ["STYLIZE_MEDIA"]) if os.environ.get("STYLIZE_MEDIA") else None

GCOMPRIS = "gcompris-qt-data"
OPENCV_DOC = "opencv-doc"
RCC_DIR = "usr/share/gcompris-qt/rcc"
STARRY_NIGHT = "usr/share/doc/opencv-doc/examples/data/starry_night.jpg"
# Activities whose bundles hold photographs (the others: drawings, icons, renders, small pictures).
PHOTO_ACTIVITIES = (
    "explore_monuments", "explore_world_animals", "explore_farm_animals", "explore_world_music", "erase", "clickgame",
)  # fmt: skip
MIN_SHORT_SIDE = 256  # smaller pictures are icons or thumbnails, not training photos

SKIMAGE_PHOTOS = {  # file in skimage/data -> licence, per the skimage.data docstrings
    "astronaut.png": "public domain (NASA)",
    "chelsea.png": "CC0",
    "coffee.png": "CC0",
    "rocket.jpg": "public domain (SpaceX)",
    "hubble_deep_field.jpg": "public domain (NASA)",
}

# Paintings board -> file name (titles from the board's own caption; the shared media names where they exist).
PAINTING_NAMES = {
    1: "renoir_moulin_de_la_galette", 2: "arcimboldo_spring", 3: "arcimboldo_librarian", 4: "hokusai_courtesan",
    5: "hokusai_woman_with_fan", 6: "hokusai_ejiri", 7: "hokusai_great_wave", 8: "hiroshige_snow_temple",
    9: "hiroshige_horse_mackerel_and_prawn", 10: "hokusai_ferry", 11: "hokusai_poppies",
    12: "hokusai_kazusa_sea_route", 13: "michelangelo_pieta", 14: "leonardo_mona_lisa", 15: "bellini_landscape",
    16: "durer_lion", 17: "bruegel_harvesters", 18: "renoir_girls_at_piano", 19: "kandinsky_composition_viii",
    20: "bazille_aigues_mortes", 21: "cassatt_summertime", 22: "van_gogh_village_street_auvers",
}  # fmt: skip
PAINTING_LICENCE = "painting in the public domain; scan packaged by GCompris under GPL-3.0-or-later"


class SourceError(Exception):
    """A source could not be fetched or read; the message says why."""


@dataclass
class Item:
    """One image of the data set, before writing."""

    kind: str  # "photos" or "paintings"
    name: str  # file stem
    image: Image.Image
    source: str
    licence: str


@dataclass
class Report:
    written: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    fallback: int = 0


# --- Qt resource bundles (.rcc) ------------------------------------------------------------


def read_rcc(data: bytes) -> dict[str, bytes]:
    """The files of a Qt resource bundle, by path ("a/b/c.webp").

    Format (qres, versions 1-3): a 20-byte header "qres", version, tree, data and names offsets
    (version 3 adds a 4-byte flags word). Tree nodes are 14 bytes (22 from version 2, with a
    modification time): name offset (4), flags (2), then for a directory the child count (4) and the
    index of the first child (4), else territory (2), language (2) and data offset (4). Names are a
    2-byte length (in UTF-16 units), a 4-byte hash, then UTF-16BE. Data are a 4-byte length then
    the bytes; flag 1 marks zlib data after a 4-byte uncompressed size (qCompress), flag 4 zstd.
    """
    if len(data) < 20 or data[:4] != b"qres":
        raise ValueError("not a Qt resource bundle (no 'qres' header)")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    if version not in (1, 2, 3):
        raise ValueError(f"unsupported rcc version {version}")
    node_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        (length,) = struct.unpack_from(">H", data, names + offset)
        start = names + offset + 6
        return data[start : start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str, depth: int) -> None:
        if depth > 64:
            raise ValueError("rcc tree too deep (corrupt?)")
        base = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", data, base)
        path = f"{prefix}/{name_at(name_offset)}" if index else prefix
        if flags & 2:  # directory
            count, first = struct.unpack_from(">II", data, base + 6)
            for child in range(first, first + count):
                walk(child, path, depth + 1)
            return
        (offset,) = struct.unpack_from(">I", data, base + 10)
        (size,) = struct.unpack_from(">I", data, payload + offset)
        blob = data[payload + offset + 4 : payload + offset + 4 + size]
        if flags & 4:
            raise ValueError(f"{path.lstrip('/')}: zstd-compressed entries are not supported")
        if flags & 1:
            blob = zlib.decompress(blob[4:])
        files[path.lstrip("/")] = blob

    walk(0, "", 0)
    return files


def parse_readme(text: str) -> dict[str, dict[str, str]]:
    """A GCompris resource README: file name (as listed) -> {"licence", "source", "copyright"}.

    The README is stanzas separated by blank lines, each with `Copyright:`, `License:`, optional
    `Source:` and `Files:` followed by names on the same line or on the next lines.
    """
    entries: dict[str, dict[str, str]] = {}
    for stanza in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        files: list[str] = []
        in_files = False
        for line in stanza.splitlines():
            match = re.match(r"^(Copyright|License|Licence|Source|Comments?|Files)\s*:\s*(.*)$", line.strip())
            if match:
                key, value = match.group(1).lower(), match.group(2).strip()
                in_files = key == "files"
                if in_files:
                    files.extend(value.split())
                else:
                    fields["licence" if key.startswith("licen") else key] = value
            elif in_files and line.strip():
                files.extend(line.split())
        for name in files:
            entries[name] = {k: fields.get(k, "") for k in ("licence", "source", "copyright")}
    return entries


def is_free(licence: str) -> bool:
    """Public domain or CC0 (any spelling GCompris uses)."""
    text = re.sub(r"[\s_-]", "", licence.lower())
    return text.startswith("publicdomain") or text.startswith("cc0")


# --- GCompris paintings: puzzle tiles -> painting ---------------------------------------------


@dataclass(frozen=True)
class Board:
    """A paintings board: its caption, the background size the tile centres refer to, the tiles."""

    number: int
    title: str
    width: int
    height: int
    tiles: tuple[tuple[str, float, float], ...]  # (image path relative to resource/, x, y as fractions)


def parse_board(number: int, qml: str) -> Board:
    """Read boardN_0.qml: the SHAPE_BACKGROUND_IMAGE entry gives the size, the others a tile each,
    whose centre sits at (x * width, y * height) (as babymatch's DropAnswerItem places it)."""
    title_match = re.search(r'qsTr\("([^"]*)"\)', qml)
    size = re.search(r'"width"\s*:\s*(\d+)\s*,\s*"height"\s*:\s*(\d+)', qml)
    if size is None:
        raise ValueError(f"board {number}: no background size")
    tiles = tuple(
        (name, float(x), float(y))
        for name, x, y in re.findall(
            r'"pixmapfile"\s*:\s*"([^"]+)"\s*,\s*"x"\s*:\s*"?([\d.]+)"?\s*,\s*"y"\s*:\s*"?([\d.]+)"?', qml
        )
    )
    if not tiles:
        raise ValueError(f"board {number}: no tiles")
    return Board(number, title_match.group(1) if title_match else "", int(size.group(1)), int(size.group(2)), tiles)


def assemble(board: Board, tile_images: dict[str, Image.Image]) -> Image.Image:
    """Paste every tile centred at its position, crop to the tiles' extent, fill pixel gaps.

    Returns:
        An RGB image. Positions are given to 3 decimals, so neighbouring tiles can leave a gap or
        overlap of a pixel; gaps are filled from their neighbours, edge rows and columns mostly
        left empty are trimmed.
    """
    placed = []
    for name, fx, fy in board.tiles:
        tile = tile_images[name].convert("RGBA")
        left = round(fx * board.width - tile.width / 2)
        top = round(fy * board.height - tile.height / 2)
        placed.append((tile, left, top))
    x0 = min(left for _, left, _ in placed)
    y0 = min(top for _, _, top in placed)
    x1 = max(left + t.width for t, left, _ in placed)
    y1 = max(top + t.height for t, _, top in placed)
    canvas = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    for tile, left, top in placed:
        canvas.alpha_composite(tile, (left - x0, top - y0))
    return fill_gaps(trim_edges(canvas))


def trim_edges(image: Image.Image, threshold: float = 0.5) -> Image.Image:
    """Drop outer rows and columns that are more than `threshold` transparent."""
    alpha = np.asarray(image.getchannel("A")) > 0
    rows, cols = alpha.mean(axis=1), alpha.mean(axis=0)
    keep_rows = np.nonzero(rows >= 1 - threshold)[0]
    keep_cols = np.nonzero(cols >= 1 - threshold)[0]
    if not len(keep_rows) or not len(keep_cols):
        return image
    return image.crop((int(keep_cols[0]), int(keep_rows[0]), int(keep_cols[-1]) + 1, int(keep_rows[-1]) + 1))


def fill_gaps(image: Image.Image) -> Image.Image:
    """RGBA -> RGB with every not fully opaque pixel replaced by the mean of its opaque neighbours
    (repeated until none is left); opaque pixels are kept exactly."""
    array = np.asarray(image.convert("RGBA"), dtype=np.float64)
    rgb, known = array[..., :3].copy(), array[..., 3] >= 255
    if not known.any():
        raise ValueError("no opaque pixel to fill from")
    while not known.all():
        padded_rgb = np.pad(rgb * known[..., None], ((1, 1), (1, 1), (0, 0)))
        padded_known = np.pad(known.astype(np.float64), 1)
        total = np.zeros_like(rgb)
        count = np.zeros(known.shape)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy or dx:
                    window = (slice(1 + dy, 1 + dy + known.shape[0]), slice(1 + dx, 1 + dx + known.shape[1]))
                    total += padded_rgb[window]
                    count += padded_known[window]
        fillable = ~known & (count > 0)
        rgb[fillable] = total[fillable] / count[fillable][:, None]
        known = known | fillable
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


# --- sources -----------------------------------------------------------------------------------


def gcompris_paintings(rcc_dir: Path) -> list[Item]:
    """The paintings activity's boards, reassembled."""
    files = read_rcc((rcc_dir / "paintings.rcc").read_bytes())
    resource = next((p.rsplit("/board/", 1)[0] for p in files if "/board/" in p), None)
    if resource is None:
        raise SourceError("paintings.rcc holds no boards")
    items = []
    for path in sorted(files):
        match = re.search(r"/board/board(\d+)_0\.qml$", path)
        if not match:
            continue
        board = parse_board(int(match.group(1)), files[path].decode("utf-8"))
        tiles = {name: _open(files[f"{resource}/{name}"]) for name, _, _ in board.tiles}
        name = PAINTING_NAMES.get(board.number) or _slug(board.title) or f"board{board.number}"
        caption = f", {board.title}" if board.title else ""
        where = f"GCompris paintings activity (Debian {GCOMPRIS}), board {board.number}{caption}"
        items.append(
            Item("paintings", name, assemble(board, tiles), f"{where}; puzzle tiles reassembled", PAINTING_LICENCE)
        )
    return items


def gcompris_photos(rcc_dir: Path, activities: Iterable[str] = PHOTO_ACTIVITIES) -> list[Item]:
    """Photos whose README entry says public domain or CC0, at least MIN_SHORT_SIDE on the short side."""
    items = []
    for activity in activities:
        bundle = rcc_dir / f"{activity}.rcc"
        if not bundle.is_file():
            continue
        files = read_rcc(bundle.read_bytes())
        for readme_path in sorted(p for p in files if p.rsplit("/", 1)[-1] == "README"):
            folder = readme_path.rsplit("/", 1)[0]
            for listed, info in parse_readme(files[readme_path].decode("utf-8", "replace")).items():
                path = f"{folder}/{listed}"
                if (
                    not is_free(info["licence"])
                    or path not in files
                    or not re.search(r"\.(webp|jpe?g|png)$", listed, re.I)
                ):
                    continue
                image = _open(files[path])
                if min(image.size) < MIN_SHORT_SIDE or _has_transparency(image):
                    continue
                where = f"GCompris ({path.split('activities/', 1)[-1].rsplit('/', 1)[0]})"
                origin = f", from {info['source']}" if info["source"] else ""
                author = f" ({info['copyright']})" if info["copyright"] else ""
                items.append(
                    Item("photos", Path(listed).stem, image.convert("RGB"), where + origin + author, info["licence"])
                )
    return items


def skimage_photos(work: Path) -> list[Item]:
    """scikit-image's colour sample photos: from the installed package, else from its wheel."""
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.submodule_search_locations:
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        if all((data / name).is_file() for name in SKIMAGE_PHOTOS):
            return [
                _skimage_item(name, (data / name).read_bytes(), "installed scikit-image") for name in SKIMAGE_PHOTOS
            ]
    folder = work / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    wheels = sorted(folder.glob("scikit_image-*.whl"))
    if not wheels:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(folder)]
        _run([*pip, "scikit-image"], "pip download scikit-image")
        wheels = sorted(folder.glob("scikit_image-*.whl"))
    if not wheels:
        raise SourceError("pip download scikit-image gave no wheel")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return [_skimage_item(name, wheel.read(f"skimage/data/{name}"), wheels[-1].name) for name in SKIMAGE_PHOTOS]


def _skimage_item(name: str, data: bytes, where: str) -> Item:
    source = f"scikit-image sample data ({where}, skimage/data/{name})"
    return Item("photos", Path(name).stem, _open(data).convert("RGB"), source, SKIMAGE_PHOTOS[name])


def starry_night(root: Path) -> list[Item]:
    path = root / STARRY_NIGHT
    return [
        Item(
            "paintings",
            "van_gogh_starry_night",
            _open(path.read_bytes()).convert("RGB"),
            f"OpenCV samples (Debian {OPENCV_DOC}, /{STARRY_NIGHT})",
            "painting in the public domain; file under the OpenCV samples' Apache-2.0/BSD-3-Clause",
        )  # fmt: skip
    ]


def fetch_deb(package: str, work: Path) -> Path:
    """`apt-get download PACKAGE` into work/debs (kept for reruns); the .deb's path."""
    folder = work / "debs"
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob(f"{package}_*.deb"))
    if not found:
        if shutil.which("apt-get") is None:
            raise SourceError(f"{package}: apt-get is not available (not a Debian/Ubuntu system)")
        _run(["apt-get", "download", package], f"apt-get download {package}", cwd=folder)
        found = sorted(folder.glob(f"{package}_*.deb"))
    if not found:
        raise SourceError(f"{package}: apt-get download gave no .deb")
    return found[-1]


def extract_deb(deb: Path, dest: Path, wanted: Callable[[str], bool]) -> int:
    """Extract the members of a .deb's file tree that `wanted(path)` accepts (paths without "./").

    Uses `dpkg-deb --fsys-tarfile`, streamed, so large packages are never unpacked whole.
    """
    if shutil.which("dpkg-deb") is None:
        raise SourceError(f"{deb.name}: dpkg-deb is not available")
    count = 0
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if not member.isfile() or not wanted(name) or ".." in Path(name).parts:
                    continue
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
                count += 1
    if proc.returncode:
        raise SourceError(f"{deb.name}: dpkg-deb failed (exit {proc.returncode})")
    return count


# --- writing -----------------------------------------------------------------------------------


def write_items(items: list[Item], data_dir: Path, max_side: int) -> list[tuple[str, str, str]]:
    """Save every item as DATA_DIR/KIND/NAME.jpg (names made unique), long side <= max_side.

    Returns:
        SOURCES.md rows (file, source, licence).
    """
    rows = []
    taken: set[str] = set()
    for item in items:
        name = item.name
        number = 2
        while f"{item.kind}/{name}" in taken:
            name, number = f"{item.name}_{number}", number + 1
        taken.add(f"{item.kind}/{name}")
        image = item.image
        if max(image.size) > max_side:
            scale = max_side / max(image.size)
            image = image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS
            )
        target = data_dir / item.kind / f"{name}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(target, "JPEG", quality=92)
        rows.append((f"{item.kind}/{name}.jpg", item.source, item.licence))
    return rows


def copy_fallback(media: Path, data_dir: Path, kinds: set[str], taken: set[str]) -> list[tuple[str, str, str]]:
    """Copy the fallback folder's images of `kinds` that are not there yet, with their SOURCES rows."""
    sources = _read_sources(media / "SOURCES.md")
    rows = []
    for kind in sorted(kinds):
        for path in sorted((media / kind).glob("*.jpg")):
            relative = f"{kind}/{path.name}"
            if relative in taken:
                continue
            (data_dir / kind).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, data_dir / relative)
            source, licence = sources.get(relative, ("", "see the fallback folder's SOURCES.md"))
            rows.append((relative, f"copied from {media} ({source})" if source else f"copied from {media}", licence))
    return rows


def write_sources(rows: list[tuple[str, str, str]], path: Path, report: Report) -> None:
    lines = [
        "# Where each file comes from",
        "",
        "Rebuilt by `scripts/build_dataset.py` from packages: scikit-image (wheel), Debian gcompris-qt-data",
        "and opencv-doc. Photos are public domain or CC0 (per the README inside each GCompris bundle, or the",
        "scikit-image docstrings). The paintings are in the public domain; the GCompris scans are packaged under",
        "GPL-3.0-or-later, starry_night.jpg under the OpenCV samples' Apache-2.0/BSD-3-Clause.",
        "",
    ]
    if report.failed:
        lines += ["Sources that could not be fetched when this was built:", ""]
        lines += [f"- {name}: {why}" for name, why in sorted(report.failed.items())] + [""]
    lines += ["| file | source | licence |", "|---|---|---|"]
    lines += [f"| `{f}` | {s.replace('|', '/')} | {lic.replace('|', '/')} |" for f, s, lic in sorted(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read_sources(path: Path) -> dict[str, tuple[str, str]]:
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


# --- helpers -----------------------------------------------------------------------------------


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _has_transparency(image: Image.Image) -> bool:
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return False
    return bool((np.asarray(image.convert("RGBA"))[..., 3] < 255).any())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().split(" - ")[0]).strip("_")[:60]


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"{what}: {exc}") from None
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SourceError(f"{what} failed (exit {done.returncode}): {tail[0]}")


def build(data_dir: Path, work: Path, max_side: int = 1024, fallback: Path | None = None,
          sources: Iterable[str] = ("skimage", "gcompris", "opencv")) -> Report:  # fmt: skip
    """Fetch every source, write the images and SOURCES.md; returns what was written and what failed."""
    report = Report()
    items: list[Item] = []
    wanted = set(sources)
    if "skimage" in wanted:
        _collect(report, "scikit-image photos", lambda: skimage_photos(work), items)
    if "gcompris" in wanted:
        tree = work / "tree"

        def unpack_gcompris() -> Path:
            rcc = tree / RCC_DIR
            if not (rcc / "paintings.rcc").is_file():
                needed = {f"{a}.rcc" for a in (*PHOTO_ACTIVITIES, "paintings")}
                extract_deb(fetch_deb(GCOMPRIS, work), tree, lambda p: p.startswith(RCC_DIR) and Path(p).name in needed)
            return rcc

        rcc_dir = _collect(report, f"{GCOMPRIS} (download)", unpack_gcompris, None)
        if rcc_dir is not None:
            _collect(report, f"{GCOMPRIS} photos", lambda: gcompris_photos(rcc_dir), items)
            _collect(report, f"{GCOMPRIS} paintings", lambda: gcompris_paintings(rcc_dir), items)
    if "opencv" in wanted:
        tree = work / "tree"

        def unpack_opencv() -> list[Item]:
            if not (tree / STARRY_NIGHT).is_file():
                extract_deb(fetch_deb(OPENCV_DOC, work), tree, lambda p: p == STARRY_NIGHT)
            return starry_night(tree)

        _collect(report, f"{OPENCV_DOC} starry_night.jpg", unpack_opencv, items)
    rows = write_items(items, data_dir, max_side)
    for kind in ("photos", "paintings"):
        report.written[kind] = sum(1 for f, _, _ in rows if f.startswith(kind + "/"))
    if report.failed and fallback is not None and fallback.is_dir():
        kinds = {"photos", "paintings"}
        copied = copy_fallback(fallback, data_dir, kinds, {f for f, _, _ in rows})
        report.fallback = len(copied)
        rows += copied
    write_sources(rows, data_dir / "SOURCES.md", report)
    return report


def _collect(report: Report, what: str, step: Callable[[], object], into: list[Item] | None):  # type: ignore[no-untyped-def]
    try:
        result = step()
    except (SourceError, OSError, ValueError, KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        report.failed[what] = str(exc) or type(exc).__name__
        print(f"  {what}: FAILED: {report.failed[what]}", file=sys.stderr)
        return None
    if into is not None:
        into.extend(result)  # type: ignore[arg-type]
        print(f"  {what}: {len(result)} images", file=sys.stderr)  # type: ignore[arg-type]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, help="where photos/, paintings/ and SOURCES.md go")
    parser.add_argument(
        "--work", type=Path, default=None, help="keep downloads here for reruns (default: a temporary folder)"
    )
    parser.add_argument("--max-side", type=int, default=1024, help="long side bound of every image (default 1024)")
    parser.add_argument("--fallback", type=Path, default=DEFAULT_FALLBACK,
                        help="a folder with photos/, paintings/ and SOURCES.md to copy from when a source fails "
                        "(default: $STYLIZE_MEDIA, when set)")  # fmt: skip
    parser.add_argument(
        "--only", action="append", choices=("skimage", "gcompris", "opencv"), help="fetch only these sources (repeat)"
    )
    args = parser.parse_args(argv)
    sources = args.only or ("skimage", "gcompris", "opencv")
    print(f"building {args.data_dir} from {', '.join(sources)}", file=sys.stderr)
    if args.work is None:
        with tempfile.TemporaryDirectory(prefix="stylize-data-") as temp:
            report = build(args.data_dir, Path(temp), args.max_side, args.fallback, sources)
    else:
        report = build(args.data_dir, args.work, args.max_side, args.fallback, sources)
    print(f"wrote {report.written.get('photos', 0)} photos and {report.written.get('paintings', 0)} paintings "
          f"to {args.data_dir} (SOURCES.md lists each)", file=sys.stderr)  # fmt: skip
    if report.failed:
        print("missing sources:", file=sys.stderr)
        for what, why in sorted(report.failed.items()):
            print(f"  {what}: {why}", file=sys.stderr)
        if report.fallback:
            print(f"filled in {report.fallback} images from {args.fallback}", file=sys.stderr)
        else:
            print("no fallback folder used (--fallback DIR with photos/, paintings/ to fill in)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
