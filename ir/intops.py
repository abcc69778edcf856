"""Integer semantics shared by every backend, written once.

Each operation exists twice in this module, side by side: a numpy function (used by the
simulator, :mod:`snnc.backends.sim.int_kernels`) and a C function (emitted by the C/HLS backend
from :data:`C_HEADER`). Both are generated from one table, :data:`OPS`, and a test compiles the C
with gcc and checks ``np.array_equal`` against numpy on random and edge-case int64 values.

Conventions (all operations):

* Values are ``int64`` (numpy) / ``int64_t`` (C). Every operation is **total on int64**: where
  an intermediate would overflow, both versions wrap modulo 2**64 (numpy integer arrays wrap
  silently; the C code does such arithmetic in ``uint64_t`` and converts back, which gcc and
  clang define as modular). So numpy and C agree bit for bit on every input in the stated
  domains of the *shift/width* arguments.
* Shift amounts ``n`` are in ``[0, 63]``; widths ``bits`` are in ``[1, 64]`` unless stated.
* ``>>`` on a negative signed value is an arithmetic shift (floor) in numpy, gcc, clang and
  ``ap_int``; :data:`C_HEADER` checks it with a static assertion.
* Results are ``int64`` arrays (numpy scalars for scalar inputs); comparisons return 0/1.

Lava's fixed-point models (``lava-nc`` 0.10, docs/numeric_semantics.md#lava-arithmetic) are expressed with these
operations in :mod:`snnc.ir.intnodes`; e.g. Lava's LIF current update is
``lava_wrap(wrap(decay(u, 4095 - du) + wrap(shl(a, 6), 32), 32), 24)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: bits of the decay multiplier's fraction: Lava/Loihi ``rtz(x * m, 12)``, m in [0, 4096]
DECAY_BITS = 12
#: left shift of synaptic input and threshold in Lava's LIF (``act_shift = vth_shift = 6``)
LAVA_ACT_SHIFT = 6
#: width of Lava's u and v state (``uv_bitwidth``)
LAVA_STATE_BITS = 24
#: width of Lava's ports and int32 arithmetic
LAVA_PORT_BITS = 32
#: float64 holds every integer of magnitude below 2**53 exactly
FLOAT64_EXACT = 2 ** 53
#: float32 holds every integer of magnitude below 2**24 exactly
FLOAT32_EXACT = 2 ** 24

I64 = np.int64


def _i(x) -> np.ndarray:
    return np.asarray(x, dtype=I64)


def _modular(fn):
    """Run ``fn`` with numpy's overflow warnings off: int64 arithmetic here is meant to wrap
    (arrays wrap silently anyway; this silences numpy *scalar* overflow warnings)."""

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        with np.errstate(over="ignore"):
            return fn(*args, **kwargs)

    return inner


# ----------------------------------------------------------------------------------------
# numpy versions
# ----------------------------------------------------------------------------------------


@_modular
def shl(x, n):
    """Left shift modulo 2**64: ``x * 2**n`` wrapped to int64. ``n`` in [0, 63].
    (Lava: ``np.left_shift`` on int32/int64 arrays; follow with :func:`wrap` for narrower widths.)"""
    return np.left_shift(_i(x), _i(n))


@_modular
def asr(x, n):
    """Arithmetic shift right = floor(x / 2**n) (rounds toward -inf). ``n`` in [0, 63].
    (Lava: Dense ``acc >> -weight_exp``, SDN ``>> state_exp``, negative ``bias_exp``.)"""
    return np.right_shift(_i(x), _i(n))


@_modular
def rtz_shift(x, n):
    """Shift right rounding toward zero: ``sign(x) * (|x| >> n)`` = trunc(x / 2**n).
    ``n`` in [0, 63]. Computed overflow-free as ``(x + (2**n - 1 if x < 0 else 0)) >> n``, so it is
    exact for every int64 including -2**63. (Lava: the decays, ``sign(d) * (|d| >> 12)``.)"""
    x, n = _i(x), _i(n)
    mask = np.invert(np.left_shift(I64(-1), n))        # 2**n - 1
    # (x >> 63) is -1 for x < 0, else 0: the same as where(x < 0, mask, 0), in bitwise ops
    return np.right_shift(x + np.bitwise_and(np.right_shift(x, 63), mask), n)


@_modular
def shift_exp(x, e):
    """Exponent shift: ``shl(x, e)`` if ``e > 0`` else ``asr(x, -e)``; ``e`` in [-63, 63].
    (Lava Dense ``weight_exp`` applied to the summed accumulator; LIF ``bias_mant << bias_exp``.)"""
    x, e = _i(x), _i(e)
    return np.where(e > 0, np.left_shift(x, np.maximum(e, 0)), np.right_shift(x, np.maximum(-e, 0)))


@_modular
def wrap(x, bits):
    """Two's complement wrap to ``bits`` (1..64): the value in [-2**(bits-1), 2**(bits-1))
    congruent to x modulo 2**bits. (Lava: int32 ports and sums ``bits=32``; Conv output
    ``signed_clamp(x, 24)``.)"""
    if isinstance(bits, (int, np.integer)) and int(bits) in _NARROW:      # same value, ~10x faster
        return np.asarray(x).astype(_NARROW[int(bits)]).astype(I64)
    s = 64 - _i(bits)
    return np.right_shift(np.left_shift(_i(x), s), s)


#: widths whose wrap is numpy's integer narrowing (two's complement truncation)
_NARROW = {8: np.int8, 16: np.int16, 32: np.int32}


@_modular
def saturate(x, bits):
    """Clip to the two's complement range of ``bits`` (1..64): [-2**(bits-1), 2**(bits-1) - 1]."""
    lo = np.left_shift(I64(-1), _i(bits) - 1)          # -2**(bits-1)
    return np.clip(_i(x), lo, np.invert(lo))


