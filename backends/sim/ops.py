"""Array operations of the simulator that are not tied to one node type: convolution by
im2col + matmul, sum pooling, time shifts. All take arrays with any leading axes
(``x: [*lead, C, H, W]``)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             padding: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """x: [L, C, H, W] -> windows [L, C, Ho, Wo, kh, kw] (zero padding)."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = kernel
    dh, dw = dilation
    eff = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    win = sliding_window_view(x, eff, axis=(2, 3))
    win = win[:, :, ::stride[0], ::stride[1], ::dh, ::dw]
    return win


def conv2d(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int,
           in_shape: tuple[int, ...]) -> np.ndarray:
    """Cross-correlation as torch.nn.functional.conv2d (no bias).

    x: [*lead, C_in, H, W]; weight: [C_out, C_in/groups, kH, kW] -> [*lead, C_out, Ho, Wo].
    Integer inputs and weights give exact integer results (int64 arithmetic)."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    c_out, c_in_g, kh, kw = weight.shape
    win = _windows(xs, (kh, kw), stride, padding, dilation)  # [L, C, Ho, Wo, kh, kw]
    L, _, ho, wo = win.shape[:4]
    outs = []
    co_g = c_out // groups
    for g in range(groups):
        wg = weight[g * co_g:(g + 1) * co_g]                       # [co_g, c_in_g, kh, kw]
        xg = win[:, g * c_in_g:(g + 1) * c_in_g]                   # [L, c_in_g, Ho, Wo, kh, kw]
        cols = np.ascontiguousarray(xg.transpose(0, 2, 3, 1, 4, 5)).reshape(L * ho * wo, -1)
        outs.append((cols @ wg.reshape(co_g, -1).T).reshape(L, ho, wo, co_g))
    y = np.concatenate(outs, axis=-1).transpose(0, 3, 1, 2)
    return y.reshape((*lead, c_out, ho, wo))


def sum_pool2d(x: np.ndarray, kernel, stride, padding, in_shape) -> np.ndarray:
    """Sum over windows: x [*lead, C, H, W] -> [*lead, C, Ho, Wo] (zero padding)."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    win = _windows(xs, kernel, stride, padding, (1, 1))
    y = win.sum(axis=(-1, -2))
    return y.reshape((*lead, *y.shape[1:]))


def shift_time(x: np.ndarray, delay: int) -> np.ndarray:
    """x: [T, ...] -> y with y[t] = x[t - delay] (zeros for t < delay)."""
    if delay == 0:
        return x
    y = np.zeros_like(x)
    if delay < x.shape[0]:
        y[delay:] = x[: x.shape[0] - delay]
    return y
