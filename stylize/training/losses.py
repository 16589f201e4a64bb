"""The papers' training losses (official `adaattn_model.py` and `A2K_model.py` of Huage001/AdaAttN and
LearningHx/StyA2K), plus the video model's inter-frame similarity loss (ours; the official repo has
no video training code).

Features are lists [relu1_1, ..., relu5_1] of (N, C, h, w) tensors from the frozen encoder. All
losses are computed in float32. The attention targets depend on the content and style only, so
they are built without gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylize.models.adaattn import sample_positions
from stylize.models.common import mean_std, mvn, shallow_key
from stylize.models.stya2k import block, unblock

# Style positions the parameter-free AdaAttN attends to (the official `max_sample`, 64 x 64).
LOCAL_SAMPLE = 64 * 64
# Region side of the parameter-free A2K per layer (relu2_1 ... relu5_1).
A2K_REGION = {1: 16, 2: 8, 3: 8, 4: 4}


def global_loss(stylised: list[Tensor], style: list[Tensor], layers: range) -> Tensor:
    """Sum over `layers` of MSE(mean) + MSE(std) between stylised and style features (unbiased std)."""
    total = stylised[0].new_zeros((), dtype=torch.float32)
    for i in layers:
        mean_o, std_o = mean_std(stylised[i].float())
        mean_s, std_s = mean_std(style[i].float())
        total = total + F.mse_loss(mean_o, mean_s) + F.mse_loss(std_o, std_s)
    return total


def content_loss(stylised: list[Tensor], content: list[Tensor], layers: range = range(3, 5)) -> Tensor:
    """MSE between mean-variance-normalised features (weight 0 in both papers; reported for validation)."""
    total = stylised[0].new_zeros((), dtype=torch.float32)
    for i in layers:
        total = total + F.mse_loss(mvn(stylised[i].float()), mvn(content[i].float()))
    return total


@torch.no_grad()
def adaattn_target(content: list[Tensor], style: list[Tensor], layer: int, seed: int) -> Tensor:
    """The parameter-free AdaAttN of the local feature loss at `layer`: no f, g, h; keys are the
    shallow-concatenated normalised features; at most `LOCAL_SAMPLE` style positions, drawn with
    `seed` as the official `torch.manual_seed(seed); randperm`. Returns (N, C, h, w) float32."""
    c_key = shallow_key([f.float() for f in content[: layer + 1]], layer)
    s_key = shallow_key([f.float() for f in style[: layer + 1]], layer)
    values = style[layer].float()
    n, _, hs, ws = s_key.shape
    keys = s_key.reshape(n, -1, hs * ws)
    values = values.reshape(n, values.shape[1], hs * ws)
    if hs * ws > LOCAL_SAMPLE:
        index = sample_positions(hs * ws, LOCAL_SAMPLE, seed).to(keys.device)
        keys, values = keys[:, :, index], values[:, :, index]
    values = values.transpose(1, 2)
    _, _, h, w = c_key.shape
    queries = c_key.reshape(n, -1, h * w).transpose(1, 2)
    attn = torch.softmax(torch.bmm(queries, keys), dim=-1)
    mean = torch.bmm(attn, values)
    std = torch.sqrt(torch.relu(torch.bmm(attn, values * values) - mean * mean))
    mean = mean.transpose(1, 2).reshape(n, -1, h, w)
    std = std.transpose(1, 2).reshape(n, -1, h, w)
    return std * mvn(content[layer].float()) + mean


def local_loss(stylised: list[Tensor], content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
    """AdaAttN's local feature loss: sum over relu2_1 ... relu5_1 of MSE(stylised, parameter-free AdaAttN)."""
    total = stylised[0].new_zeros((), dtype=torch.float32)
    for i in range(1, 5):
        total = total + F.mse_loss(stylised[i].float(), adaattn_target(content, style, i, seed))
    return total


