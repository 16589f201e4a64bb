"""AdaAttN image and video networks (official `models/networks.py`, `adaattn_model.py`, `inference_frame.py`).

Attention is computed in bands of query rows, so memory grows linearly with the content; every
quantity that depends only on the style is computed once (`remember_style`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stylize.models.common import EPS, AttnMemory, KeySource, key_parts, mean_std, mvn, scores, shallow_key, softmax_
from stylize.models.config import Compute
from stylize.models.decoder import Decoder, VideoDecoder
from stylize.models.kernels.fused import merge_deep
from stylize.models.kernels.scratch import KernelMemory
from stylize.models.network import Outputs, StyleMemory, StyleNetwork, float32_attention
from stylize.models.sizing import iter_chunks, rows_per_chunk
from stylize.models.vgg import Encoded

RELU3_SAMPLE = 64 * 64
DEEP_SAMPLE = 256 * 256


def sample_positions(total: int, count: int, seed: int) -> Tensor:
    """The official key sample: `randperm(total)[:count]` from a CPU generator seeded `seed`.

    The released code reseeds the process-wide generator inside forward; a local generator draws
    the same permutation without that side effect.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=generator)[:count]


def project(conv: nn.Conv2d, flat: Tensor) -> Tensor:
    """A 1x1 convolution applied to flattened positions: (N, C_in, S) -> (N, C_out, S)."""
    weight = conv.weight.flatten(1).to(flat.dtype)
    bias = conv.bias.to(flat.dtype) if conv.bias is not None else None
    out = torch.matmul(weight, flat)
    return out if bias is None else out + bias[:, None]


class AdaAttN(nn.Module):
    """One attention layer: the style's weighted mean and std, applied to the normalised content.

    Args:
        in_planes: feature channels C (value and output).
        key_planes: key channels (shallow layers concatenated).
        max_sample: style positions the official policy keeps (sampled with the seed).
        cosine: the video model's cosine similarity instead of softmax.
    """

    def __init__(self, in_planes: int, key_planes: int, max_sample: int, cosine: bool = False) -> None:
        super().__init__()
        self.f = nn.Conv2d(key_planes, key_planes, kernel_size=1)
        self.g = nn.Conv2d(key_planes, key_planes, kernel_size=1)
        self.h = nn.Conv2d(in_planes, in_planes, kernel_size=1)
        self.max_sample = max_sample
        self.cosine = cosine

    def remember(self, style: Tensor, style_key: Tensor, compute: Compute) -> AttnMemory:
        """Style keys and values, (N, C, hs, ws) and (N, C_key, hs, ws) -> `AttnMemory`.

        For softmax attention the content projection f is folded into the keys: a score is
        (W_f q + b_f) . k = q . (W_f^T k) + b_f . k, so contents need no projection at all.
        """
        keys, values = style_key.flatten(2), style.flatten(2)
        positions = keys.shape[-1]
        if compute.policy == "official" and positions > self.max_sample:
            # The 1x1 projections act per position, so sampling first gives the same values.
            index = sample_positions(positions, self.max_sample, compute.seed).to(keys.device)
            keys, values = keys[:, :, index], values[:, :, index]
        keys = project(self.g, keys)
        values = project(self.h, values).transpose(1, 2)
        if self.cosine:
            keys = keys / (keys.float().norm(dim=1, keepdim=True) + EPS).to(keys.dtype)
            return AttnMemory(keys, values)
        weight, bias = self.f.weight.flatten(1).float(), self.f.bias
        folded = torch.matmul(weight.t(), keys.float())
        key_bias = torch.matmul(bias.float(), keys.float())[:, None] if bias is not None else None
        return AttnMemory(folded.to(keys.dtype), values, key_bias)

    def _scoring(self, key: KeySource, memory: AttnMemory) -> tuple[Tensor, Tensor | None]:
        """The style keys (and per-key offsets) that raw content key rows are scored against.

        The content key's normalisation is folded in too, once per content:
        (x - m) / s . k = x . (k / s) - (m / s) . k.
        """
        keys, key_bias = memory.keys, memory.key_bias
        if self.cosine or key.mean is None or key.std is None:
            return keys, key_bias
        offset = -torch.matmul((key.mean / key.std)[:, None], keys.float())
        key_bias = offset if key_bias is None else key_bias + offset
        return (keys.float() / key.std[:, :, None]).to(keys.dtype), key_bias

    def weights(self, key: KeySource, start: int, stop: int, keys: Tensor, key_bias: Tensor | None) -> Tensor:
        """Attention weights (N, Q, S) float32 of content key rows [start, stop) against `_scoring`'s keys."""
        if self.cosine:
            queries = project(self.f, key.rows(start, stop).transpose(1, 2)).transpose(1, 2)
            queries = queries / (queries.float().norm(dim=-1, keepdim=True) + EPS).to(queries.dtype)
            similarity = scores(queries, keys).add_(1.0).relu_()
            return similarity.div_(similarity.sum(dim=-1, keepdim=True) + EPS)
        return softmax_(scores(key.raw_rows(start, stop), keys, key_bias))

    def attend(self, content: Tensor, key: KeySource, memory: AttnMemory, compute: Compute) -> Tensor:
        """`std * mvn(content) + mean` for content (N, C, h, w), in bands of query rows."""
        n, c, h, w = content.shape
        mean_c, std_c = mean_std(content.float())
        keys, key_bias = self._scoring(key, memory)
        out = torch.empty_like(content)
        rows = rows_per_chunk(w, keys.shape[-1], compute.chunk_budget(content.device.type))
        for start, stop in iter_chunks(h, rows):
            mean, std = memory.read(self.weights(key, start, stop, keys, key_bias))
            normed = (content[..., start:stop, :].float() - mean_c) / std_c
            mean = mean.transpose(1, 2).reshape(n, c, stop - start, w)
            std = std.transpose(1, 2).reshape(n, c, stop - start, w)
            out[..., start:stop, :] = (std * normed + mean).to(out.dtype)
        return out


