"""Array operations of the simulator that are not tied to one node type: convolution by
im2col + matmul, sum pooling, time shifts. All take arrays with any leading axes
(``x: [*lead, C, H, W]``)."""

from __future__ import annotations

import numpy as np


def _phases(x: np.ndarray, stride: tuple[int, int], padding: tuple[int, int]) -> np.ndarray:
    """x: [L, C, H, W] -> P: [sh, sw, C, L, Hq, Wq], the zero-padded input split by stride phase:
    ``P[a, b, c, l, r, q] = xpad[l, c, a + sh * r, b + sw * q]`` (Hq = ceil(Hp / sh), Wq =
    ceil(Wp / sw); zeros past the padded edge). Kernel offset (i, j) then reads contiguous rows of
    one phase instead of every sh-th value (:func:`_im2col`). One strided copy of the input per
    phase, in x's dtype."""
    L, C, H, W = x.shape
    (sh, sw), (ph, pw) = stride, padding
    hq, wq = -(-(H + 2 * ph) // sh), -(-(W + 2 * pw) // sw)
    P = np.zeros((sh, sw, C, L, hq, wq), x.dtype)
    xt = x.transpose(1, 0, 2, 3)
    for a in range(sh):
        y0 = (a - ph) % sh                      # first input row of phase a
        if y0 >= H:
            continue
        r0, ny = (ph + y0) // sh, len(range(y0, H, sh))
        for b in range(sw):
            x0 = (b - pw) % sw
            if x0 >= W:
                continue
            c0, nx = (pw + x0) // sw, len(range(x0, W, sw))
            P[a, b, :, :, r0:r0 + ny, c0:c0 + nx] = xt[:, :, y0::sh, x0::sw]
    return P


def _im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            padding: tuple[int, int], dilation: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """x: [L, C, H, W] -> columns [C, kh, kw, L, Ho, Wo] in x's dtype:
    ``cols[c, i, j, l, y, z] = xpad[l, c, sh * y + dh * i, sw * z + dw * j]`` (zero padding).
    kh * kw copies of contiguous rows (:func:`_phases`)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    P = _phases(x, stride, padding)
    cols = np.empty((x.shape[1], kh, kw, x.shape[0], ho, wo), x.dtype)
    for i in range(kh):
        r0, a = divmod(i * dh, sh)
        for j in range(kw):
            c0, b = divmod(j * dw, sw)
            cols[:, i, j] = P[a, b, :, :, r0:r0 + ho, c0:c0 + wo]
    return cols


def conv2d(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, groups: int,
           in_shape: tuple[int, ...], *, compute_dtype=None, out_dtype=None,
           pack: tuple[int, int] | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation as torch.nn.functional.conv2d (no bias).

    x: [*lead, C_in, H, W]; weight: [C_out, C_in/groups, kH, kW] -> [*lead, C_out, Ho, Wo].
    Over chunks of the flattened leading axes (time x batch; no per-sample loop), each chunk of
    about :data:`CONV_CHUNK_ELEMENTS` column values: im2col as columns [k, l * Ho * Wo]
    (k = C_in/groups * kH * kW, :func:`_im2col`), ONE matmul per group ``w[C_out/groups, k] @
    columns`` for all l samples of the chunk, and one pass that puts [C_out, l, Ho*Wo] back to
    [l, C_out, Ho*Wo] while converting to the output dtype.

    ``compute_dtype``: dtype of the columns and the matmul (default: the result type of x and
    weight; the caller proves float exactness for integers, see
    :class:`~snnc.backends.sim.int_kernels.IntConv2dKernel`); ``out_dtype``: dtype of the result
    (default: the compute dtype; e.g. int32 or int64 for integer values computed in float32),
    values converted as they are written. Bool x with a float compute dtype is gathered as
    uint8 and converted once per chunk. Integer inputs and weights with an integer compute
    dtype give exact integer results (int64 arithmetic).

    ``pack=(p, m)`` (integer x and weight, float compute dtype): p output channels of a group
    share one matmul row, as the balanced base-2**m digits of ``sum_i 2**(m*i) * w[c0 + i]``, so
    the matmul does 1/p of the multiply-adds; each channel's sum is then read back as one digit
    (:func:`_unpack_digits`). The caller proves, with S = max over channels of the largest
    |partial sum| of one channel: S < 2**(m-1) (each digit is in (-2**(m-1), 2**(m-1)), so the
    digits are unique) and S * (1 + 2**m + ... + 2**(m*(p-1))) below the compute dtype's exact
    integer range (every partial sum of a packed row, in any order, is then exact, and so are
    the packed weights). The output is the same integers as without packing.

    ``out``: a C-contiguous array of the output dtype and shape ``[*lead, C_out, Ho, Wo]`` to
    write the result into (returned as it is)."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    c_out, c_in_g, kh, kw = weight.shape
    cd = np.dtype(compute_dtype or np.result_type(x.dtype, weight.dtype))
    od = np.dtype(out_dtype or cd)
    L = xs.shape[0]
    ph, pw = padding
    ho = (in_shape[1] + 2 * ph - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    wo = (in_shape[2] + 2 * pw - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    co_g, k, n = c_out // groups, c_in_g * kh * kw, ho * wo
    p, m = pack if pack and pack[0] > 1 else (1, 0)
    if p > 1:
        wg = _pack_weights(weight.reshape(groups, co_g, k), p, m, cd)
    else:
        wg = weight.astype(cd, copy=False).reshape(groups, co_g, k)
    result = out
    if out is None:
        result = out = np.empty((*lead, c_out, ho, wo), od)
    elif out.dtype != od or out.shape != (*lead, c_out, ho, wo) or not out.flags.c_contiguous:
        raise ValueError(f"conv2d: out must be a C-contiguous {od} array of shape {(*lead, c_out, ho, wo)}")
    out = out.reshape(L, c_out, n)
    # bool -> float: gather 1-byte values, convert the columns once (a converting strided copy
    # is several times slower than a plain one)
    as_bytes = xs.dtype == np.bool_ and cd.kind == "f"
    step = max(1, CONV_CHUNK_ELEMENTS // max(1, groups * k * n))
    for l0 in range(0, L, step):
        l1 = min(L, l0 + step)
        xc = xs[l0:l1].view(np.uint8) if as_bytes else xs[l0:l1].astype(cd, copy=False)
        cols = _im2col(xc, (kh, kw), stride, padding, dilation, (ho, wo))
        cols = cols.astype(cd, copy=False).reshape(groups, k, (l1 - l0) * n)
        for g in range(groups):
            y = np.matmul(wg[g], cols[g])                    # [co_g / p rounded up, l * n]
            o = out[l0:l1, g * co_g:(g + 1) * co_g].transpose(1, 0, 2)    # [co_g, l, n] view
            y = y.reshape(y.shape[0], l1 - l0, n)
            if p > 1:
                _unpack_digits(y, p, m, o)
            elif cd == np.float32 and od.kind == "i" and od.itemsize > 4:
                o[...] = y.astype(np.int32)      # |y| < 2**24: float32 -> int64 directly is 2x slower
            else:
                o[...] = y
    return result


def _pack_weights(w: np.ndarray, p: int, m: int, dtype) -> np.ndarray:
    """w: int[G, C, k] -> dtype[G, ceil(C / p), k], row r = sum_i 2**(m*i) * w[:, r*p + i]
    (missing channels of the last row are 0). Summed in int64: exact for the bounds
    :func:`conv2d` requires of ``pack``; the conversion to the float dtype is exact then too."""
    G, C, k = w.shape
    rows = -(-C // p)
    wp = np.zeros((G, rows * p, k), np.int64)
    wp[:, :C] = w
    wp = wp.reshape(G, rows, p, k)
    acc = wp[:, :, p - 1].copy()
    for i in range(p - 2, -1, -1):
        acc = (acc << m) + wp[:, :, i]
    return acc.astype(dtype)


def _unpack_digits(y: np.ndarray, p: int, m: int, out: np.ndarray) -> None:
    """Packed sums ``y: float[R, l, n]`` (exact integers) -> their balanced base-2**m digits:
    ``out[r*p + i] = digit i of y[r]`` for the ``out.shape[0]`` channels of ``out: [C, l, n]``.
    With h = 2**(m-1) and v = y + h: digit 0 = (v mod 2**m) - h and the higher digits are those
    of floor(v / 2**m) (v = digit 0 + h + 2**m * higher, 0 <= digit 0 + h < 2**m), so the next
    v is floor(v / 2**m) + h and the last digit floor(v / 2**m) (two's complement ``&`` and
    ``>>``, in int32 when |y| < 2**24 as float32 proves, int64 otherwise)."""
    h, mask = 1 << (m - 1), (1 << m) - 1
    # int32 when |y| < 2**24 (float32 proves it; faster than int64 even for an int64 output)
    v = np.empty(y.shape, np.int32 if y.dtype == np.float32 else np.int64)
    np.add(y, h, out=v, casting="unsafe")                # exact integers: the cast is exact
    d = np.empty_like(v)
    for i in range(p):
        rows = len(range(i, out.shape[0], p))
        if i == p - 1:                                   # floor((v + h) / 2**m): the last digit
            np.right_shift(v[:rows], m, out=out[i::p])
            break
        np.bitwise_and(v[:rows], mask, out=d[:rows])
        np.subtract(d[:rows], h, out=out[i::p])
        if i < p - 2:                                    # v + h for the next digit
            v >>= m
            v += h


#: values of one chunk's im2col columns (2 MiB of float32): measured on PilotNet's conv layers at
#: batch 32 (bench/conv_layers.py), 2**18..2**20 within noise, 2**19 best or tied on every layer
CONV_CHUNK_ELEMENTS = 1 << 19


def sum_pool2d(x: np.ndarray, kernel, stride, padding, in_shape) -> np.ndarray:
    """Sum over windows: x [*lead, C, H, W] -> [*lead, C, Ho, Wo] (zero padding). One strided
    slice per kernel offset, added up (kh * kw vectorized passes), over chunks of the flattened
    leading axes of about :data:`POOL_CHUNK_ELEMENTS` input values each so the passes stay in
    cache. Float dtypes are kept; bool and integers narrower than 64 bits sum in int64 (exact:
    a narrow input cannot overflow the sum)."""
    lead = x.shape[: x.ndim - 3]
    xs = x.reshape((-1, *in_shape))
    narrow = xs.dtype.kind == "b" or (xs.dtype.kind in "iu" and xs.dtype.itemsize < 8)
    dtype = np.dtype(np.int64) if narrow else xs.dtype
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