@_modular
def saturate_sym(x, bits):
    """Clip to the symmetric range ±(2**(bits-1) - 1), ``bits`` in 1..64 (Lava LIF v:
    ``clip(v, -(2**23 - 1), 2**23 - 1)`` with ``bits=24``)."""
    lo = np.left_shift(I64(-1), _i(bits) - 1)
    return np.clip(_i(x), lo + 1, np.invert(lo))


@_modular
def lava_wrap(x, bits):
    """Lava's asymmetric one-step wrap of the LIF current u (``bits=24``, lif/models.py):
    ``x - 2**bits`` if ``x > 2**(bits-1)``; ``x + 2**bits`` if ``x <= -2**(bits-1)``; else x.
    Unlike :func:`wrap`, ``+2**(bits-1)`` is kept, ``-2**(bits-1)`` becomes ``+2**(bits-1)``, and
    only one correction is applied (an x beyond ±1.5 * 2**bits stays out of range).
    ``bits`` in 1..62."""
    x, b = _i(x), _i(bits)
    half = np.left_shift(I64(1), b - 1)
    full = np.left_shift(I64(1), b)
    if np.ndim(half) == 0 and x.size and x.max() <= half and x.min() > -half:   # nothing to correct
        return x
    return np.where(x > half, x - full, np.where(x <= -half, x + full, x))


@_modular
def decay(x, m, shift=DECAY_BITS):
    """Decay multiply ``rtz_shift(x * m, shift)`` with the product modulo 2**64; m is the
    retention multiplier in [0, 2**shift] (Lava: u multiplier ``4096 - (du + 1)``, v multiplier
    ``4096 - dv``, shift 12). Exact while |x * m| < 2**63 (24-bit states: always)."""
    return rtz_shift(np.multiply(_i(x), _i(m)), shift)


@_modular
def binarize(x):
    """Spike of a binary synapse: 1 if ``x != 0`` else 0 (Lava ``s_in.astype(bool)``: any non-zero
    value, also a negative one, is one spike)."""
    return np.not_equal(_i(x), 0).astype(I64)


@_modular
def fire_gt(v, threshold):
    """Strict threshold test: 1 if ``v > threshold`` else 0 (Lava LIF, NIR)."""
    return np.greater(_i(v), _i(threshold)).astype(I64)


@_modular
def fire_ge(v, threshold):
    """Inclusive threshold test: 1 if ``v >= threshold`` else 0 (spikingjelly, SDN, RF)."""
    return np.greater_equal(_i(v), _i(threshold)).astype(I64)


@_modular
def add(a, b):
    """``a + b`` modulo 2**64 (numpy int64 addition; C adds in ``uint64_t``, no undefined overflow)."""
    return np.add(_i(a), _i(b))


@_modular
def sub(a, b):
    """``a - b`` modulo 2**64."""
    return np.subtract(_i(a), _i(b))


@_modular
def mul(a, b):
    """``a * b`` modulo 2**64."""
    return np.multiply(_i(a), _i(b))


@_modular
def floor_div(a, d):
    """``floor(a / d)`` for a divisor ``d`` >= 1 (numpy ``floor_divide``; C corrects the
    truncating ``/``). (IntLMHT: the number of thresholds a state holds.)"""
    return np.floor_divide(_i(a), _i(d))


@_modular
def clip(x, lo, hi):
    """``min(max(x, lo), hi)`` (numpy ``clip``; ``hi`` wins when ``lo > hi``)."""
    return np.minimum(np.maximum(_i(x), _i(lo)), _i(hi))


