"""Integer widths and C types of the generated HLS code, and the value bounds they come from.

Every array and every accumulator of the generated model gets the width its values provably
need, and one ``typedef`` in ``firmware/snnc_types.h`` with two branches:

* **typed** (``SNNC_AP_TYPES`` or ``__SYNTHESIS__`` defined; Vitis HLS csim/csynth/cosim and
  ``make csim-typed``): ``ap_int<N>`` of exactly that width;
* **plain** (gcc, the ctypes runtime): the smallest standard ``intN_t`` holding it.

Ports of the top function are the smallest standard ``intN_t`` in *both* branches (one signature,
so the testbench also drives co-simulation). An accumulator whose bound leaves 62 bits is
``uint64_t`` in both branches and wraps modulo 2**64 (the simulator's int64). Neuron updates call
the int64 functions of :mod:`snnc.ir.intops` and store into the typed states.

Bounds (the interval each value can take) come from the node fields: a synapse sum
``sum_i w[o, i] * x[i]`` with ``x`` in ``[lo, hi]`` lies in
``[min_o sum_i min(w lo, w hi), max_o sum_i max(w lo, w hi)]`` (binary input: ``x`` in {0, 1}).
These are computed here; the shared value-bound functions of ``snnc.ir`` can replace them later.
A width that was too small would wrap a value in the gcc build, and the bit-exact tests against
the simulator would catch it.
"""

from __future__ import annotations

import numpy as np

STD_TYPES = ((8, "int8_t"), (16, "int16_t"), (32, "int32_t"), (64, "int64_t"))
#: an accumulator needing more bits than this wraps in ``uint64_t`` (int64 semantics)
MAX_EXACT_ACC_BITS = 62
#: macro selecting the ap_int branch in gcc builds (Vitis's synthesis defines __SYNTHESIS__ too)
TYPED_MACRO = "SNNC_AP_TYPES"


def bits_for_range(lo: int, hi: int) -> int:
    """The smallest two's complement width (>= 2, <= 64) holding every integer in [lo, hi]."""
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    for b in range(2, 65):
        if -(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1:
            return b
    return 64


def bits_for_values(values) -> int:
    a = np.asarray(values, dtype=np.int64)
    if a.size == 0:
        return 2
    return bits_for_range(int(a.min()), int(a.max()))


def range_of_bits(bits: int) -> tuple[int, int]:
    """[lo, hi] of a signed ``bits``-wide value."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def sum_bound(weight: np.ndarray, x_lo: int, x_hi: int, axis: int = 1, extra: np.ndarray | None = None
              ) -> tuple[int, int]:
    """Interval of ``sum_axis weight * x`` (+ ``extra`` per output) over every output, for ``x`` in
    ``[x_lo, x_hi]``. Computed in float64 and widened by a relative 2**-40 plus one, so the
    interval is safe (never too small); only its width in bits is used."""
    w = np.asarray(weight, dtype=np.float64)
    if w.size == 0:
        return 0, 0
    a, b = w * float(x_lo), w * float(x_hi)
    hi = np.maximum(a, b).sum(axis=axis)
    lo = np.minimum(a, b).sum(axis=axis)
    if extra is not None:
        e = np.asarray(extra, dtype=np.float64).reshape(hi.shape) if np.size(extra) == hi.size else float(
            np.asarray(extra).reshape(-1)[0])
        hi, lo = hi + e, lo + e
    hi_v, lo_v = float(hi.max()), float(lo.min())
    pad = lambda v: abs(v) * 2.0 ** -40 + 1.0          # noqa: E731
    if max(abs(hi_v), abs(lo_v)) >= 2.0 ** 63:
        return -(2 ** 63), 2 ** 63 - 1
    return int(np.floor(lo_v - pad(lo_v))), int(np.ceil(hi_v + pad(hi_v)))


def acc_bits(lo: int, hi: int) -> int:
    """Accumulator width for a sum in [lo, hi]: exact width, or 64 (wrapping uint64) beyond
    :data:`MAX_EXACT_ACC_BITS`."""
    b = bits_for_range(lo, hi)
    return b if b <= MAX_EXACT_ACC_BITS else 64


def std_type(bits: int) -> str:
    """The gcc storage type for a signed width."""
    for b, name in STD_TYPES:
        if bits <= b:
            return name
    return "int64_t"


def hls_type(bits: int) -> str:
    """The Vitis HLS storage type for a signed width."""
    return "int64_t" if bits >= 64 else f"ap_int<{bits}>"


def c_literal(v: int) -> str:
    """An int64 literal valid in C and C++ (INT64_MIN has no literal of its own)."""
    v = int(v)
    if v == -(2 ** 63):
        return "(-9223372036854775807LL - 1)"
    return f"{v}LL" if not -(2 ** 31) <= v < 2 ** 31 else str(v)


class TypeTable:
    """Collects the typedefs of one generated model for ``snnc_types.h``: typed names (name ->
    bits; ap_int / intN_t), ports (intN_t in both branches) and fixed C types (both branches)."""

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self.fixed: dict[str, str] = {}
        self.ports: set[str] = set()

    def add(self, name: str, bits: int) -> str:
        self.bits[name] = max(2, min(64, int(bits)))
        return name

    def add_port(self, name: str, bits: int) -> str:
        """A top-function port type: the smallest standard intN_t in both branches."""
        self.ports.add(name)
        return self.add(name, bits)

    def add_acc(self, name: str, bits: int) -> str:
        """An accumulator: ap_int / intN_t of ``bits``, or uint64_t (wrapping) when ``bits`` is 64."""
        if bits >= 64:
            self.fixed[name] = "uint64_t"
            self.bits[name] = 64
            return name
        return self.add(name, bits)

    def c_type(self, name: str, typed: bool) -> str:
        if name in self.fixed:
            return self.fixed[name]
        b = self.bits[name]
        return hls_type(b) if typed and name not in self.ports else std_type(b)

    def header(self) -> str:
        lines = ["/* Types of the generated model, each the width its values provably need",
                 "   (snnc/backends/fpga/widths.py). Ports are intN_t in both branches. */",
                 "#ifndef SNNC_TYPES_H", "#define SNNC_TYPES_H", "#include <stdint.h>",
                 f"#if defined(__SYNTHESIS__) || defined({TYPED_MACRO})", "#include \"ap_int.h\"",
                 "#define SNNC_TYPED 1"]
        lines += [f"typedef {self.c_type(n, True)} {n};" for n in self.bits]
        lines.append("#else")
        lines += [f"typedef {self.c_type(n, False)} {n};  /* {b} bits */" for n, b in self.bits.items()]
        lines += ["#endif", "#endif /* SNNC_TYPES_H */", ""]
        return "\n".join(lines)
