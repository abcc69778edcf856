"""Combinational integer arithmetic as Verilog wires, each sized by its value range.

A :class:`Netlist` records one ``wire signed [w-1:0] nK = <expr>;`` per operation. Every value is
a :class:`Sig` carrying the integer interval ``[lo, hi]`` it can take; the width of a wire is the
smallest two's complement width holding that interval, so the emitted datapath is as narrow as
the value ranges allow and still computes the exact integers of :mod:`snnc.ir.intops`:

* an exact result fits its wire by construction; Verilog evaluates a signed expression in the
  largest width of its operands and target (operands sign-extended), so sums, products and
  shifts of narrower wires are exact;
* where the interval leaves int64, the wire is 64 bits and arithmetic wraps modulo 2**64, as
  the simulator's int64 does (``intops``: every operation is total on int64);
* ``wrap(x, b)`` takes the low ``b`` bits and reinterprets them as signed (a no-op when the
  interval already fits ``b`` bits); saturations and selections compare signed wires.

All operands are signed wires or ``$signed`` literals, never concatenations or part selects
(Verilog treats those as unsigned: ``>>>`` on them is a logical shift).
"""

from __future__ import annotations

from dataclasses import dataclass

I64_LO, I64_HI = -(2 ** 63), 2 ** 63 - 1


def bits_for(lo: int, hi: int) -> int:
    """Smallest two's complement width (2..64) holding [lo, hi] (and 0); 64 beyond int64."""
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    b = max(lo.bit_length() if lo >= 0 else (-lo - 1).bit_length(), hi.bit_length()) + 1
    return max(2, min(64, b))


def literal(value: int, width: int) -> str:
    """A signed Verilog literal of ``width`` bits (two's complement hex, never a unary minus)."""
    return f"$signed({width}'h{int(value) % (1 << width):x})"


@dataclass(frozen=True)
class Sig:
    """A signed value: Verilog expression ``ref`` (a wire name or a literal), width in bits,
    interval [lo, hi] of the integers it can hold."""

    ref: str
    width: int
    lo: int
    hi: int

    @property
    def const(self) -> bool:
        return self.lo == self.hi and self.ref.startswith("$signed(")


@dataclass(frozen=True)
class Cond:
    """A 1-bit condition wire (unsigned; use :meth:`Netlist.as_int` for a 0/1 value)."""

    ref: str


