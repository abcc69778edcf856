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
           in_shape: tuple[int, ...], *, compute_dtype=None, out_dtype=None) -> np.ndarray:
    """Cross-correlation as torch.nn.functional.conv2d (no bias).

    x: [*lead, C_in, H, W]; weight: [C_out, C_in/groups, kH, kW] -> [*lead, C_out, Ho, Wo].
    im2col + one matmul per group over a chunk of the flattened leading axes (time x batch;
    no per-sample loop), the chunk sized so its columns stay about :data:`CONV_CHUNK_ELEMENTS`
    values. ``compute_dtype``: dtype of the columns and the matmul (default: the result type of
    x and weight; the caller proves float exactness for integers, see
    :class:`~snnc.backends.sim.int_kernels.IntConv2dKernel`); ``out_dtype``: dtype of the result
    (default: the compute dtype), values converted as they are written. Integer inputs and
    weights with an integer compute dtype give exact integer results (int64 arithmetic)."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    c_out, c_in_g, kh, kw = weight.shape
    cd = np.dtype(compute_dtype or np.result_type(x.dtype, weight.dtype))
    od = np.dtype(out_dtype or cd)
    w = weight.astype(cd, copy=False)
    L = xs.shape[0]
    ph, pw = padding
    eff = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    ho = (in_shape[1] + 2 * ph - eff[0]) // stride[0] + 1
    wo = (in_shape[2] + 2 * pw - eff[1]) // stride[1] + 1
    co_g = c_out // groups
    k = c_in_g * kh * kw
    out = np.empty((L, c_out, ho * wo), od)
    step = max(1, CONV_CHUNK_ELEMENTS // max(1, k * ho * wo))
    wg = [w[g * co_g:(g + 1) * co_g].reshape(co_g, k) for g in range(groups)]
    for l0 in range(0, L, step):
        l1 = min(L, l0 + step)
        win = _windows(xs[l0:l1].astype(cd, copy=False), (kh, kw), stride, padding, dilation)
        for g in range(groups):
            xg = win[:, g * c_in_g:(g + 1) * c_in_g]                 # [l, c_in_g, Ho, Wo, kh, kw]
            cols = np.ascontiguousarray(xg.transpose(0, 1, 4, 5, 2, 3)).reshape(l1 - l0, k, ho * wo)
            out[l0:l1, g * co_g:(g + 1) * co_g] = np.matmul(wg[g], cols)
    return out.reshape((*lead, c_out, ho, wo))


#: values of one chunk's im2col columns (4 MiB of float32): big enough for BLAS, small enough
#: to stay in cache and to bound the memory of a conv over T x B samples
CONV_CHUNK_ELEMENTS = 1 << 20


def sum_pool2d(x: np.ndarray, kernel, stride, padding, in_shape) -> np.ndarray:
    """Sum over windows: x [*lead, C, H, W] -> [*lead, C, Ho, Wo] (zero padding). One strided
    slice per kernel offset, added up (kh * kw vectorized passes), over chunks of the flattened
    leading axes of about :data:`POOL_CHUNK_ELEMENTS` input values each so the passes stay in
    cache. The dtype of x is kept (bool as int64); integer sums are exact."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    dtype = np.dtype(np.int64) if xs.dtype == np.bool_ else xs.dtype
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    hp, wp = in_shape[1] + 2 * ph, in_shape[2] + 2 * pw
    ho = (hp - kh) // sh + 1
    wo = (wp - kw) // sw + 1
    L = xs.shape[0]
    y = np.empty((L, in_shape[0], ho, wo), dtype)
    step = max(1, POOL_CHUNK_ELEMENTS // max(1, int(np.prod(in_shape))))
    for l0 in range(0, L, step):
        l1 = min(L, l0 + step)
        xc = xs[l0:l1].astype(dtype, copy=False)
        if ph or pw:
            xc = np.pad(xc, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        yc = y[l0:l1]
        for i in range(kh):
            for j in range(kw):
                part = xc[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
                if i == 0 and j == 0:
                    yc[...] = part
                else:
                    yc += part
    return y.reshape((*lead, *y.shape[1:]))


#: input values of one sum-pooling chunk (2 MiB of int64)
POOL_CHUNK_ELEMENTS = 1 << 18


def shift_time(x: np.ndarray, delay: int) -> np.ndarray:
    """x: [T, ...] -> y with y[t] = x[t - delay] (zeros for t < delay)."""
    if delay == 0:
        return x
    y = np.zeros_like(x)
    if delay < x.shape[0]:
        y[delay:] = x[: x.shape[0] - delay]
    return y
