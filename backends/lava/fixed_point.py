"""Integer arithmetic of the custom Lava process models, in plain numpy (no snnc, no Lava).

These functions restate :mod:`snnc.ir.intops` (the one written-down semantics that the simulator
and the C backend share) so that the emitted ``network.py`` runs with only ``lava-nc`` and numpy
installed: the emitter copies this module's body (below the ``snnc:inline-begin`` line) verbatim
into every generated network. ``tests/backends/lava/test_lava_fixed_point.py`` checks each
function against its :mod:`snnc.ir.intops` twin with ``np.array_equal`` on random and edge values.

All values are int64 arrays; intermediate overflow wraps modulo 2**64 (numpy integer arrays do
that silently), shift amounts are in [0, 63], widths in [1, 64].
"""

from __future__ import annotations

import numpy as np

# --- snnc:inline-begin ---
# =============================================================================================
# Fixed-point arithmetic (restates snnc.ir.intops; copied from snnc/backends/lava/fixed_point.py)
# =============================================================================================

I64 = np.int64


def fx_i64(x):
    """``x`` as an int64 array."""
    return np.asarray(x, dtype=I64)


def fx_shl(x, n):
    """Left shift modulo 2**64 (``intops.shl``)."""
    with np.errstate(over="ignore"):
        return np.left_shift(fx_i64(x), fx_i64(n))


def fx_asr(x, n):
    """Arithmetic shift right = floor(x / 2**n) (``intops.asr``)."""
    return np.right_shift(fx_i64(x), fx_i64(n))


def fx_rtz_shift(x, n):
    """Shift right rounding toward zero, sign(x) * (|x| >> n) (``intops.rtz_shift``)."""
    x, n = fx_i64(x), fx_i64(n)
    with np.errstate(over="ignore"):
        mask = np.invert(np.left_shift(I64(-1), n))
        return np.right_shift(x + np.where(x < 0, mask, 0), n)


def fx_shift_exp(x, e):
    """``x << e`` if e > 0 else floor(x / 2**-e) (``intops.shift_exp``)."""
    x, e = fx_i64(x), fx_i64(e)
    with np.errstate(over="ignore"):
        return np.where(e > 0, np.left_shift(x, np.maximum(e, 0)), np.right_shift(x, np.maximum(-e, 0)))


def fx_wrap(x, bits):
    """Two's complement wrap to ``bits`` (``intops.wrap``)."""
    s = 64 - fx_i64(bits)
    with np.errstate(over="ignore"):
        return np.right_shift(np.left_shift(fx_i64(x), s), s)


def fx_saturate(x, bits):
    """Clip to [-2**(bits-1), 2**(bits-1) - 1] (``intops.saturate``)."""
    lo = np.left_shift(I64(-1), fx_i64(bits) - 1)
    return np.clip(fx_i64(x), lo, np.invert(lo))


def fx_saturate_sym(x, bits):
    """Clip to ±(2**(bits-1) - 1) (``intops.saturate_sym``)."""
    lo = np.left_shift(I64(-1), fx_i64(bits) - 1)
    return np.clip(fx_i64(x), lo + 1, np.invert(lo))


def fx_lava_wrap(x, bits):
    """Lava's one-step asymmetric wrap of the LIF current (``intops.lava_wrap``)."""
    x, b = fx_i64(x), fx_i64(bits)
    half = np.left_shift(I64(1), b - 1)
    full = np.left_shift(I64(1), b)
    return np.where(x > half, x - full, np.where(x <= -half, x + full, x))


def fx_decay(x, m, shift=12):
    """``rtz_shift(x * m, shift)`` with the product modulo 2**64 (``intops.decay``)."""
    with np.errstate(over="ignore"):
        return fx_rtz_shift(np.multiply(fx_i64(x), fx_i64(m)), shift)


def fx_binarize(x):
    """1 where x != 0 (``intops.binarize``: a binary synapse counts any non-zero value once)."""
    return np.not_equal(fx_i64(x), 0).astype(I64)


def fx_fire(v, threshold, comparison):
    """``v > threshold`` ('>') or ``v >= threshold`` ('>=') as 0/1 (``intops.fire``)."""
    if comparison == ">":
        return np.greater(fx_i64(v), fx_i64(threshold)).astype(I64)
    if comparison == ">=":
        return np.greater_equal(fx_i64(v), fx_i64(threshold)).astype(I64)
    raise ValueError(f"comparison must be '>' or '>=', got {comparison!r}")


def fx_overflow(x, bits, mode):
    """State overflow of the seed-neuron nodes (``snnc.ir.intneurons``): 'saturate' clips to
    ±(2**(bits-1) - 1), anything else wraps."""
    return fx_saturate_sym(x, bits) if mode == "saturate" else fx_wrap(x, bits)


def fx_matmul(w, x):
    """Exact ``w @ x`` modulo 2**64 for int64 ``w[n_out, n_in]`` and ``x[n_in]`` (float64 BLAS
    when every partial sum is provably below 2**52 in magnitude, as ``intops.matmul``)."""
    w, x = fx_i64(w), fx_i64(x)
    if w.size == 0 or x.size == 0:
        return np.zeros(w.shape[:-1], I64)
    wf = w.astype(np.float64)
    bound = float(np.abs(wf).sum(axis=1).max()) * float(np.abs(x.astype(np.float64)).max())
    if bound < 2.0 ** 52:
        return (wf @ x.astype(np.float64)).astype(I64)
    with np.errstate(over="ignore"):
        return w @ x


def fx_conv2d(x, w, stride, padding, dilation, groups):
    """Exact torch-style cross-correlation (zero padding, groups) of ``x[C_in, H, W]`` with
    ``w[C_out, C_in/groups, kH, kW]`` -> int64 ``[C_out, H', W']`` (the simulator's
    ``ops.conv2d`` on one sample). ``stride``/``padding``/``dilation``: (y, x) pairs."""
    x, w = fx_i64(x), fx_i64(w)
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    c_out, c_in_g, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    ho = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    co_g = c_out // groups
    out = np.zeros((c_out, max(ho, 0), max(wo, 0)), I64)
    with np.errstate(over="ignore"):
        for g in range(groups):
            xg = xp[g * c_in_g:(g + 1) * c_in_g]
            wg = w[g * co_g:(g + 1) * co_g]
            for i in range(kh):
                for j in range(kw):
                    patch = xg[:, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
                    out[g * co_g:(g + 1) * co_g] += np.einsum("oc,chw->ohw", wg[:, :, i, j], patch)
    return out