class Netlist:
    """Collects wire declarations in creation order; :meth:`text` returns them."""

    def __init__(self, prefix: str = "n"):
        self.prefix = prefix
        self.lines: list[str] = []
        self.count = 0

    def text(self, indent: str = "  ") -> str:
        return "".join(indent + line + "\n" for line in self.lines)

    # -- declarations ------------------------------------------------------------------------

    def _name(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count}"

    def wire(self, expr: str, lo: int, hi: int) -> Sig:
        """Declare a wire for ``expr`` whose exact value lies in [lo, hi] (or wraps mod 2**64)."""
        if lo < I64_LO or hi > I64_HI:
            lo, hi = I64_LO, I64_HI
        w = bits_for(lo, hi)
        name = self._name()
        self.lines.append(f"wire signed [{w - 1}:0] {name} = {expr};")
        return Sig(name, w, int(lo), int(hi))

    def cond(self, expr: str) -> Cond:
        name = self._name()
        self.lines.append(f"wire {name} = {expr};")
        return Cond(name)

    def const(self, value: int) -> Sig:
        value = int(value)
        w = bits_for(value, value)
        return Sig(literal(value, w), w, value, value)

    def port(self, ref: str, width: int, lo: int | None = None, hi: int | None = None) -> Sig:
        """An existing signed wire/register ``ref`` of ``width`` bits (interval: its full range
        unless given)."""
        lo = -(1 << (width - 1)) if lo is None else lo
        hi = (1 << (width - 1)) - 1 if hi is None else hi
        return Sig(ref, width, int(lo), int(hi))

    # -- arithmetic (intops semantics) -----------------------------------------------------

    def add(self, a: Sig, b: Sig) -> Sig:
        if a.const and a.lo == 0:
            return b
        if b.const and b.lo == 0:
            return a
        return self.wire(f"{a.ref} + {b.ref}", a.lo + b.lo, a.hi + b.hi)

    def sub(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo == 0:
            return a
        return self.wire(f"{a.ref} - {b.ref}", a.lo - b.hi, a.hi - b.lo)

    def mul(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo == 1:
            return a
        corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        return self.wire(f"{a.ref} * {b.ref}", min(corners), max(corners))

    def shl(self, a: Sig, n: int) -> Sig:
        if n == 0:
            return a
        return self.wire(f"{a.ref} <<< {n}", a.lo << n, a.hi << n)

    def asr(self, a: Sig, n: int) -> Sig:
        """floor(a / 2**n)."""
        if n == 0:
            return a
        return self.wire(f"{a.ref} >>> {n}", a.lo >> n, a.hi >> n)

    def shift_exp(self, a: Sig, e: int) -> Sig:
        return self.shl(a, e) if e > 0 else self.asr(a, -e)

    def rtz_shift(self, a: Sig, n: int) -> Sig:
        """trunc(a / 2**n) = (a + (a < 0 ? 2**n - 1 : 0)) >>> n."""
        if n == 0:
            return a
        if a.lo >= 0:
            return self.asr(a, n)
        mask = (1 << n) - 1
        bias = self.wire(f"{a.ref} + ({a.ref} < {literal(0, 2)} ? {literal(mask, bits_for(0, mask))} : "
                         f"{literal(0, 2)})", a.lo, max(a.hi, mask - 1) if a.hi >= 0 else mask - 1)
        def trunc(v: int) -> int:
            return -((-v) >> n) if v < 0 else v >> n
        return self.wire(f"{bias.ref} >>> {n}", trunc(a.lo), trunc(a.hi))

    def decay(self, a: Sig, m: Sig, shift: int) -> Sig:
        """rtz_shift(a * m, shift)."""
        return self.rtz_shift(self.mul(a, m), shift)

    def wrap(self, a: Sig, bits: int) -> Sig:
        """Two's complement wrap to ``bits``; the identity when the interval fits."""
        if bits >= 64 or (-(1 << (bits - 1)) <= a.lo and a.hi < (1 << (bits - 1))):
            return a
        name = self._name()
        self.lines.append(f"wire signed [{bits - 1}:0] {name} = {a.ref}[{bits - 1}:0];")
        return Sig(name, bits, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def clip(self, a: Sig, lo: Sig, hi: Sig) -> Sig:
        """min(max(a, lo), hi) (hi wins when lo > hi, as numpy)."""
        if lo.const and hi.const and lo.lo <= a.lo and a.hi <= hi.lo:
            return a
        y = a
        if not (lo.const and lo.lo <= a.lo):
            y = self.wire(f"({y.ref} < {lo.ref}) ? {lo.ref} : {y.ref}", max(a.lo, lo.lo), max(a.hi, lo.hi))
        if not (hi.const and y.hi <= hi.lo):
            y = self.wire(f"({y.ref} > {hi.ref}) ? {hi.ref} : {y.ref}", min(y.lo, hi.lo), min(y.hi, hi.hi))
        return y

    def clamp(self, a: Sig, lo: int, hi: int) -> Sig:
        return self.clip(a, self.const(lo), self.const(hi))

    def saturate(self, a: Sig, bits: int) -> Sig:
        return a if bits >= 64 else self.clamp(a, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def saturate_sym(self, a: Sig, bits: int) -> Sig:
        return self.clamp(a, -(1 << (bits - 1)) + 1, (1 << (bits - 1)) - 1)

    def lava_wrap(self, a: Sig, bits: int) -> Sig:
        """x - 2**bits if x > 2**(bits-1); x + 2**bits if x <= -2**(bits-1); else x."""
        half, full = 1 << (bits - 1), 1 << bits
        if a.hi <= half and a.lo > -half:
            return a
        lo, hi = max(a.lo, -half + 1), min(a.hi, half)
        if a.hi > half:
            lo, hi = min(lo, half + 1 - full), max(hi, a.hi - full)
        if a.lo <= -half:
            lo, hi = min(lo, a.lo + full), max(hi, -half + full)
        h, f = self.const(half), self.const(full)
        nh = self.const(-half)
        return self.wire(f"({a.ref} > {h.ref}) ? {a.ref} - {f.ref} : (({a.ref} <= {nh.ref}) ? {a.ref} + {f.ref} : "
                         f"{a.ref})", lo, hi)

    def select(self, c: Cond, a: Sig, b: Sig) -> Sig:
        """c ? a : b."""
        if a.const and b.const and a.lo == b.lo:
            return a
        return self.wire(f"{c.ref} ? {a.ref} : {b.ref}", min(a.lo, b.lo), max(a.hi, b.hi))

    def maximum(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo <= a.lo:
            return a
        return self.wire(f"({a.ref} > {b.ref}) ? {a.ref} : {b.ref}", max(a.lo, b.lo), max(a.hi, b.hi))

    def lookup(self, table: str, size: int, idx: Sig, lo: int, hi: int) -> Sig:
        """``table[idx]`` for an index whose interval lies in [0, size - 1] (a ROM read
        combinationally; ``lo``/``hi``: the table's value range)."""
        ab = max(1, (size - 1).bit_length())
        if idx.width <= ab:
            ix = self.wire(idx.ref, idx.lo, idx.hi) if idx.const else idx
            sel = f"$unsigned({ix.ref})"
        else:
            sel = f"{idx.ref}[{ab - 1}:0]"
        return self.wire(f"{table}[{sel}]", lo, hi)

    # -- conditions --------------------------------------------------------------------------

    def cmp(self, a: Sig, op: str, b: Sig) -> Cond:
        return self.cond(f"({a.ref} {op} {b.ref})")

    def fire(self, h: Sig, thr: Sig, comparison: str) -> Cond:
        return self.cmp(h, ">" if comparison == ">" else ">=", thr)

    def nonzero(self, a: Sig) -> Cond:
        return self.cond(f"({a.ref} != {literal(0, 2)})")

    def both(self, *cs: Cond) -> Cond:
        return self.cond(" & ".join(c.ref for c in cs))

    def as_int(self, c: Cond) -> Sig:
        """0/1 as a 2-bit signed wire."""
        name = self._name()
        self.lines.append(f"wire signed [1:0] {name} = {{1'b0, {c.ref}}};")
        return Sig(name, 2, 0, 1)
