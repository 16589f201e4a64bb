"""The official computation, step for step: the yardstick the optimised path is tested and timed against.

Follows `adaattn_model.py`/`networks.py` (AdaAttN), `inference_frame.py` (video) and
`A2K_model.py`/`networks.py` (StyA2K) on the same modules and weights: whole tensors, every
style quantity recomputed per pair, the size rules of the released code (AdaAttN: sides multiples
of 16; StyA2K: square, same-size style, side a multiple of 64). Memory grows quadratically.
"""

from __future__ import annotations

import torch
from torch import Tensor

from stylize.models.adaattn import AdaAttN, AdaAttNNet, AdaAttNVideoNet, sample_positions
from stylize.models.common import EPS, mvn, shallow_key
from stylize.models.config import OFFICIAL_SEED
from stylize.models.network import StyleNetwork
from stylize.models.stya2k import A2K, StyA2KNet, block, unblock


def adaattn_layer(
    module: AdaAttN, content: Tensor, style: Tensor, content_key: Tensor, style_key: Tensor, seed: int
) -> Tensor:
    """One official AdaAttN (or cosine `AttnAdaINCos`) call on whole tensors."""
    queries, keys, values = module.f(content_key), module.g(style_key), module.h(style)
    n, _, hs, ws = keys.shape
    keys = keys.view(n, -1, hs * ws)
    values = values.view(n, -1, hs * ws)
    if hs * ws > module.max_sample:
        index = sample_positions(hs * ws, module.max_sample, seed).to(keys.device)
        keys, values = keys[:, :, index], values[:, :, index]
    values = values.transpose(1, 2)
    _, _, h, w = queries.shape
    queries = queries.view(n, -1, h * w).permute(0, 2, 1)
    scores = torch.bmm(queries, keys)
    if module.cosine:
        scores = scores / (queries.norm(dim=-1, keepdim=True) + EPS) / (keys.norm(dim=1, keepdim=True) + EPS)
        scores = torch.relu(scores + 1.0)
        attn = scores / (scores.sum(dim=-1, keepdim=True) + EPS)
    else:
        attn = torch.softmax(scores, dim=-1)
    mean = torch.bmm(attn, values)
    std = torch.sqrt(torch.relu(torch.bmm(attn, values**2) - mean**2))
    mean = mean.view(n, h, w, -1).permute(0, 3, 1, 2)
    std = std.view(n, h, w, -1).permute(0, 3, 1, 2)
    return std * mvn(content) + mean


def adaattn(net: AdaAttNNet, content: Tensor, style: Tensor, seed: int = OFFICIAL_SEED) -> Tensor:
    cf, sf = net.encoder.features(content), net.encoder.features(style)

    def layer(module: AdaAttN, i: int) -> Tensor:
        return adaattn_layer(module, cf[i], sf[i], shallow_key(cf, i), shallow_key(sf, i), seed)

    skip = layer(net.adaattn_3, 2)
    t = net.transformer
    merged = t.merge(layer(t.attn_adain_4_1, 3), layer(t.attn_adain_5_1, 4))
    return net.decoder(merged, skip)


def adaattn_video(net: AdaAttNVideoNet, content: Tensor, style: Tensor, seed: int = OFFICIAL_SEED) -> Tensor:
    cf, sf = net.encoder.features(content, 3), net.encoder.features(style, 3)
    out = adaattn_layer(net.transformer, cf[2], sf[2], shallow_key(cf, 2), shallow_key(sf, 2), seed)
    return net.decoder(out)


def a2k_layer(module: A2K, content: Tensor, style: Tensor) -> Tensor:
    """One official A2K call: content and style square and of the same size."""
    p = module.region
    n, c, h, w = content.shape
    nc, ns = mvn(content), mvn(style)
    q1, k1, v1 = block(module.q(nc), p), block(module.k(ns), p), block(module.v(style), p)
    q2, k2, v2 = block(module.q2(nc), p), block(module.k2(ns), p), block(module.v2(style), p)
    r = q1.shape[-1]
    # Distributed attention over the aggregated region keys.
    centre_k, centre_v = k1.mean(dim=-1), v1.mean(dim=-1)
    sim = torch.sigmoid(module.sim_alpha * torch.einsum("nhdl,nhdlr->nhlr", centre_k, k1) + module.sim_beta)
    region_k = (torch.einsum("nhlr,nhdlr->nhdl", sim, k1) + centre_k) / (r + 1)
    region_v = (torch.einsum("nhlr,nhdlr->nhdl", sim, v1) + centre_v) / (r + 1)
    logits = torch.einsum("nhdxy,nhdz->nhyxz", q1, region_k)
    distributed = torch.einsum("nhyxz,nhdz->nhdxy", torch.softmax(logits, dim=-1), region_v)
    # Progressive attention: the best whole style region, then attention inside it.
    match = torch.einsum("nhdxy,nhdzy->nhxz", q2, k2).argmax(dim=-1)
    gather = match[:, :, None, :, None].expand(-1, -1, k2.shape[2], -1, r)
    k_sel, v_sel = torch.gather(k2, 3, gather), torch.gather(v2, 3, gather)
    logits2 = torch.einsum("nhdxy,nhdxz->nhxyz", q2, k_sel)
    progressive = torch.einsum("nhxyz,nhdxz->nhdxy", torch.softmax(logits2, dim=-1), v_sel)
    size = (h, w)
    return module.fusion1(unblock(distributed, p, size)) + module.fusion2(unblock(progressive, p, size)) + content


def stya2k(net: StyA2KNet, content: Tensor, style: Tensor, seed: int = OFFICIAL_SEED) -> Tensor:
    cf, sf = net.encoder.features(content), net.encoder.features(style)
    skip = a2k_layer(net.A2K, cf[2], sf[2])
    t = net.transform
    merged = t.merge(a2k_layer(t.attn_adain_4_1, cf[3], sf[3]), a2k_layer(t.attn_adain_5_1, cf[4], sf[4]))
    return net.decoder(merged, skip)


def reference_forward(net: StyleNetwork, content: Tensor, style: Tensor, seed: int = OFFICIAL_SEED) -> Tensor:
    """The official output (N, 3, H, W) for a network, on the sizes the released code supports."""
    if isinstance(net, AdaAttNNet):
        return adaattn(net, content, style, seed)
    if isinstance(net, AdaAttNVideoNet):
        return adaattn_video(net, content, style, seed)
    if isinstance(net, StyA2KNet):
        return stya2k(net, content, style, seed)
    raise TypeError(f"no reference computation for {type(net).__name__}")