def fire(v, threshold, comparison: str):
    """:func:`fire_gt` for comparison ``'>'``, :func:`fire_ge` for ``'>='``."""
    if comparison == ">":
        return fire_gt(v, threshold)
    if comparison == ">=":
        return fire_ge(v, threshold)
    raise ValueError(f"comparison must be '>' or '>=', got {comparison!r}")


def column_abs_sum_max(w_t) -> float:
    """``max_j sum_i |w_t[i, j]|`` as a float (the weight factor of :func:`matmul`'s bound)."""
    w = np.asarray(w_t)
    return float(np.abs(w.astype(np.float64)).sum(axis=0).max()) if w.size else 0.0


def matmul(x, w_t, *, max_abs_x: int | None = None, w_t_float: np.ndarray | None = None,
           w_bound: float | None = None, w_t_float32: np.ndarray | None = None) -> np.ndarray:
    """Exact integer sums of products ``x @ w_t`` modulo 2**64 (C: ``snnc_dot`` per output).

    ``x: int[..., n_in]``, ``w_t: int[n_in, n_out]`` -> ``int64[..., n_out]``.

    Uses float BLAS when that is provably exact: every product and every partial sum is an
    integer of magnitude at most ``B = max_j sum_i |w_t[i, j]| * max|x|``. If ``B < 2**23``,
    all of them are exactly representable in float32 (24-bit significand), so every addition is
    exact whatever order or blocking the BLAS uses; if ``B < 2**52``, the same holds in float64
    (the factor 2 is a margin over the float estimate of B). Otherwise the int64 matmul (no BLAS;
    wraps modulo 2**64 like C). ``max_abs_x``: a known bound on |x| (1 for spikes) to skip
    scanning x; ``w_t_float`` / ``w_t_float32`` and ``w_bound``: cached float64 / float32 copies
    of ``w_t`` and :func:`column_abs_sum_max` of ``w_t``."""
    x = np.asarray(x)                     # int or bool (spikes); converted only as each path needs
    if x.dtype.kind not in "biu":
        x = _i(x)
    w_t = _i(w_t)
    if x.size == 0 or w_t.size == 0:
        return np.zeros((*x.shape[:-1], w_t.shape[-1]), I64)
    if max_abs_x is not None:
        xmax = float(max_abs_x)
    elif x.dtype == np.bool_:
        xmax = 1.0
    else:
        xmax = float(max(abs(int(x.min())), abs(int(x.max()))))
    wf = w_t.astype(np.float64) if w_t_float is None else w_t_float
    bound = column_abs_sum_max(wf) if w_bound is None else w_bound
    if bound * xmax < FLOAT32_EXACT / 2:
        return _float_matmul(x, w_t.astype(np.float32) if w_t_float32 is None else w_t_float32)
    if bound * xmax < FLOAT64_EXACT / 2:
        return _float_matmul(x, wf)
    return _i(x) @ w_t


#: values of x converted to the float dtype at a time by :func:`_float_matmul` (the float copy
#: of a chunk stays in cache instead of a copy of the whole x: 30 MB for 300 steps x 32 samples
#: x 784 inputs, page-faulted in afresh by a first run)
MATMUL_CHUNK_VALUES = 1 << 18


