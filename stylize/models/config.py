"""How a network computes: attention policy, memory bounds, fast or plain kernels. Pure configuration, no torch."""

from __future__ import annotations

from dataclasses import dataclass, replace

POLICIES = ("official", "full")
KERNELS = ("fast", "plain")
OFFICIAL_SEED = 6666
MIN_CHUNK = 1 << 16
# Attention scores held at once by default. On a CPU, 4M (16 MiB) keep a chunk's softmax passes in
# the last-level cache (AdaAttN 512^2 5 % and StyA2K 8 % faster than 32M on 2 EPYC cores, same
# values); a GPU wants few, large chunks.
CPU_CHUNK = 1 << 22
ACCELERATOR_CHUNK = 1 << 25
MIN_BAND = 1 << 14


@dataclass(frozen=True)
class Compute:
    """Settings that change how, not what, a network computes (except `policy` and `seed`).

    Attributes:
        policy: "official" reproduces the released code, including its seeded sub-sampling of
            style keys (4096 at relu3_1, 65536 deeper); "full" attends to every style position.
        seed: seed of the CPU generator that draws the official key sample.
        chunk_elements: attention scores held at once (queries x keys); bounds memory. None: the
            device's default (`chunk_budget`).
        band_pixels: image pixels per row band in the encoder and decoder (larger images are
            processed band by band with an overlap, which gives the same values).
        kernels: "fast" runs the convolutions through the hand-written fast paths where they apply
            (`models/kernels/`: fused upsampling convolutions, Winograd, banded padding, scratch
            memory; the same values to fp32 rounding); "plain" runs PyTorch's layers as they are.
    """

    policy: str = "official"
    seed: int = OFFICIAL_SEED
    chunk_elements: int | None = None
    band_pixels: int = 1 << 20
    kernels: str = "fast"

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"attention policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.kernels not in KERNELS:
            raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, not {self.kernels!r}")
        if (self.chunk_elements is not None and self.chunk_elements < 1) or self.band_pixels < 1:
            raise ValueError("chunk_elements and band_pixels must be positive")

    def chunk_budget(self, device_type: str) -> int:
        """Attention scores held at once on a device of this type ("cpu", "cuda", ...)."""
        return self.chunk_elements or (CPU_CHUNK if device_type == "cpu" else ACCELERATOR_CHUNK)

    def halved(self, device_type: str) -> Compute:
        """The same settings with half the working memory (for an out-of-memory retry)."""
        return replace(
            self,
            chunk_elements=max(MIN_CHUNK, self.chunk_budget(device_type) // 2),
            band_pixels=max(MIN_BAND, self.band_pixels // 2),
        )

    @property
    def is_smallest(self) -> bool:
        chunk = self.chunk_elements
        return chunk is not None and chunk <= MIN_CHUNK and self.band_pixels <= MIN_BAND
