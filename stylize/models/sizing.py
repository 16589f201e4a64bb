"""Pure size arithmetic: padding to a multiple, row bands and attention chunks.

No torch here: these functions only compute numbers, so they are trivially testable.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Padding:
    """Rows and columns added on each side (reflection) so a network sees a size it supports."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def is_zero(self) -> bool:
        return not (self.top or self.bottom or self.left or self.right)


def padding_to_multiple(height: int, width: int, multiple: int) -> Padding:
    """Padding that makes both sides multiples of `multiple`, split evenly between both ends.

    Splitting keeps the content centred, so border effects of the network fall on both sides alike.
    """
    extra_h = -height % multiple
    extra_w = -width % multiple
    return Padding(extra_h // 2, extra_h - extra_h // 2, extra_w // 2, extra_w - extra_w // 2)


@dataclass(frozen=True)
class Band:
    """Rows [start, stop) of a grid, computed from rows [context_start, context_stop).

    The context adds a halo of rows on both sides (clipped at the grid's ends) so that a stack of
    local operations (3x3 convolutions, pooling, upsampling) gives the exact full-image values on
    [start, stop): the wrong values from padding at an inner band edge stay inside the halo.
    """

    start: int
    stop: int
    context_start: int
    context_stop: int

    @property
    def crop(self) -> tuple[int, int]:
        """Where [start, stop) lies inside the context, in context-relative rows."""
        return self.start - self.context_start, self.stop - self.context_start


def plan_bands(rows: int, band_rows: int, halo: int, align: int = 1) -> list[Band]:
    """Split `rows` into bands of at most `band_rows` rows (a multiple of `align`) with a halo.

    Band edges and halos are multiples of `align`, so downsampling by `align` inside a band lines up
    with the full image's grid.
    """
    if rows <= 0:
        return []
    band_rows = max(align, band_rows - band_rows % align)
    halo = math.ceil(halo / align) * align
    result = []
    for start in range(0, rows, band_rows):
        stop = min(rows, start + band_rows)
        result.append(Band(start, stop, max(0, start - halo), min(rows, stop + halo)))
    return result


def rows_per_chunk(row_length: int, cost_per_position: int, budget: int, multiple: int = 1) -> int:
    """How many rows of `row_length` positions fit a budget of `budget` elements.

    Args:
        row_length: positions per row.
        cost_per_position: elements held per position (e.g. number of style keys for attention).
        budget: elements allowed at once.
        multiple: the result is a multiple of this (e.g. StyA2K region rows), and at least one.
    """
    per_row = max(1, row_length * cost_per_position)
    fit = budget // per_row
    return max(multiple, fit - fit % multiple)


def iter_chunks(total: int, chunk: int) -> Iterator[tuple[int, int]]:
    """[start, stop) pairs covering range(total) in steps of `chunk`."""
    for start in range(0, total, max(1, chunk)):
        yield start, min(total, start + chunk)