def _float_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` in w's float dtype, as int64 (the caller proved every sum exact there), over
    chunks of x's first axis of about :data:`MATMUL_CHUNK_VALUES` values each (one chunk when x
    is smaller; rows are independent, so the chunks give the same sums)."""
    lead = x.shape[:-1]
    if x.ndim < 2 or x.size <= MATMUL_CHUNK_VALUES:
        return (x.astype(w.dtype) @ w).astype(I64)
    out = np.empty((*lead, w.shape[-1]), I64)
    per_row = x[0].size
    step = max(1, MATMUL_CHUNK_VALUES // max(1, per_row))
    for r0 in range(0, x.shape[0], step):
        out[r0:r0 + step] = x[r0:r0 + step].astype(w.dtype) @ w
    return out


# ----------------------------------------------------------------------------------------
# the table: numpy function + C body, one row per operation
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntOp:
    """One integer operation: ``numpy_fn(*args)`` and the C function
    ``static inline int64_t snnc_<name>(int64_t arg, ...) { <c_body> }`` (all arguments int64)."""

    name: str
    numpy_fn: Callable
    args: tuple[str, ...]
    c_body: str

    @property
    def c_name(self) -> str:
        return f"snnc_{self.name}"

    @property
    def c_source(self) -> str:
        params = ", ".join(f"int64_t {a}" for a in self.args)
        doc = " ".join((self.numpy_fn.__doc__ or "").split()).replace("*/", "* /")
        return f"/* {doc} */\nstatic inline int64_t {self.c_name}({params}) {{\n    {self.c_body}\n}}\n"


OPS: tuple[IntOp, ...] = (
    IntOp("shl", shl, ("x", "n"),
          "return (int64_t)((uint64_t)x << n);"),
    IntOp("asr", asr, ("x", "n"),
          "return x >> n;"),
    IntOp("rtz_shift", rtz_shift, ("x", "n"),
          "int64_t mask = (int64_t)(((uint64_t)1 << n) - 1u);\n"
          "    return (int64_t)((uint64_t)x + (uint64_t)(x < 0 ? mask : 0)) >> n;"),
    IntOp("shift_exp", shift_exp, ("x", "e"),
          "return e > 0 ? snnc_shl(x, e) : snnc_asr(x, -e);"),
    IntOp("wrap", wrap, ("x", "bits"),
          "return snnc_shl(x, 64 - bits) >> (64 - bits);"),
    IntOp("saturate", saturate, ("x", "bits"),
          "int64_t hi = (int64_t)(((uint64_t)1 << (bits - 1)) - 1u);\n"
          "    return x > hi ? hi : (x < -hi - 1 ? -hi - 1 : x);"),
    IntOp("saturate_sym", saturate_sym, ("x", "bits"),
          "int64_t hi = (int64_t)(((uint64_t)1 << (bits - 1)) - 1u);\n"
          "    return x > hi ? hi : (x < -hi ? -hi : x);"),
    IntOp("lava_wrap", lava_wrap, ("x", "bits"),
          "int64_t half = (int64_t)1 << (bits - 1), full = (int64_t)1 << bits;\n"
          "    return x > half ? x - full : (x <= -half ? x + full : x);"),
    IntOp("decay", decay, ("x", "m", "shift"),
          "return snnc_rtz_shift((int64_t)((uint64_t)x * (uint64_t)m), shift);"),
    IntOp("binarize", binarize, ("x",),
          "return x != 0 ? 1 : 0;"),
    IntOp("fire_gt", fire_gt, ("v", "threshold"),
          "return v > threshold ? 1 : 0;"),
    IntOp("fire_ge", fire_ge, ("v", "threshold"),
          "return v >= threshold ? 1 : 0;"),
    IntOp("add", add, ("a", "b"),
          "return (int64_t)((uint64_t)a + (uint64_t)b);"),
    IntOp("sub", sub, ("a", "b"),
          "return (int64_t)((uint64_t)a - (uint64_t)b);"),
    IntOp("mul", mul, ("a", "b"),
          "return (int64_t)((uint64_t)a * (uint64_t)b);"),
    IntOp("floor_div", floor_div, ("a", "d"),
          "int64_t q = a / d;\n"
          "    return (a % d != 0 && a < 0) ? q - 1 : q;"),
    IntOp("clip", clip, ("x", "lo", "hi"),
          "int64_t y = x < lo ? lo : x;\n"
          "    return y > hi ? hi : y;"),
)

OPS_BY_NAME: dict[str, IntOp] = {op.name: op for op in OPS}

#: C for the accumulation that :func:`matmul` computes (one output): sum of w[i] * x[i] mod 2**64
C_DOT = """/* Exact integer dot product modulo 2**64 (numpy: snnc.ir.intops.matmul). */
static inline int64_t snnc_dot(const int64_t *w, const int64_t *x, int64_t n) {
    uint64_t acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += (uint64_t)w[i] * (uint64_t)x[i];
    return (int64_t)acc;
}
"""

#: The C header every C backend includes: the operations of :data:`OPS` plus ``snnc_dot``.
C_HEADER: str = (
    "/* snnc integer semantics (generated from snnc/ir/intops.py; do not edit). */\n"
    "#ifndef SNNC_INTOPS_H\n#define SNNC_INTOPS_H\n#include <stdint.h>\n\n"
    "/* '>>' on negative values must be an arithmetic shift (gcc, clang, ap_int). */\n"
    "#ifdef __cplusplus\nstatic_assert((-1 >> 1) == -1, \"snnc needs arithmetic right shift\");\n"
    "#else\n_Static_assert((-1 >> 1) == -1, \"snnc needs arithmetic right shift\");\n#endif\n\n"
    + "\n".join(op.c_source for op in OPS) + "\n" + C_DOT + "\n#endif /* SNNC_INTOPS_H */\n"
)

__all__ = [
    "C_DOT", "C_HEADER", "DECAY_BITS", "FLOAT32_EXACT", "FLOAT64_EXACT", "LAVA_ACT_SHIFT", "LAVA_PORT_BITS",
    "LAVA_STATE_BITS", "OPS", "OPS_BY_NAME", "IntOp", "add", "asr", "binarize", "clip", "column_abs_sum_max",
    "decay", "fire", "fire_ge", "fire_gt", "floor_div", "lava_wrap", "matmul", "mul", "rtz_shift", "saturate",
    "saturate_sym", "shift_exp", "shl", "sub", "wrap",
]
