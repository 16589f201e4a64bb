#!/usr/bin/env python3
"""Pack training images small enough to travel to a GPU machine with the repository.

    python scripts/pack_training_data.py [--content DIR ...] [--style DIR ...] [--out .traindata]

Each image is reduced to a long side of 768 (bicubic) and saved as JPEG quality 90 under
OUT/content/ and OUT/style/, with OUT/SOURCES.md listing where each came from (the rows of the
source folders' SOURCES.md where there is one). Defaults: ../shared/media/photos (content) and
../shared/media/paintings (style). The result is ignored by git.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


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


def pack(folders: list[Path], out: Path, long_side: int, quality: int) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for folder in folders:
        known = provenance(folder)
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
            with Image.open(path) as opened:
                image = opened.convert("RGB")
            w, h = image.size
            if max(w, h) > long_side:
                scale = long_side / max(w, h)
                image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BICUBIC)
            name = f"{path.stem}.jpg"
            if (out / name).exists():
                name = f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}.jpg"
            image.save(out / name, format="JPEG", quality=quality)
            lines.append(f"| `{out.name}/{name}` | {known.get(path.name, str(path))} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", type=Path, action="append", help="content folder (repeat)")
    parser.add_argument("--style", type=Path, action="append", help="style folder (repeat)")
    parser.add_argument("--out", type=Path, default=ROOT / ".traindata")
    parser.add_argument("--long-side", type=int, default=768)
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args()
    content = args.content or [MEDIA / "photos"]
    style = args.style or [MEDIA / "paintings"]
    if args.out.exists():
        shutil.rmtree(args.out)
    rows = pack(content, args.out / "content", args.long_side, args.quality)
    rows += pack(style, args.out / "style", args.long_side, args.quality)
    header = (
        "# Training images (packed by scripts/pack_training_data.py)\n\n| file | source | licence |\n|---|---|---|\n"
    )
    (args.out / "SOURCES.md").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    count_c = len(list((args.out / "content").iterdir()))
    count_s = len(list((args.out / "style").iterdir()))
    print(f"{args.out}: {count_c} content, {count_s} style images, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
