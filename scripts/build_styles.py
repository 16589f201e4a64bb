#!/usr/bin/env python3
"""Many more training styles than the paintings alone, all derived from free training material.

    python scripts/build_styles.py [--paintings .traindata/style] [--photos .traindata/content]
                                   [--out .traindata/styles] [--work .cache/styles-work] [--seed 0]

Eighteen paintings teach a decoder one average palette: the held-out figures (bench/quality.py
--heldout) showed outputs whose colours barely depend on the style. Arbitrary style transfer learns
to carry an unseen style from many styles, so this writes about 350 of them, each a JPEG with a
long side of 512, and OUT/SOURCES.md saying how each was made:

- palette/  each training painting recoloured: its Lab statistics moved to another painting's
            (Reinhard transfer), its hue turned by a fifth of a circle or more, its RGB channels
            permuted: the same brushwork in other colours, so colour must come from the style.
- texture/  the surface patterns of Debian's `krita-data` (canvas, paper, crosshatching, rock,
            bark, ...; GPL/LGPL like Krita) as gradient maps onto palettes of 2-5 colours taken
            from the training paintings or drawn at random.
- npr/      training photos through OpenCV's non-photorealistic filters (`stylization`, colour
            `pencilSketch`, edge-preserving smoothing posterised to a painting's palette).

Only training images are read: the paintings and photos given (by default what
`scripts/pack_training_data.py` packed, which already refuses the held-out evaluation set), and any
input that is a held-out picture stops the script. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
from build_dataset import extract_deb, fetch_deb
from pack_training_data import SUFFIXES, Heldout
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LONG_SIDE = 512
KRITA_PATTERNS = "usr/share/krita/patterns/"
# Colourings per source: enough variety without letting one source dominate the sampler.
RECOLOURINGS, TEXTURE_COLOURINGS = 6, 4


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)


def load_rgb(path: Path, heldout: Heldout) -> np.ndarray:
    """(H, W, 3) uint8, long side at most LONG_SIDE; exits when the file is a held-out picture."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    why = heldout.match(path, image)
    if why is not None:
        sys.exit(f"error: {path} is {why}: training must never read it")
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.BICUBIC)
    return np.asarray(image)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def reinhard(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`source` with the per-channel Lab mean and spread of `target`."""
    s, t = to_lab(source), to_lab(target)
    s_mean, s_std = s.reshape(-1, 3).mean(0), s.reshape(-1, 3).std(0) + 1e-6
    t_mean, t_std = t.reshape(-1, 3).mean(0), t.reshape(-1, 3).std(0)
    return from_lab((s - s_mean) / s_std * t_std + t_mean)


def turn_hue(rgb: np.ndarray, turn: float) -> np.ndarray:
    """Hue rotated by `turn` of a full circle (OpenCV's 8-bit hue runs 0..179)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(turn * 180)) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def palette_of(rgb: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` dominant colours (k-means on a pixel sample), (count, 3) float32 in [0, 255], dark to light."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    pixels = pixels[rng.choice(len(pixels), size=min(len(pixels), 4000), replace=False)]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(int(rng.integers(1 << 30)))
    _, _, centres = cv2.kmeans(pixels, count, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return centres[np.argsort(centres @ np.array([0.299, 0.587, 0.114], dtype=np.float32))]


def random_palette(count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` colours of random hues and saturations with rising value, (count, 3) float32 in [0, 255]."""
    hsv = np.stack(
        [rng.uniform(0, 180, count), rng.uniform(60, 255, count), np.sort(rng.uniform(30, 255, count))], axis=1
    )
    rgb = cv2.cvtColor(hsv.astype(np.uint8)[None], cv2.COLOR_HSV2RGB)[0]
    return rgb.astype(np.float32)


def gradient_map(grey: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Luminance (H, W) uint8 mapped piecewise-linearly through the palette's colours."""
    levels = grey.astype(np.float32) / 255.0 * (len(palette) - 1)
    low = np.floor(levels).astype(np.int64).clip(0, len(palette) - 2)
    frac = (levels - low)[..., None]
    return np.clip(palette[low] * (1 - frac) + palette[low + 1] * frac + 0.5, 0, 255).astype(np.uint8)


def stretch(grey: np.ndarray) -> np.ndarray:
    """Contrast stretched to the 1st..99th percentile: faint paper grain becomes a visible texture."""
    lo, hi = np.percentile(grey, [1, 99])
    return np.clip((grey.astype(np.float32) - lo) / max(hi - lo, 1.0) * 255.0, 0, 255).astype(np.uint8)


def posterise(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each pixel of an edge-preserving smoothing replaced by the nearest palette colour."""
    smooth = cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=40, sigma_r=0.4)
    pixels = smooth.reshape(-1, 1, 3).astype(np.float32)
    nearest = np.argmin(((pixels - palette[None]) ** 2).sum(-1), axis=1)
    return palette[nearest].reshape(rgb.shape).astype(np.uint8)


def krita_patterns(work: Path) -> list[Path]:
    """The larger surface patterns of `krita-data` (extracted once into work/)."""
    folder = work / KRITA_PATTERNS
    if not folder.is_dir():
        deb = fetch_deb("krita-data", work)
        extract_deb(deb, work, lambda name: name.startswith(KRITA_PATTERNS) and name.endswith(".png"))
    found = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as opened:
            if min(opened.size) >= 256:
                found.append(path)
    return found


def build(paintings: list[Path], photos: list[Path], work: Path, out: Path, seed: int) -> list[str]:
    """Write the styles under `out`; returns the SOURCES.md table rows."""
    rng = np.random.default_rng(seed)
    heldout = Heldout.load()
    art = {p.stem: load_rgb(p, heldout) for p in paintings}
    palettes = {name: palette_of(rgb, 5, rng) for name, rgb in art.items()}
    rows: list[str] = []

    def save(kind: str, name: str, rgb: np.ndarray, how: str) -> None:
        (out / kind).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(out / kind / f"{name}.jpg", quality=90)
        rows.append(f"| `{kind}/{name}.jpg` | {how} |")

    names = list(art)
    for name, rgb in art.items():
        save("palette", f"{name}-original", rgb, f"training painting {name}")
        others = [n for n in names if n != name]
        for k in range(RECOLOURINGS):
            if k < 3:
                other = others[int(rng.integers(len(others)))]
                save(
                    "palette", f"{name}-{k}-as-{other}", reinhard(rgb, art[other]), f"{name}, Lab statistics of {other}"
                )
            elif k < 5:
                turn = float(rng.uniform(0.2, 0.8))
                save(
                    "palette",
                    f"{name}-{k}-hue{round(turn * 360)}",
                    turn_hue(rgb, turn),
                    f"{name}, hue turned {turn:.2f}",
                )
            else:
                order = [(1, 2, 0), (2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 0, 2)][int(rng.integers(5))]
                permuted = np.ascontiguousarray(rgb[..., list(order)])
                save("palette", f"{name}-{k}-rgb{''.join(map(str, order))}", permuted, f"{name}, channels {order}")

    for path in krita_patterns(work):
        grey = stretch(np.asarray(Image.open(path).convert("L")))
        for k in range(TEXTURE_COLOURINGS):
            count = int(rng.integers(2, 6))
            if k % 2 == 0:
                source = names[int(rng.integers(len(names)))]
                palette = palettes[source][np.sort(rng.choice(5, size=count, replace=False))]
                how = f"krita-data pattern {path.name} (GPL/LGPL), gradient map, {count} colours of {source}"
            else:
                palette = random_palette(count, rng)
                how = f"krita-data pattern {path.name} (GPL/LGPL), gradient map, {count} random colours"
            save("texture", f"{path.stem}-{k}", gradient_map(grey, palette), how)

    for index, path in enumerate(photos):
        photo = load_rgb(path, heldout)
        kind = index % 3
        if kind == 0:
            styled = cv2.stylization(photo, sigma_s=float(rng.uniform(40, 120)), sigma_r=float(rng.uniform(0.3, 0.6)))
            how = "OpenCV stylization"
        elif kind == 1:
            _, styled = cv2.pencilSketch(photo, sigma_s=60, sigma_r=0.07, shade_factor=float(rng.uniform(0.03, 0.08)))
            how = "OpenCV pencilSketch (colour)"
        else:
            source = names[int(rng.integers(len(names)))]
            styled = posterise(photo, palettes[source])
            how = f"edge-preserving smoothing posterised to the palette of {source}"
        save("npr", f"{path.stem}-{index}", styled, f"training photo {path.name}, {how}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paintings", type=Path, default=ROOT / ".traindata" / "style")
    parser.add_argument("--photos", type=Path, default=ROOT / ".traindata" / "content")
    parser.add_argument("--out", type=Path, default=ROOT / ".traindata" / "styles")
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "styles-work")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paintings, photos = images_in(args.paintings), images_in(args.photos)
    if len(paintings) < 2 or not photos:
        sys.exit(f"error: need at least 2 paintings in {args.paintings} and photos in {args.photos} (make train-data)")
    if args.out.exists():
        shutil.rmtree(args.out)
    rows = build(paintings, photos, args.work, args.out, args.seed)
    header = "# Training styles (made by scripts/build_styles.py)\n\n| file | how |\n|---|---|\n"
    (args.out / "SOURCES.md").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(rows)} styles")


if __name__ == "__main__":
    main()