@torch.no_grad()
def a2k_target(content: list[Tensor], style: list[Tensor], layer: int) -> Tensor:
    """StyA2K's parameter-free all-to-key attention at `layer`, plus the content feature.

    No convolutions and no alpha/beta (sim = sigmoid(dis)); queries and keys are the shallow
    keys, values the raw style feature; regions of `A2K_REGION[layer]`. Content and style must
    have the same size, a multiple of the region side. Returns (N, C, h, w) float32.
    """
    p = A2K_REGION[layer]
    c_key = shallow_key([f.float() for f in content[: layer + 1]], layer)
    s_key = shallow_key([f.float() for f in style[: layer + 1]], layer)
    value = style[layer].float()
    q, k, v = block(c_key, p), block(s_key, p), block(value, p)  # (N, heads, d, L, r)
    r = q.shape[-1]
    # Distributed attention: every position against each style region's aggregated key.
    centre_k, centre_v = k.mean(dim=-1), v.mean(dim=-1)
    sim = torch.sigmoid(torch.einsum("nhdl,nhdlr->nhlr", centre_k, k))
    region_k = (torch.einsum("nhlr,nhdlr->nhdl", sim, k) + centre_k) / (r + 1)
    region_v = (torch.einsum("nhlr,nhdlr->nhdl", sim, v) + centre_v) / (r + 1)
    logits = torch.einsum("nhdxy,nhdz->nhyxz", q, region_k)
    distributed = torch.einsum("nhyxz,nhdz->nhdxy", torch.softmax(logits, dim=-1), region_v)
    # Progressive attention: the best whole style region, then attention inside it.
    match = torch.einsum("nhdxy,nhdzy->nhxz", q, k).argmax(dim=-1)
    index_k = match[:, :, None, :, None].expand(-1, -1, k.shape[2], -1, r)
    index_v = match[:, :, None, :, None].expand(-1, -1, v.shape[2], -1, r)
    k_sel, v_sel = torch.gather(k, 3, index_k), torch.gather(v, 3, index_v)
    logits2 = torch.einsum("nhdxy,nhdxz->nhxyz", q, k_sel)
    progressive = torch.einsum("nhxyz,nhdxz->nhdxy", torch.softmax(logits2, dim=-1), v_sel)
    size = (int(value.shape[-2]), int(value.shape[-1]))
    return unblock(distributed, p, size) + unblock(progressive, p, size) + content[layer].float()


def a2k_loss(stylised: list[Tensor], content: list[Tensor], style: list[Tensor]) -> Tensor:
    """StyA2K's A2K loss: sum over relu2_1 ... relu5_1 of MSE(stylised, parameter-free A2K)."""
    total = stylised[0].new_zeros((), dtype=torch.float32)
    for i in range(1, 5):
        total = total + F.mse_loss(stylised[i].float(), a2k_target(content, style, i))
    return total


def distance_matrix(a: Tensor, b: Tensor) -> Tensor:
    """Cosine distances between every position of `a` and of `b`, (N, C, S) each -> (N, S, S),
    each row divided by its sum (a distribution over b's positions)."""
    a = F.normalize(a.float(), dim=1)
    b = F.normalize(b.float(), dim=1)
    distance = 1.0 - torch.bmm(a.transpose(1, 2), b)
    return distance / (distance.sum(dim=-1, keepdim=True) + 1e-8)


def similarity_loss(
    stylised: tuple[list[Tensor], list[Tensor]],
    content: tuple[list[Tensor], list[Tensor]],
    layers: range,
    positions: int,
    generator: torch.Generator,
) -> Tensor:
    """The video model's inter-frame similarity loss.

    For two frames A and B, the normalised cosine-distance matrix between A's and B's feature
    positions should be the same for the stylised pair as for the content pair: how far apart
    two places are (in feature space) must not change when both frames are stylised.
    Sum over `layers` of the mean L1 distance between the rows (each a distribution), in [0, 2].
    At most `positions` positions per layer, the same ones in all four maps, drawn from `generator`.
    """
    total = stylised[0][0].new_zeros((), dtype=torch.float32)
    for i in layers:
        n, c, h, w = stylised[0][i].shape
        count = min(positions, h * w)
        index = torch.randperm(h * w, generator=generator)[:count].to(stylised[0][i].device)

        def pick(feat: Tensor) -> Tensor:
            return feat.reshape(feat.shape[0], feat.shape[1], -1)[:, :, index]  # noqa: B023

        with torch.no_grad():
            target = distance_matrix(pick(content[0][i]), pick(content[1][i]))
        found = distance_matrix(pick(stylised[0][i]), pick(stylised[1][i]))
        total = total + (found - target).abs().sum(dim=-1).mean()
    return total
