"""lava-dl netx 0.6.0's and Lava's integer weight rules, written once for the ``.net`` reader
(:mod:`snnc.frontend.netx_import`) and the ``.net`` writer (:mod:`snnc.backends.lava.netx`).
Source: docs/netx_format.md#weights (netx ``utils.optimize_weight_bits``, Lava Dense
``clip_weights`` / ``truncate_weights``)."""

from __future__ import annotations

import math

import numpy as np

from .errors import UnsupportedError
from .intnodes import IntDense

#: Lava keeps weights, biases and synaptic sums in int32
INT32_LIMIT = 2 ** 31


def optimize_weight_bits(w: np.ndarray) -> tuple[np.ndarray, int, int, bool, str | None]:
    """lava-dl 0.6.0 ``netx.utils.optimize_weight_bits`` restated (clip included): returns
    ``(w << scale_bits, num_weight_bits, weight_exp = -scale_bits, clipped, problem)``.
    ``clipped``: netx clipped mixed-sign weights to [-256, 254] (with a warning). ``problem`` is
    set (and the other values meaningless) where netx fails (all-zero matrix: division by zero)
    or shifts by a negative amount (weights beyond its range). ``w``: int[n_out, n_in]."""
    w = np.asarray(w, np.int64)
    wmax, wmin = int(w.max()), int(w.min())
    clipped = False
    if (wmax > 254 and wmin < 0) or (wmin < -256 and wmax > 0):
        w = np.clip(w, -256, 254)
        wmax, wmin = int(w.max()), int(w.min())
        clipped = True
    if wmax == 0 and wmin == 0:
        return w, 0, 0, clipped, "an all-zero weight matrix: netx's optimize_weight_bits divides by zero"
    if wmax < 0:
        scale, signed = -256.0 / wmin, 0
    elif wmin >= 0:
        scale, signed = 255.0 / wmax, 0
    else:
        scale, signed = min(127.0 / wmax if wmax > 0 else math.inf, -128.0 / wmin), 1
    scale_bits = int(np.floor(np.log2(scale))) + signed
    if scale_bits < 0:
        return w, 0, 0, clipped, (f"weights span [{wmin}, {wmax}]: netx's optimize_weight_bits would shift them "
                                  f"by {scale_bits} bits (zeroing them); excitatory weights must be <= 255, "
                                  "inhibitory >= -256")
    n = 8
    while n > 0 and np.any(w % (1 << n)):
        n -= 1
    n -= signed
    return w << scale_bits, 8 - scale_bits - n, -scale_bits, clipped, None


def lava_sign_mode(w: np.ndarray) -> int:
    """Lava's ``determine_sign_mode``: 2 excitatory (min >= 0), 3 inhibitory (max <= 0), 1 mixed."""
    return 2 if w.min() >= 0 else (3 if w.max() <= 0 else 1)


def lava_dense_weights(w: np.ndarray, num_weight_bits: int) -> tuple[np.ndarray, int, int]:
    """The weights Lava's bit-accurate Dense/DelayDense use after ``clip_weights`` (8 bits) and
    ``truncate_weights`` under the sign mode it derives itself (netx passes none):
    ``(weights, sign_mode, truncated_bits)``; truncated_bits < 0 means Lava would shift by a
    negative count."""
    mode = lava_sign_mode(w)
    mixed, inh = mode == 1, mode == 3
    m = -w if inh else w
    m = np.clip(m, -256 if mixed else 0, 255)
    k = 8 - int(num_weight_bits) + int(mixed)
    if k > 0:
        m = (m >> k) << k
    return (-m if inh else m), mode, k


def lava_truncated_weights(w: np.ndarray, num_weight_bits: int, field: str) -> tuple[np.ndarray, int]:
    """:func:`lava_dense_weights` for a synapse snnc must be exact against: ``(weights,
    sign_mode)``, or an UnsupportedError naming ``field`` where Lava would shift by a negative
    count (``num_weight_bits`` beyond what its sign mode truncates)."""
    eff, mode, trunc = lava_dense_weights(w, num_weight_bits)
    if trunc < 0:
        raise UnsupportedError(f"num_weight_bits {num_weight_bits} exceeds what Lava's Dense truncates in sign mode "
                               f"{mode} (it would shift by {trunc})", field=field)
    return eff, mode


def lava_int_dense(w: np.ndarray, wexp: int, graded: bool, *, delayed: bool, meta: dict) -> IntDense:
    """Lava's arithmetic on its effective weights ``w`` (scaled by 2**-wexp):
    Dense binary: int64 sum of the selected columns, >> -wexp, int32 port;
    Dense graded: int32 ``W.dot(s)`` (wraps), >> -wexp;
    DelayDense (both): int64 sum, >> -wexp, int32 buffer."""
    w = np.asarray(w, np.int64)
    s = -int(wexp)
    bound = float(np.abs(w).sum(axis=1).max()) if w.size else 0.0
    if graded and not delayed:
        acc_bits = 32
    else:
        acc_bits = 32 if bound < INT32_LIMIT and not graded else 64   # binary: no wrap is possible below 2**31
    if not graded and s > 0 and not np.any(w % (1 << s)):
        w, s = w >> s, 0                 # same sums: every weight is a multiple of 2**s
    node = IntDense(weight=w, weight_exp=-s, input_kind="graded" if graded else "binary", acc_bits=acc_bits,
                    out_bits=32)
    node.metadata.update(meta)
    return node
