#!/usr/bin/env python3
"""`make demo`: stylise the bundled public-domain photos with the bundled painting, offline.

    python demo/demo.py [--out demo-output] [--cell 256] [--size 512]

First with the model a user who names none gets, then with the other image model when its
weights are found, runs

    stylize grid demo/photos/*.jpg -s demo/paintings/ [-m MODEL] -o OUT/sheet[-MODEL].png --outputs OUT/MODEL/

with the default weights (stylize's own trained weights unless $STYLIZE_WEIGHTS, ./weights or
the user data folder hold others; with only those, the default model is the one whose weights
carry styles best, and the command says so), and prints where the files are. The paintings are
Starry Night, which stylize's own weights were trained on, and two that training never read.
Exits 2 when the default model has no weights at all (the message says where it looked and how
to get them).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAINTINGS = HERE / "paintings"
MODELS = ("adaattn", "stya2k")  # the image models; the default one is required, the other shown when available


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output", help="output folder (default demo-output/)")
    parser.add_argument("--cell", type=int, default=256, help="cell side of the contact sheet (default 256)")
    parser.add_argument("--size", type=int, default=512, help="long side the photos are stylised at (default 512)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from stylize.errors import WeightsError
    from stylize.weights.defaults import default_model
    from stylize.weights.locate import resolve
    from stylize.weights.registry import get_spec

    photos = sorted((HERE / "photos").glob("*.jpg"))
    default = default_model("image").name
    sheets: list[tuple[str, Path]] = []
    for model in (default, *(m for m in MODELS if m != default)):
        try:
            files = resolve(get_spec(model))
        except WeightsError as exc:
            if model == default:
                print(f"error: {exc.message}", file=sys.stderr)
                if exc.hint:
                    print(f"hint: {exc.hint}", file=sys.stderr)
                return 2
            print(f"{model}: skipped, no weights ({exc.message.split(': ', 1)[0]})", file=sys.stderr)
            continue
        sheet = args.out / ("sheet.png" if model == default else f"sheet-{model}.png")
        command = [
            sys.executable, "-m", "stylize", "grid", *map(str, photos), "-s", str(PAINTINGS),
            *([] if model == default else ["-m", model]),
            "-o", str(sheet), "--outputs", str(args.out / model), "--cell", str(args.cell), "--size", str(args.size),
        ]  # fmt: skip
        print(f"{model} ({'stylize own weights' if files.bundled else files.location}):", file=sys.stderr)
        print("  " + shlex.join(["stylize", *map(_short, command[3:])]), file=sys.stderr)
        done = subprocess.run(command, cwd=ROOT)
        if done.returncode:
            return done.returncode
        sheets.append((model, sheet))
    print("\nThe demo is ready:")
    for model, sheet in sheets:
        print(f"  {model:<8} contact sheet {sheet}, stylised photos in {args.out / model}/")
    return 0


def _short(argument: str) -> str:
    """A path inside the checkout, relative to it (how a user in the checkout would type it)."""
    path = Path(argument)
    return str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else argument


if __name__ == "__main__":
    sys.exit(main())
