"""StyA2K "all-to-key" attention network (official `models/networks.py`, `A2K_model.py` of LearningHx/StyA2K).

NOTE: the released code only runs square contents with a same-size style (its `fold` takes one
side, and the style's regions are reshaped with the content's region count). Here `fold` gets
(h, w), distributed attention attends to the style's own regions and progressive attention picks
among them, so any content and style size works; on the released shapes the numbers are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylize.models.adaattn import project
from stylize.models.common import mean_std, mvn, scores, softmax_
from stylize.models.config import Compute
from stylize.models.decoder import Decoder
from stylize.models.kernels.fused import merge_deep
from stylize.models.kernels.scratch import KernelMemory
from stylize.models.network import Outputs, StyleMemory, StyleNetwork, float32_attention
from stylize.models.sizing import iter_chunks, rows_per_chunk
from stylize.models.vgg import Encoded

HEADS = 8
# Region side p per layer (relu3_1, relu4_1: 8 x 8 regions; relu5_1: 4 x 4).
REGION = {2: 8, 3: 8, 4: 4}


def block(x: Tensor, p: int) -> Tensor:
    """(N, C, h, w) -> (N, heads, C / heads, L, p*p): non-overlapping p x p regions, row-major."""
    n, c = x.shape[:2]
    regions = F.unfold(x, kernel_size=p, stride=p)  # (N, C * p*p, L), channel-major
    regions = regions.view(n, c, p * p, -1).transpose(2, 3)
    return regions.reshape(n, HEADS, c // HEADS, regions.shape[2], p * p)


def unblock(y: Tensor, p: int, size: tuple[int, int]) -> Tensor:
    """Inverse of `block`: (N, heads, d, L, p*p) -> (N, heads * d, h, w)."""
    n, heads, d, regions, r = y.shape
    flat = y.reshape(n, heads * d, regions, r).transpose(2, 3).reshape(n, heads * d * r, regions)
    return F.fold(flat, output_size=size, kernel_size=p, stride=p)


@dataclass
class A2KMemory:
    """What one A2K layer keeps of a style (region count L_s, d channels per head, r = p*p).

    Attributes:
        region_keys, region_values: (N, heads, d, L_s) aggregated keys and values of distributed attention.
        keys, values: (N, heads, L_s, d, r) the style's regions for progressive attention.
        flat_keys: (N, heads, d*r, L_s) the same keys laid out for whole-region matching.
    """

    region_keys: Tensor
    region_values: Tensor
    keys: Tensor
    values: Tensor
    flat_keys: Tensor


class A2K(nn.Module):
    """Distributed + progressive attention with a residual to the raw content (official `A2K`)."""

    def __init__(self, planes: int, region: int) -> None:
        super().__init__()
        self.sim_alpha = nn.Parameter(torch.ones(1))
        self.sim_beta = nn.Parameter(torch.zeros(1))
        self.q, self.k, self.v = _conv1x1(planes), _conv1x1(planes), _conv1x1(planes)
        self.q2, self.k2, self.v2 = _conv1x1(planes), _conv1x1(planes), _conv1x1(planes)
        self.fusion1, self.fusion2 = _conv1x1(planes), _conv1x1(planes)
        self.region = region

    def _conv(self, name: str, x: Tensor) -> Tensor:
        conv: nn.Conv2d = getattr(self, name)
        n, c, h, w = x.shape
        return project(conv, x.flatten(2)).view(n, -1, h, w)

    def remember(self, style: Tensor) -> A2KMemory:
        """Everything that depends only on the style feature (N, C, hs, ws)."""
        p = self.region
        normed = _mvn_like(style)
        k1, v1 = block(self._conv("k", normed), p), block(self._conv("v", style), p)
        centre_k, centre_v = k1.mean(dim=-1), v1.mean(dim=-1)  # (N, heads, d, L)
        closeness = torch.einsum("nhdl,nhdlr->nhlr", centre_k.float(), k1.float())
        sim = torch.sigmoid(self.sim_alpha * closeness + self.sim_beta).to(k1.dtype)
        r = k1.shape[-1]
        region_keys = (torch.einsum("nhlr,nhdlr->nhdl", sim, k1) + centre_k) / (r + 1)
        region_values = (torch.einsum("nhlr,nhdlr->nhdl", sim, v1) + centre_v) / (r + 1)
        k2, v2 = block(self._conv("k2", normed), p), block(self._conv("v2", style), p)
        keys = k2.permute(0, 1, 3, 2, 4).contiguous()  # (N, heads, L, d, r)
        n, heads, regions, d, r = keys.shape
        flat_keys = keys.view(n, heads, regions, d * r).transpose(-1, -2)
        return A2KMemory(region_keys, region_values, keys, v2.permute(0, 1, 3, 2, 4).contiguous(), flat_keys)

    def attend(self, content: Tensor, memory: A2KMemory, compute: Compute) -> Tensor:
        """fusion1(DA) + fusion2(PA) + content for content (N, C, h, w), in bands of region rows."""
        p = self.region
        n, c, h, w = content.shape
        mean_c, std_c = mean_std(content.float())
        style_regions = memory.region_keys.shape[-1]
        out = torch.empty_like(content)
        # Per content position: L_s distributed scores per head, plus the whole-region match.
        rows = rows_per_chunk(w, HEADS * style_regions, compute.chunk_budget(content.device.type), multiple=p)
        for start, stop in iter_chunks(h, rows):
            band = content[..., start:stop, :]
            normed = ((band.float() - mean_c) / std_c).to(band.dtype)
            q1, q2 = block(self._conv("q", normed), p), block(self._conv("q2", normed), p)
            size = (stop - start, w)
            distributed = unblock(self._distributed(q1, memory), p, size)
            progressive = unblock(self._progressive(q2, memory), p, size)
            fused = self._conv("fusion1", distributed) + self._conv("fusion2", progressive)
            out[..., start:stop, :] = (fused + band).to(out.dtype)
        return out

    @staticmethod
    def _distributed(q1: Tensor, memory: A2KMemory) -> Tensor:
        """Every query position against every aggregated style region: (N, heads, d, L, r)."""
        n, heads, d, regions, r = q1.shape
        queries = q1.permute(0, 1, 3, 4, 2).reshape(n, heads, regions * r, d)
        weights = softmax_(scores(queries, memory.region_keys))
        mixed = torch.matmul(weights.to(q1.dtype), memory.region_values.transpose(-1, -2))
        return mixed.view(n, heads, regions, r, d).permute(0, 1, 4, 2, 3)

    @staticmethod
    def _progressive(q2: Tensor, memory: A2KMemory) -> Tensor:
        """Each content region picks its best style region, then attends inside it: (N, heads, d, L, r)."""
        n, heads, d, regions, r = q2.shape
        whole = q2.permute(0, 1, 3, 2, 4).reshape(n, heads, regions, d * r)
        match = scores(whole, memory.flat_keys).argmax(dim=-1)  # (N, heads, L)
        batch = torch.arange(n, device=q2.device).view(n, 1, 1) if memory.keys.shape[0] == n else 0
        head = torch.arange(heads, device=q2.device).view(1, heads, 1)
        keys, values = memory.keys[batch, head, match], memory.values[batch, head, match]  # (N, heads, L, d, r)
        queries = q2.permute(0, 1, 3, 4, 2)  # (N, heads, L, r, d)
        weights = softmax_(scores(queries, keys))  # (N, heads, L, r, r)
        mixed = torch.matmul(weights.to(q2.dtype), values.transpose(-1, -2))  # (N, heads, L, r, d)
        return mixed.permute(0, 1, 4, 2, 3)


def _conv1x1(planes: int) -> nn.Conv2d:
    return nn.Conv2d(planes, planes, kernel_size=1)


def _mvn_like(x: Tensor) -> Tensor:
    mean, std = mean_std(x.float())
    return ((x.float() - mean) / std).to(x.dtype)


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


class Transform(nn.Module):
    """relu4_1 and relu5_1 A2K merged by a 3x3 conv (official `Transform`, 38 keys)."""

    def __init__(self) -> None:
        super().__init__()
        self.attn_adain_4_1 = A2K(512, REGION[3])
        self.attn_adain_5_1 = A2K(512, REGION[4])
        self.merge_conv_pad = nn.ReflectionPad2d(1)
        self.merge_conv = nn.Conv2d(512, 512, kernel_size=3)

    def merge(self, relu4: Tensor, relu5: Tensor, memory: KernelMemory | None = None) -> Tensor:
        """(N, 512, h, w) and (N, 512, h/2, w/2) -> (N, 512, h, w) (see `fused.merge_deep`)."""
        return merge_deep(relu4, relu5, self.merge_conv_pad, self.merge_conv, memory)


class StyA2KNet(StyleNetwork):
    """The released StyA2K model: A2K at relu3_1 (skip), relu4_1 and relu5_1."""

    multiple = 64  # relu4_1 regions are 8 x 8 at stride 8, relu5_1 regions 4 x 4 at stride 16
    style_multiple = 64  # NOTE: a style is padded too, else `unfold` would drop its border
    depth = 5
    attention_layers = (2, 3, 4)

    def __init__(self) -> None:
        super().__init__()
        self.A2K = A2K(256, REGION[2])
        self.transform = Transform()
        self.decoder = Decoder()

    def attention(self, layer: int) -> A2K:
        if layer == 2:
            return self.A2K
        return self.transform.attn_adain_4_1 if layer == 3 else self.transform.attn_adain_5_1

    def encode(self, image: Tensor, compute: Compute) -> Encoded:
        # No shallow keys at inference, so the big shallow maps are never kept.
        return self.encoder.encode(image, self.depth, (), compute.band_pixels, self.kernel_memory_for(compute))

    def remember_style(self, style: Encoded, compute: Compute) -> StyleMemory:
        return {layer: self.attention(layer).remember(style.deep[layer]) for layer in self.attention_layers}

    def attend(self, content: Encoded, memory: StyleMemory, compute: Compute) -> Outputs:
        return {
            layer: self.attention(layer).attend(content.deep[layer], memory[layer], compute)
            for layer in self.attention_layers
        }

    def decode(self, outputs: Outputs, compute: Compute) -> Tensor:
        memory = self.kernel_memory_for(compute)
        merged = self.transform.merge(outputs[3], outputs[4], memory)
        return self.decoder.decode(merged, outputs[2], compute.band_pixels, memory)

    def official_forward(self, content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
        cf = [f.float() for f in content[: self.depth]]
        sf = [f.float() for f in style[: self.depth]]
        t = self.transform
        with float32_attention(cf[2].device):
            skip = a2k_layer(self.A2K, cf[2], sf[2])
            relu4 = a2k_layer(t.attn_adain_4_1, cf[3], sf[3])
            relu5 = a2k_layer(t.attn_adain_5_1, cf[4], sf[4])
        return self.decoder(t.merge(relu4, relu5), skip)
