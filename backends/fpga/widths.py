"""Integer widths and C types of the generated HLS code.

Every stored array (weights, states, node outputs) gets a width in bits from the values it can
hold, and one ``typedef``: ``ap_int<bits>`` under ``__SYNTHESIS__`` (Vitis HLS) and the smallest
standard ``intN_t`` holding it otherwise (gcc). The gcc build therefore stores values at least as
wide as the synthesized design, and every arithmetic step is done in ``int64_t`` by the
functions of :mod:`snnc.ir.intops` in both builds; the widths only bound storage. A width that
was too small would wrap a value in the gcc build, and the bit-exact tests against the
simulator would catch it.
"""

from __future__ import annotations

import numpy as np

STD_TYPES = ((8, "int8_t"), (16, "int16_t"), (32, "int32_t"), (64, "int64_t"))


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
    """Collects the typedefs of one generated model (name -> bits) for ``snnc_types.h``."""

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}

    def add(self, name: str, bits: int) -> str:
        self.bits[name] = max(2, min(64, int(bits)))
        return name

    def header(self) -> str:
        lines = ["/* Storage types of the generated model (snnc/backends/fpga/widths.py). */",
                 "#ifndef SNNC_TYPES_H", "#define SNNC_TYPES_H", "#include <stdint.h>", "#ifdef __SYNTHESIS__",
                 "#include \"ap_int.h\""]
        lines += [f"typedef {hls_type(b)} {n};" for n, b in self.bits.items()]
        lines.append("#else")
        lines += [f"typedef {std_type(b)} {n};  /* {b} bits */" for n, b in self.bits.items()]
        lines += ["#endif", "#endif /* SNNC_TYPES_H */", ""]
        return "\n".join(lines)
