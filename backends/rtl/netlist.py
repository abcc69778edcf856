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

import re
from dataclasses import dataclass, field

I64_LO, I64_HI = -(2 ** 63), 2 ** 63 - 1

#: rough ECP5 delays in ns (logic + routing) for the pipeline's stage assignment
#: (:meth:`Netlist.pipeline`): a w-bit carry chain (add, subtract, compare), a 2-way mux, a
#: 1-bit gate, a DSP multiply (18 x 18, and wider: several DSPs and an adder)
COST_CARRY, COST_CARRY_BIT, COST_MUX, COST_GATE, COST_MUL, COST_MUL_WIDE = 1.2, 0.04, 0.9, 0.6, 4.5, 7.5
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _carry(width: int) -> float:
    return COST_CARRY + COST_CARRY_BIT * width


@dataclass
class Op:
    """One declared wire: ``decl`` (e.g. ``wire signed [7:0]``), name, expression, its delay
    estimate (ns), ``sync``: a memory read that the pipelined form registers (ROM look-up)."""

    decl: str
    name: str
    expr: str
    cost: float = 0.0
    sync: bool = False
    deps: list = field(default_factory=list)


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
        self.ops: list[Op] = []
        self.names: dict[str, Op] = {}
        self.count = 0
        #: step counters (name, modulus, offset): register ``name`` = (t + offset) mod modulus
        self.counters: list[tuple[str, int, int]] = []

    def text(self, indent: str = "  ") -> str:
        """The wires, all combinational."""
        return "".join(f"{indent}{op.decl} {op.name} = {op.expr};\n" for op in self.ops)

    def _add(self, decl: str, name: str, expr: str, cost: float, sync: bool = False) -> None:
        deps = [d for d in dict.fromkeys(_IDENT.findall(expr)) if d in self.names]
        op = Op(decl, name, expr, cost, sync, deps)
        self.ops.append(op)
        self.names[name] = op

    # -- declarations ------------------------------------------------------------------------

    def _name(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count}"

    def wire(self, expr: str, lo: int, hi: int, cost: float = 0.0, sync: bool = False) -> Sig:
        """Declare a wire for ``expr`` whose exact value lies in [lo, hi] (or wraps mod 2**64);
        ``cost``: its delay estimate in ns."""
        if lo < I64_LO or hi > I64_HI:
            lo, hi = I64_LO, I64_HI
        w = bits_for(lo, hi)
        name = self._name()
        self._add(f"wire signed [{w - 1}:0]", name, expr, cost, sync)
        return Sig(name, w, int(lo), int(hi))

    def cond(self, expr: str, cost: float = COST_GATE) -> Cond:
        name = self._name()
        self._add("wire", name, expr, cost)
        return Cond(name)

    def step_mod(self, modulus: int, offset: int = 0) -> Sig:
        """(t + offset) mod ``modulus`` for the step index t, as a counter register of the module
        (advanced once per step; no divider)."""
        name = f"{self.prefix}cnt{len(self.counters)}"
        self.counters.append((name, int(modulus), int(offset) % int(modulus)))
        return Sig(name, bits_for(0, modulus - 1), 0, modulus - 1)

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
        return self.wire(f"{a.ref} + {b.ref}", a.lo + b.lo, a.hi + b.hi, _carry(max(a.width, b.width)))

    def sub(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo == 0:
            return a
        return self.wire(f"{a.ref} - {b.ref}", a.lo - b.hi, a.hi - b.lo, _carry(max(a.width, b.width)))

    def mul(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo == 1:
            return a
        corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        wide = max(a.width, b.width) > 18 and min(a.width, b.width) > 2
        cost = COST_MUL_WIDE if wide else (COST_MUL if min(a.width, b.width) > 2 else COST_MUX)
        return self.wire(f"{a.ref} * {b.ref}", min(corners), max(corners), cost)

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
                         f"{literal(0, 2)})", a.lo, max(a.hi, mask - 1) if a.hi >= 0 else mask - 1, _carry(a.width))
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
        self._add(f"wire signed [{bits - 1}:0]", name, f"{a.ref}[{bits - 1}:0]", 0.0)
        return Sig(name, bits, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def clip(self, a: Sig, lo: Sig, hi: Sig) -> Sig:
        """min(max(a, lo), hi) (hi wins when lo > hi, as numpy)."""
        if lo.const and hi.const and lo.lo <= a.lo and a.hi <= hi.lo:
            return a
        y = a
        if not (lo.const and lo.lo <= a.lo):
            y = self.wire(f"({y.ref} < {lo.ref}) ? {lo.ref} : {y.ref}", max(a.lo, lo.lo), max(a.hi, lo.hi),
                          _carry(max(y.width, lo.width)) + COST_MUX)
        if not (hi.const and y.hi <= hi.lo):
            y = self.wire(f"({y.ref} > {hi.ref}) ? {hi.ref} : {y.ref}", min(y.lo, hi.lo), min(y.hi, hi.hi),
                          _carry(max(y.width, hi.width)) + COST_MUX)
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
                         f"{a.ref})", lo, hi, 2 * _carry(a.width) + COST_MUX)

    def select(self, c: Cond, a: Sig, b: Sig) -> Sig:
        """c ? a : b."""
        if a.const and b.const and a.lo == b.lo:
            return a
        return self.wire(f"{c.ref} ? {a.ref} : {b.ref}", min(a.lo, b.lo), max(a.hi, b.hi), COST_MUX)

    def maximum(self, a: Sig, b: Sig) -> Sig:
        if b.const and b.lo <= a.lo:
            return a
        return self.wire(f"({a.ref} > {b.ref}) ? {a.ref} : {b.ref}", max(a.lo, b.lo), max(a.hi, b.hi),
                         _carry(max(a.width, b.width)) + COST_MUX)

    def lookup(self, table: str, size: int, idx: Sig, lo: int, hi: int) -> Sig:
        """``table[idx]`` for an index whose interval lies in [0, size - 1] (a ROM read
        combinationally; ``lo``/``hi``: the table's value range)."""
        ab = max(1, (size - 1).bit_length())
        if idx.width <= ab:
            ix = self.wire(idx.ref, idx.lo, idx.hi) if idx.const else idx
            sel = f"$unsigned({ix.ref})"
        else:
            sel = f"{idx.ref}[{ab - 1}:0]"
        return self.wire(f"{table}[{sel}]", lo, hi, 0.0, sync=True)

    # -- conditions --------------------------------------------------------------------------

    def cmp(self, a: Sig, op: str, b: Sig) -> Cond:
        return self.cond(f"({a.ref} {op} {b.ref})", _carry(max(a.width, b.width)))

    def fire(self, h: Sig, thr: Sig, comparison: str) -> Cond:
        return self.cmp(h, ">" if comparison == ">" else ">=", thr)

    def nonzero(self, a: Sig) -> Cond:
        return self.cond(f"({a.ref} != {literal(0, 2)})")

    def both(self, *cs: Cond) -> Cond:
        return self.cond(" & ".join(c.ref for c in cs))

    def as_int(self, c: Cond) -> Sig:
        """0/1 as a 2-bit signed wire."""
        name = self._name()
        self._add("wire signed [1:0]", name, f"{{1'b0, {c.ref}}}", 0.0)
        return Sig(name, 2, 0, 1)

    # -- pipelining ----------------------------------------------------------------------------

    def pipeline(self, sources: dict[str, str], static: set[str], outputs: list[str], budget: float,
                 indent: str = "  ") -> tuple[str, int, dict[str, str]]:
        """The wires as a pipeline whose stages each stay within ``budget`` ns (estimated from
        the ops' costs): a wire goes to the earliest stage holding its inputs and moves to the
        next when its delay would exceed the budget; a value used k stages after it is made is
        read through k registers; a ROM look-up (``sync``) is a registered read (block RAM), its
        value one stage later. ``sources``: per-element inputs valid at stage 0 (name -> Verilog
        type, e.g. ``signed [7:0]``); ``static``: values constant during a time step (step
        counters, t), read in any stage without registers. Returns (Verilog text, number of
        register stages K, {output: its name at stage K})."""
        stage: dict[str, int | None] = {n: 0 for n in sources}
        arr: dict[str, float] = {n: 0.0 for n in sources}
        for n in static:
            stage[n], arr[n] = None, 0.0
        ext = set(sources) | set(static)
        deps_of: dict[str, list[str]] = {}
        sync_at: dict[str, int] = {}      # stage computing a look-up's index
        for op in self.ops:
            deps = op.deps + [d for d in dict.fromkeys(_IDENT.findall(op.expr)) if d in ext and d not in op.deps]
            deps_of[op.name] = deps
            dyn = [d for d in deps if stage[d] is not None]
            a_static = max([arr[d] for d in deps if stage[d] is None], default=0.0)
            if not dyn:
                stage[op.name], arr[op.name] = None, a_static + op.cost
                continue
            s = max(stage[d] for d in dyn)
            a = max([arr[d] for d in dyn if stage[d] == s] + [a_static])
            if a > 0 and a + op.cost > budget:
                s, a = s + 1, a_static
            a += op.cost
            if op.sync:
                stage[op.name], arr[op.name] = s + 1, 0.0
                sync_at[op.name] = s
            else:
                stage[op.name], arr[op.name] = s, a
        k_last = max([stage[o] for o in outputs if stage.get(o) is not None] + [0])
        types = dict(sources)
        for op in self.ops:
            types[op.name] = op.decl.replace("wire", "", 1).strip()
        need: dict[str, int] = {}

        def ref(dep: str, at: int) -> str:
            if stage.get(dep) is None:
                return dep
            k = at - stage[dep]
            if k > 0:
                need[dep] = max(need.get(dep, 0), k)
                return f"{dep}_d{k}"
            return dep

        body = []
        for op in self.ops:
            at = sync_at.get(op.name, stage[op.name])
            expr = op.expr
            if at is not None and deps_of[op.name]:
                subs = {d: ref(d, at) for d in deps_of[op.name]}
                expr = _IDENT.sub(lambda m, subs=subs: subs.get(m.group(0), m.group(0)), expr)
            if op.sync and at is not None:
                body.append(f"reg {types[op.name]} {op.name} = 0;")
                body.append(f"always @(posedge clk) {op.name} <= {expr};")
            else:
                body.append(f"{op.decl} {op.name} = {expr};")
        out = {o: ref(o, k_last) if o in stage else o for o in outputs}
        regs = []
        for dep, k in need.items():
            for j in range(1, k + 1):
                prev = dep if j == 1 else f"{dep}_d{j - 1}"
                regs.append(f"reg {types[dep]} {dep}_d{j} = 0;")
                regs.append(f"always @(posedge clk) {dep}_d{j} <= {prev};")
        return "".join(indent + line + "\n" for line in body + regs), k_last, out
