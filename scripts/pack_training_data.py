#!/usr/bin/env python3
"""Pack training images small enough to travel to a GPU machine with the repository.

    python scripts/pack_training_data.py [--content DIR ...] [--style DIR ...] [--out .traindata]

Each image is reduced to a long side of 768 (bicubic) and saved as JPEG quality 90 under
OUT/content/ and OUT/style/, with OUT/SOURCES.md listing where each came from (the rows of the
source folders' SOURCES.md where there is one). Defaults: $STYLIZE_MEDIA/photos (content) and
$STYLIZE_MEDIA/paintings (style): the project's media set, which is not part of the repository.
The result is ignored by git.

Training never reads the held-out evaluation images (tests/data/heldout): an image that is one of
them, by file hash or as the same picture at another size or quality (grey 32x32 thumbnails
correlating above SAME_PICTURE), is skipped and named in the output and in OUT/SOURCES.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
HELDOUT = ROOT / "tests" / "data" / "heldout"
# Resized or re-encoded copies of one picture correlate above 0.99; different pictures of the
# training and held-out sets stay below 0.85 (tests/data/heldout/SOURCES.md).
SAME_PICTURE = 0.95


def media_folder() -> Path:
    """$STYLIZE_MEDIA: the folder with the training photos/ and paintings/ (not part of the repository)."""
    folder = os.environ.get("STYLIZE_MEDIA")
    if not folder:
        sys.exit("error: set STYLIZE_MEDIA to the folder with photos/ and paintings/, or give --content/--style")
    return Path(folder)


def thumbnail(image: Image.Image) -> np.ndarray:
    """A picture's fingerprint that survives resizing and JPEG: 32x32 grey, zero mean, unit norm, (1024,)."""
    grey = np.asarray(image.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float64).ravel()
    grey = grey - grey.mean()
    return grey / (np.linalg.norm(grey) + 1e-9)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Heldout:
    """The evaluation images training must not read: file hashes and thumbnails, by file."""

    hashes: dict[str, Path]
    thumbnails: dict[Path, np.ndarray]

    @staticmethod
    def load(folder: Path = HELDOUT) -> Heldout:
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
        thumbnails = {}
        for path in paths:
            with Image.open(path) as opened:
                thumbnails[path] = thumbnail(opened)
        return Heldout({sha256(p): p for p in paths}, thumbnails)

    def match(self, path: Path, image: Image.Image) -> str | None:
        """Why `path` (decoded as `image`) is a held-out image, or None when it is not one."""
        same = self.hashes.get(sha256(path))
        if same is not None:
            return f"the same file as held-out {same.parent.name}/{same.name}"
        fingerprint = thumbnail(image)
        for other, candidate in self.thumbnails.items():
            correlation = float(fingerprint @ candidate)
            if correlation > SAME_PICTURE:
                return f"the same picture as held-out {other.parent.name}/{other.name} (thumbnails r={correlation:.3f})"
        return None


def provenance(folder: Path) -> dict[str, str]:
    """File name -> its row of a SOURCES.md table in the folder or its parent, where there is one."""
    rows = {}
    for candidate in (folder / "SOURCES.md", folder.parent / "SOURCES.md"):
        if candidate.is_file():
            for line in candidate.read_text(encoding="utf-8").splitlines():
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) >= 3 and cells[0].startswith("`"):
                    rows[Path(cells[0].strip("`")).name] = f"{cells[1]} | {cells[2]}"
            break
    return rows


def pack(folders: list[Path], out: Path, long_side: int, quality: int, heldout: Heldout) -> tuple[list[str], list[str]]:
    """Pack the images of `folders` into `out`.

    Returns:
        The SOURCES.md rows of the packed images, and one line per skipped held-out image.
    """
    out.mkdir(parents=True, exist_ok=True)
    lines, skipped = [], []
    for folder in folders:
        known = provenance(folder)
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
            with Image.open(path) as opened:
                image = opened.convert("RGB")
            reason = heldout.match(path, image)
            if reason is not None:
                skipped.append(f"{path}: {reason}")
                continue
            w, h = image.size
            if max(w, h) > long_side:
                scale = long_side / max(w, h)
                image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BICUBIC)
            name = f"{path.stem}.jpg"
            if (out / name).exists():
                name = f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}.jpg"
            image.save(out / name, format="JPEG", quality=quality)
            lines.append(f"| `{out.name}/{name}` | {known.get(path.name, str(path))} |")
    return lines, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", type=Path, action="append", help="content folder (repeat)")
    parser.add_argument("--style", type=Path, action="append", help="style folder (repeat)")
    parser.add_argument("--out", type=Path, default=ROOT / ".traindata")
    parser.add_argument("--long-side", type=int, default=768)
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args()
    content = args.content or [media_folder() / "photos"]
    style = args.style or [media_folder() / "paintings"]
    if args.out.exists():
        shutil.rmtree(args.out)
    heldout = Heldout.load()
    rows, skipped = pack(content, args.out / "content", args.long_side, args.quality, heldout)
    style_rows, style_skipped = pack(style, args.out / "style", args.long_side, args.quality, heldout)
    rows, skipped = rows + style_rows, skipped + style_skipped
    header = (
        "# Training images (packed by scripts/pack_training_data.py)\n\n| file | source | licence |\n|---|---|---|\n"
    )
    note = ""
    if skipped:
        note = "\nSkipped, held out for evaluation (tests/data/heldout):\n\n" + "".join(f"- {s}\n" for s in skipped)
    (args.out / "SOURCES.md").write_text(header + "\n".join(rows) + "\n" + note, encoding="utf-8")
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    count_c = len(list((args.out / "content").iterdir()))
    count_s = len(list((args.out / "style").iterdir()))
    print(f"{args.out}: {count_c} content, {count_s} style images, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
