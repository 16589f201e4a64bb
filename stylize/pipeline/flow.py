"""Dense optical flow, backward warping and the Ruder et al. reliability test, on numpy arrays.

Shared by temporal smoothing (`stylize.pipeline.temporal`) and the warping-error metric
(`stylize.metrics.temporal`). A flow is an (H, W, 2) float32 array of pixel displacements
(dx, dy): `flow[y, x]` says where pixel (x, y) of the first image lies in the second.

The reliability test follows Lai et al., "Learning Blind Video Temporal Consistency" (ECCV 2018),
`utils.detect_occlusion` and `compute_flow_gradients`, which implement the criteria of Ruder et
al., "Artistic style transfer for videos" (GCPR 2016). Lai et al. estimate flow with FlowNet2; we
use OpenCV's DIS (or Farneback), which need no weights.
"""

from __future__ import annotations

import numpy as np

FLOW_METHODS = ("dis", "farneback")


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB, uint8 or float in [0, 1] -> (H, W) uint8 luma."""
    import cv2

    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def optical_flow(first: np.ndarray, second: np.ndarray, method: str = "dis") -> np.ndarray:
    """Dense flow from `first` to `second`.

    Args:
        first, second: (H, W) uint8 grey images (see `to_gray`).
        method: "dis" (OpenCV DIS, medium preset: fast and robust) or "farneback".

    Returns:
        (H, W, 2) float32 displacements in pixels.
    """
    import cv2

    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
        return dis.calc(first, second, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 4, 15, 5, 5, 1.1, 0)  # type: ignore[call-overload]
    raise ValueError(f"unknown flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}")


def warp(image: np.ndarray, flow: np.ndarray, cubic: bool = False) -> np.ndarray:
    """Backward warp: `out[y, x] = image[y + flow[y, x, 1], x + flow[y, x, 0]]`.

    Samples outside the image take the nearest edge value (as Lai et al.'s Resample2d does).

    Args:
        image: (h, w) or (h, w, C) array, any float or uint8 dtype.
        flow: (H, W, 2) displacements into `image` (its size may differ from `image`'s only if
            the caller means it to).
        cubic: bicubic instead of bilinear interpolation (less blur when warps are chained).

    Returns:
        An array shaped like `flow`'s grid with `image`'s channels and dtype.
    """
    import cv2

    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x = grid_x + flow[..., 0]
    map_y = grid_y + flow[..., 1]
    interpolation = cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR
    return cv2.remap(image, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)


def flow_gradients(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Forward differences of a flow's components (du/dx, du/dy, dv/dx, dv/dy), 0 on the last column/row.

    As Lai et al.'s `compute_flow_gradients`: `d[:, :-1] = f[:, :-1] - f[:, 1:]` (the sign does not
    matter, only squares are used).
    """
    u, v = flow[..., 0], flow[..., 1]
    u_x = np.zeros_like(u)
    u_y = np.zeros_like(u)
    v_x = np.zeros_like(v)
    v_y = np.zeros_like(v)
    u_x[:, :-1] = u[:, :-1] - u[:, 1:]
    u_y[:-1, :] = u[:-1, :] - u[1:, :]
    v_x[:, :-1] = v[:, :-1] - v[:, 1:]
    v_y[:-1, :] = v[:-1, :] - v[1:, :]
    return u_x, u_y, v_x, v_y


def reliable(flow: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Where `flow` can be trusted: not occluded and not on a motion boundary (Ruder et al.).

    Args:
        flow: (H, W, 2) flow from image A to image B, on A's grid (the one being tested).
        reverse: (H, W, 2) flow from B to A, on B's grid.

    Returns:
        (H, W) bool on A's grid, False where
        |flow + reverse~|^2 > 0.01 (|flow|^2 + |reverse~|^2) + 0.5 (forward-backward mismatch:
        occlusion), with reverse~ = `reverse` sampled where `flow` points, or where
        |grad u|^2 + |grad v|^2 > 0.01 |flow|^2 + 0.002 (motion boundary).
    """
    back = warp(reverse, flow)
    mismatch = np.sum((flow + back) ** 2, axis=-1)
    magnitude = np.sum(flow**2, axis=-1) + np.sum(back**2, axis=-1)
    occluded = mismatch > 0.01 * magnitude + 0.5
    u_x, u_y, v_x, v_y = flow_gradients(flow)
    boundary = (u_x**2 + v_x**2) + (u_y**2 + v_y**2) > 0.01 * np.sum(flow**2, axis=-1) + 0.002
    return ~(occluded | boundary)