def style_key(style: Encoded, layer: int) -> Tensor:
    """The whole official key of a style layer, (N, C_key, h, w)."""
    return torch.cat([mvn(part) for part in key_parts(style, layer)], dim=1)


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


class Transformer(nn.Module):
    """relu4_1 and relu5_1 attention merged by a 3x3 conv (official `Transformer`, 14 keys)."""

    def __init__(self) -> None:
        super().__init__()
        self.attn_adain_4_1 = AdaAttN(512, 960, DEEP_SAMPLE)
        self.attn_adain_5_1 = AdaAttN(512, 960 + 512, DEEP_SAMPLE)
        self.merge_conv_pad = nn.ReflectionPad2d(1)
        self.merge_conv = nn.Conv2d(512, 512, kernel_size=3)

    def merge(self, relu4: Tensor, relu5: Tensor, memory: KernelMemory | None = None) -> Tensor:
        """(N, 512, h, w) and (N, 512, h/2, w/2) -> (N, 512, h, w) (see `fused.merge_deep`)."""
        return merge_deep(relu4, relu5, self.merge_conv_pad, self.merge_conv, memory)


class AdaAttNNet(StyleNetwork):
    """The released AdaAttN image model (`--skip_connection_3 --shallow_layer`)."""

    multiple = 16
    depth = 5
    attention_layers = (2, 3, 4)

    def __init__(self) -> None:
        super().__init__()
        self.adaattn_3 = AdaAttN(256, 64 + 128 + 256, RELU3_SAMPLE)
        self.transformer = Transformer()
        self.decoder = Decoder()

    def attention(self, layer: int) -> AdaAttN:
        if layer == 2:
            return self.adaattn_3
        return self.transformer.attn_adain_4_1 if layer == 3 else self.transformer.attn_adain_5_1

    def remember_style(self, style: Encoded, compute: Compute) -> StyleMemory:
        return {
            layer: self.attention(layer).remember(style.deep[layer], style_key(style, layer), compute)
            for layer in self.attention_layers
        }

    def attend(self, content: Encoded, memory: StyleMemory, compute: Compute) -> Outputs:
        return {
            layer: self.attention(layer).attend(
                content.deep[layer], KeySource(key_parts(content, layer)), memory[layer], compute
            )
            for layer in self.attention_layers
        }

    def decode(self, outputs: Outputs, compute: Compute) -> Tensor:
        memory = self.kernel_memory_for(compute)
        merged = self.transformer.merge(outputs[3], outputs[4], memory)
        return self.decoder.decode(merged, outputs[2], compute.band_pixels, memory)

    def official_forward(self, content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
        cf = [f.float() for f in content[: self.depth]]
        sf = [f.float() for f in style[: self.depth]]

        def layer(module: AdaAttN, i: int) -> Tensor:
            with float32_attention(cf[i].device):
                return adaattn_layer(module, cf[i], sf[i], shallow_key(cf, i), shallow_key(sf, i), seed)

        skip = layer(self.adaattn_3, 2)
        t = self.transformer
        return self.decoder(t.merge(layer(t.attn_adain_4_1, 3), layer(t.attn_adain_5_1, 4)), skip)


class AdaAttNVideoNet(StyleNetwork):
    """The released AdaAttN video model: cosine attention at relu3_1 and a relu3_1 decoder."""

    multiple = 4
    depth = 3
    attention_layers = (2,)

    def __init__(self) -> None:
        super().__init__()
        self.transformer = AdaAttN(256, 64 + 128 + 256, DEEP_SAMPLE, cosine=True)
        self.decoder = VideoDecoder()

    def remember_style(self, style: Encoded, compute: Compute) -> StyleMemory:
        return {2: self.transformer.remember(style.deep[2], style_key(style, 2), compute)}

    def attend(self, content: Encoded, memory: StyleMemory, compute: Compute) -> Outputs:
        key = KeySource(key_parts(content, 2))
        return {2: self.transformer.attend(content.deep[2], key, memory[2], compute)}

    def decode(self, outputs: Outputs, compute: Compute) -> Tensor:
        return self.decoder.decode(outputs[2], compute.band_pixels, self.kernel_memory_for(compute))

    def official_forward(self, content: list[Tensor], style: list[Tensor], seed: int) -> Tensor:
        cf = [f.float() for f in content[: self.depth]]
        sf = [f.float() for f in style[: self.depth]]
        with float32_attention(cf[2].device):
            out = adaattn_layer(self.transformer, cf[2], sf[2], shallow_key(cf, 2), shallow_key(sf, 2), seed)
        return self.decoder(out)
