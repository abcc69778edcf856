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

Bounds: a node's output and its summed input are bounded by the shared per-node-type rules of
:mod:`snnc.ir.value_bounds` (``output_bounds``; Input nodes by their port's width), a synapse's
accumulator by :func:`snnc.ir.value_bounds.sum_bound` (the exact sum before any wrap or shift),
see :func:`acc_bits_for`. Inside a neuron update every local is an interval (:class:`Range`)
computed from the state widths, the parameters and the input's range, operation by operation
(:meth:`Range.decay`, ``+``, :meth:`Range.wrap`, ...), mirroring the kernel's statements. A width
that was too small would wrap a value in the gcc build, and the bit-exact tests against the
simulator (random graphs driven to their input bounds) would catch it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def bits_for_bound(bound: float) -> int:
    """The smallest width holding every integer of magnitude <= ``bound`` (64 when unbounded or
    at least 2**62). ``bound`` is a float of :mod:`snnc.ir.value_bounds` (padded by a relative
    2**-40 against its float rounding)."""
    if not math.isfinite(bound) or bound >= 2.0 ** 62:
        return 64
    b = math.floor(bound * (1.0 + 2.0 ** -40) + 1e-9)
    return bits_for_range(-b, b)


def acc_bits_for(bound: float) -> int:
    """Accumulator width for a sum of magnitude <= ``bound`` (:func:`snnc.ir.value_bounds.sum_bound`):
    the exact width, or 64 (wrapping uint64) beyond :data:`MAX_EXACT_ACC_BITS`."""
    b = bits_for_bound(bound)
    return b if b <= MAX_EXACT_ACC_BITS else 64


_INF = math.inf


def _rtz(v, n: int):
    if not math.isfinite(v):
        return v
    v = int(v)
    return -((-v) >> n) if v < 0 else v >> n


@dataclass(frozen=True)
class Range:
    """Closed interval ``[lo, hi]`` of an int64 value (ints; ``-inf`` / ``inf`` when unbounded).
    Every operation mirrors one of :mod:`snnc.ir.intops` and is sound for it: an interval
    reaching beyond int64 becomes unbounded (the int64 operation may have wrapped)."""

    lo: float
    hi: float

    @staticmethod
    def of(lo, hi) -> Range:
        if lo < -(2 ** 63) or hi > 2 ** 63 - 1:
            return Range(-_INF, _INF)
        return Range(lo if not math.isfinite(lo) else int(lo), hi if not math.isfinite(hi) else int(hi))

    @staticmethod
    def bits(bits: int) -> Range:
        """Every value of a signed ``bits``-wide integer."""
        return Range(*range_of_bits(min(64, int(bits))))

    @staticmethod
    def values(values) -> Range:
        a = np.asarray(values, dtype=np.int64)
        return Range(0, 0) if a.size == 0 else Range(int(a.min()), int(a.max()))

    @staticmethod
    def bound(bound: float) -> Range:
        """``[-b, b]`` for a bound of |value| (:mod:`snnc.ir.value_bounds`)."""
        if not math.isfinite(bound) or bound >= 2.0 ** 63:
            return Range(-_INF, _INF)
        b = math.floor(bound * (1.0 + 2.0 ** -40) + 1e-9)
        return Range(-b, b)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def width(self) -> int:
        """The smallest signed width holding the interval (64 when unbounded)."""
        return bits_for_range(self.lo, self.hi) if self.bounded else 64

    def __add__(self, o: Range) -> Range:
        return Range.of(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o: Range) -> Range:
        return Range.of(self.lo - o.hi, self.hi - o.lo)

    def __or__(self, o: Range) -> Range:
        """Union (a value that is one or the other)."""
        return Range(min(self.lo, o.lo), max(self.hi, o.hi))

    def __and__(self, o: Range) -> Range:
        """Intersection (a value known to lie in both)."""
        return Range(max(self.lo, o.lo), min(self.hi, o.hi))

    def __mul__(self, o: Range) -> Range:
        if self == Range(0, 0) or o == Range(0, 0):
            return Range(0, 0)
        if not (self.bounded and o.bounded):
            return Range(-_INF, _INF)
        p = [a * b for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        return Range.of(min(p), max(p))

    def rtz(self, n: int) -> Range:
        """``rtz_shift`` (monotone)."""
        return Range(_rtz(self.lo, int(n)), _rtz(self.hi, int(n)))

    def decay(self, m: Range, shift: int) -> Range:
        """``decay(x, m, shift) = rtz_shift(x * m, shift)``."""
        return (self * m).rtz(shift)

    def floor_div(self, d: int) -> Range:
        """``floor_div`` by a constant ``d >= 1``."""
        def f(v):
            return v if not math.isfinite(v) else int(v) // int(d)

        return Range(f(self.lo), f(self.hi))

    def clip(self, lo, hi) -> Range:
        """``clip(x, lo, hi) = min(max(x, lo), hi)`` for constants or intervals ``lo``, ``hi``."""
        lo = lo if isinstance(lo, Range) else Range(lo, lo)
        hi = hi if isinstance(hi, Range) else Range(hi, hi)
        return Range(min(max(self.lo, lo.lo), hi.lo), min(max(self.hi, lo.hi), hi.hi))

    def wrap(self, bits: int) -> Range:
        """``wrap(x, bits)``: unchanged when it already fits, else every ``bits``-wide value."""
        full = Range.bits(bits)
        return self if (self & full) == self else full

    def saturate(self, bits: int, symmetric: bool = False) -> Range:
        """``saturate`` / ``saturate_sym``: clamped into the ``bits``-wide range."""
        lo, hi = range_of_bits(min(64, int(bits)))
        return self.clip(lo + (1 if symmetric else 0), hi)


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
