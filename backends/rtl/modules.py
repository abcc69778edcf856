"""What every node module shares: the port list, the registry of generators, memory files and
the element-wise neuron skeleton.

Port list of every generated node module (one per compute node)::

    input  clk
    input  start                      1-cycle pulse: compute this time step
    input  [31:0] t                   step index since the sample started (0 = first step)
    output reg done                   1-cycle pulse: all outputs of this step are written
    output [AX-1:0] x_addr            element of the summed input to read (flattened, C order)
    input  signed [WX-1:0] x_data     that element, valid one cycle after x_addr
    output [AY-1:0] y_addr            output element written this cycle ...
    output signed [WY-1:0] y_data     ... its value ...
    output y_we                       ... when y_we

The top (:mod:`.top`) owns the buffers behind ``x_data`` (the sum of the in-edges' buffers,
delayed per edge) and ``y_*``; a node owns its weights (ROM) and states (RAM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.registry import Registry

from .netlist import Netlist, Sig, bits_for, literal


@dataclass
class StateMem:
    """A state RAM of a node module: ``'<node>.<name>'`` in traces; ``ref`` the memory's name in
    the module; ``size`` elements of ``width`` bits (signed). A state of several rows per neuron
    (the TimeMix buffers, int[rows, *shape] in traces) is one memory per row: ``lanes`` lists
    their names in row order (``ref`` is then the first)."""

    name: str
    ref: str
    size: int
    width: int
    lanes: tuple = ()

    @property
    def refs(self) -> tuple:
        return tuple(self.lanes) or (self.ref,)


@dataclass
class NodeSpec:
    """Input to a generator: the node, its names and the range of its summed input."""

    name: str
    ident: str
    node: N.Node
    in_shape: tuple
    out_shape: tuple
    x_lo: int
    x_hi: int
    parallel: int = 1
    x_complex: bool = False     # the summed input is a complex current: ports x_data (re), x_im
    spike_list: bool = False    # binary dense fed by the top's list of nonzero input indices (zero skipping)
    early: bool = False         # with spike_list: starts with the step and runs while the inputs stream in

    @property
    def in_size(self) -> int:
        return int(np.prod(self.in_shape, dtype=np.int64))

    @property
    def out_size(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64))

    @property
    def x_width(self) -> int:
        return bits_for(self.x_lo, self.x_hi)


@dataclass
class NodeRTL:
    """Output of a generator: Verilog text of module ``ident``, memory files (name -> hex
    text), states, the output interval, cycles per step and resource facts for the estimate."""

    ident: str
    verilog: str
    y_lo: int
    y_hi: int
    cycles: int
    mem_files: dict[str, str] = field(default_factory=dict)
    states: list[StateMem] = field(default_factory=list)
    rom_bits: int = 0          # bits of weights/parameters in ROM
    ram_bits: int = 0          # bits of state RAM
    multipliers: int = 0       # multipliers of the datapath (any width)
    y_complex: bool = False    # the output is a complex current: ports y_data (re), y_im
    streams_input: bool = False   # reads x[i] in the cycle i + 1 after start, i = 0, 1, ... (element-wise)
    active_cycles: int = 0     # zero skipping: cycles per nonzero input (``cycles`` is the bound, all nonzero)
    fixed_cycles: int | None = None   # zero skipping: cycles with no nonzero input

    def cycles_for(self, active: int) -> int:
        """Cycles of one step with ``active`` nonzero inputs (data-independent modules: ``cycles``)."""
        return self.cycles if self.fixed_cycles is None else self.fixed_cycles + self.active_cycles * int(active)

    @property
    def y_width(self) -> int:
        return bits_for(self.y_lo, self.y_hi)


#: node type -> ``fn(spec) -> NodeRTL``
GENERATORS: Registry = Registry("rtl generators")
generates = GENERATORS.register


def generate(spec: NodeSpec) -> NodeRTL:
    gen = GENERATORS.get(type(spec.node))
    if gen is None:
        raise UnsupportedError(f"the rtl backend has no hardware for node kind {type(spec.node).__name__}",
                               node=spec.name, hint="supported: " + ", ".join(sorted(t.__name__ for t in GENERATORS)))
    return gen(spec)


def addr_bits(n: int) -> int:
    """Width of an unsigned index 0..n-1 (at least 1)."""
    return max(1, int(n - 1).bit_length())


def hex_lines(values, width: int) -> str:
    """$readmemh text: one two's complement word of ``width`` bits per line."""
    digits = (width + 3) // 4
    mask = (1 << width) - 1
    return "".join(f"{int(v) & mask:0{digits}x}\n" for v in np.asarray(values, np.int64).reshape(-1))


def ports(ax: int, wx: int, ay: int, wy: int, *, x_im: bool = False, y_im: bool = False) -> str:
    """The port list; ``x_im`` / ``y_im`` add the imaginary part of a complex input / output
    (same width as the real part)."""
    return (f"  input clk,\n  input start,\n  input [31:0] t,\n  output reg done = 1'b0,\n"
            f"  output [{ax - 1}:0] x_addr,\n  input signed [{wx - 1}:0] x_data,\n"
            + (f"  input signed [{wx - 1}:0] x_im,\n" if x_im else "")
            + f"  output [{ay - 1}:0] y_addr,\n  output signed [{wy - 1}:0] y_data,\n"
            + (f"  output signed [{wy - 1}:0] y_im,\n" if y_im else "") + "  output y_we")


class Params:
    """Per-neuron parameters of an element-wise module: an array whose values all agree
    becomes a constant; otherwise a ROM read at index ``i`` (registered like the state RAMs)."""

    def __init__(self, spec: NodeSpec, nl: Netlist):
        self.spec, self.nl = spec, nl
        self.decls: list[str] = []
        self.files: dict[str, str] = {}
        self.rom_bits = 0
        self.sources: dict[str, str] = {}     # registered ROM outputs (pipeline stage 0): name -> type

    def get(self, pname: str, value) -> Sig:
        a = np.broadcast_to(np.asarray(value, np.int64), (self.spec.out_size,)).reshape(-1) \
            if np.size(value) in (1, self.spec.out_size) else np.asarray(value, np.int64).reshape(-1)
        if a.size == 0 or np.all(a == a[0]):
            return self.nl.const(int(a[0]) if a.size else 0)
        lo, hi = int(a.min()), int(a.max())
        w = bits_for(lo, hi)
        fname = f"{self.spec.ident}_{pname}.mem"
        self.files[fname] = hex_lines(a, w)
        self.rom_bits += w * a.size
        self.decls.append(f"  reg signed [{w - 1}:0] p_{pname} [0:{a.size - 1}];\n"
                          f"  initial $readmemh(\"{fname}\", p_{pname});\n"
                          f"  reg signed [{w - 1}:0] rq_{pname} = 0, rp_{pname} = 0;\n"
                          f"  always @(posedge clk) begin rq_{pname} <= p_{pname}[i]; rp_{pname} <= rq_{pname}; end\n")
        self.sources[f"rp_{pname}"] = f"signed [{w - 1}:0]"
        return Sig(f"rp_{pname}", w, lo, hi)

    def table(self, pname: str, values) -> tuple[str, int, int, int]:
        """A look-up table (a ROM the datapath reads, registered: :meth:`.Netlist.lookup`):
        (name, size, lo, hi)."""
        a = np.asarray(values, np.int64).reshape(-1)
        lo, hi = int(a.min()), int(a.max())
        w = bits_for(lo, hi)
        fname = f"{self.spec.ident}_{pname}.mem"
        self.files[fname] = hex_lines(a, w)
        self.rom_bits += w * a.size
        self.decls.append(f"  reg signed [{w - 1}:0] {pname} [0:{a.size - 1}];\n"
                          f"  initial $readmemh(\"{fname}\", {pname});\n")
        return pname, a.size, lo, hi


@dataclass
class StateVar:
    """A state of an element-wise neuron: name, initial value, and the interval it holds
    (found by iterating the update until the interval is closed; ``fixed``: the given interval
    is exact and final). ``record``: its name in traces (default ``name``; '' = internal, not
    recorded); ``row``: its row in a state of several rows per neuron (states sharing a
    ``record`` form one traced int[rows, *shape]); ``read``: False for a state the update only
    writes (no read port: synthesis removes a memory nothing reads)."""

    name: str
    init: int = 0
    lo: int = 0
    hi: int = 0
    record: str | None = None
    row: int | None = None
    read: bool = True
    fixed: bool = False

    @property
    def trace_name(self) -> str:
        return self.name if self.record is None else self.record


#: an element-wise update: (netlist, params, x, {state: current value}, t) -> (output, {state:
#: next value, or (value, write condition)}); ``x`` is a Sig, or (re, im) for a complex input;
#: ``t`` is the step index (a Sig of 33 bits)
Update = Callable[[Netlist, Params, object, dict, Sig], tuple[Sig, dict]]


def _build(spec: NodeSpec, states: list[StateVar], update: Update, wide: bool = False):
    nl = Netlist("w")
    params = Params(spec, nl)
    x = nl.port("x_q", spec.x_width, spec.x_lo, spec.x_hi)
    if spec.x_complex:
        x = (x, nl.port("xi_q", spec.x_width, spec.x_lo, spec.x_hi))
    cur = {}
    for s in states:
        if s.read:
            w = 64 if wide else bits_for(s.lo, s.hi)
            cur[s.name] = nl.wire(f"first ? {literal(s.init, w)} : rd_{s.name}", s.lo, s.hi)
    y, new = update(nl, params, x, cur, Sig("t_s", 33, 0, 2 ** 32 - 1))
    new = {k: (v if isinstance(v, tuple) else (v, None)) for k, v in new.items()}
    return nl, params, y, new


def _close_intervals(spec: NodeSpec, states: list[StateVar], update: Update):
    """Iterate the update until no state interval grows (rows of one traced state share one
    interval). From the third round on, a growing interval is widened to the whole range of its
    width (a leaky integrator's bound converges only geometrically; widening reaches a closed
    interval in a few rounds, at most one bit wider than the fixed point); if it still grows
    after 70 rounds, int64."""
    for rnd in range(70):
        nl, params, y, new = _build(spec, states, update)
        grown = False
        for s in states:
            if s.fixed:
                continue
            v = new[s.name][0]
            lo, hi = min(s.lo, v.lo), max(s.hi, v.hi)
            if (lo, hi) != (s.lo, s.hi):
                if rnd >= 2:
                    b = bits_for(lo, hi)
                    lo, hi = min(lo, -(1 << (b - 1))), max(hi, (1 << (b - 1)) - 1)
                s.lo, s.hi, grown = lo, hi, True
        groups: dict[str, list[StateVar]] = {}
        for s in states:
            if s.row is not None:
                groups.setdefault(s.trace_name, []).append(s)
        for rows in groups.values():
            lo, hi = min(s.lo for s in rows), max(s.hi for s in rows)
            for s in rows:
                if (s.lo, s.hi) != (lo, hi):
                    s.lo, s.hi, grown = lo, hi, True
        if not grown:
            return nl, params, y, new
    for s in states:
        s.lo, s.hi = -(2 ** 63), 2 ** 63 - 1
    return _build(spec, states, update, wide=True)


def _state_mems(states: list[StateVar], n: int) -> list[StateMem]:
    mems: list[StateMem] = []
    grouped: dict[str, list[StateVar]] = {}
    for s in states:
        if s.trace_name == "":
            continue
        if s.row is None:
            mems.append(StateMem(s.trace_name, f"st_{s.name}", n, bits_for(s.lo, s.hi)))
        else:
            if s.trace_name not in grouped:
                grouped[s.trace_name] = []
                mems.append(StateMem(s.trace_name, "", n, 0))
            grouped[s.trace_name].append(s)
    for m in mems:
        rows = grouped.get(m.name)
        if rows:
            rows = sorted(rows, key=lambda s: s.row)
            m.lanes = tuple(f"st_{s.name}" for s in rows)
            m.ref, m.width = m.lanes[0], bits_for(rows[0].lo, rows[0].hi)
    return mems


#: delay budget (ns, the estimate of :mod:`.netlist`) of one pipeline stage of an element-wise
#: neuron datapath; about 8 ns per stage after placement and routing on ECP5
PIPELINE_BUDGET_NS = 5.0


def elementwise(spec: NodeSpec, states: list[StateVar], update: Update, *, multipliers: int = 0,
                budget: float = PIPELINE_BUDGET_NS) -> NodeRTL:
    """An element-wise neuron module: neurons are independent, so the update is a pipeline
    taking one neuron per cycle. Cycle c issues neuron i (input address, state RAM and
    parameter ROM addresses); c + 1 registers the memories' outputs (block RAM outputs are
    slow) and the summed input; c + 2 .. c + 2 + K are the K + 1 stages of the update (:meth:`.Netlist.pipeline`,
    at most ``budget`` ns of estimated logic each); the last writes the states back and the
    output. Each neuron's states are read and written once per step, so there are no hazards.
    Step counters (``t mod m``) and ``first`` (t == 0) are registers set by ``start``. At
    ``t == 0`` the states read as their initial values, so a new sample needs no clearing
    pass; a write-only state (``read=False``) must be written at ``t == 0`` by its update.
    Cycles per step: n + K + 3."""
    nl, params, y, new = _close_intervals(spec, states, update)
    n = spec.out_size
    ai = addr_bits(n)
    sources = {"x_q": f"signed [{spec.x_width - 1}:0]", **params.sources}
    if spec.x_complex:
        sources["xi_q"] = f"signed [{spec.x_width - 1}:0]"
    for s in states:
        if s.read:
            sources[f"rd_{s.name}"] = f"signed [{bits_for(s.lo, s.hi) - 1}:0]"
    static = {"first", "t_s"} | {c[0] for c in nl.counters}
    outs = [y.ref] + [v.ref for v, _ in new.values()] + [we.ref for _, we in new.values() if we is not None]
    body, K, at_end = nl.pipeline(sources, static, outs, budget)
    last = K + 2
    lines = [f"module {spec.ident} (", ports(addr_bits(spec.in_size), spec.x_width, ai, y.width, x_im=spec.x_complex),
             ");", f"  // {type(spec.node).__name__} '{spec.name}': {n} neurons, one per cycle, "
             f"{K + 1} pipeline stage(s)",
             "  reg busy = 1'b0;", f"  reg [{ai - 1}:0] i = 0;",
             "  reg first = 1'b0;", "  always @(posedge clk) if (start) first <= (t == 32'd0);",
             "  wire signed [32:0] t_s = {1'b0, t};", "  assign x_addr = i;",
             f"  reg signed [{spec.x_width - 1}:0] x_q = 0;", "  always @(posedge clk) x_q <= x_data;"]
    if spec.x_complex:
        lines += [f"  reg signed [{spec.x_width - 1}:0] xi_q = 0;", "  always @(posedge clk) xi_q <= x_im;"]
    for name, m, init in nl.counters:
        w = addr_bits(m)
        lines += [f"  reg [{w - 1}:0] {name}_u = 0;", f"  wire signed [{w}:0] {name} = {{1'b0, {name}_u}};",
                  f"  always @(posedge clk) if (start) {name}_u <= (t == 32'd0) ? {w}'d{init} : "
                  f"(({name}_u == {w}'d{m - 1}) ? {w}'d0 : {name}_u + 1'b1);"]
    for k in range(1, last + 1):
        lines += [f"  reg v{k} = 1'b0;", f"  reg [{ai - 1}:0] i{k} = 0;",
                  f"  always @(posedge clk) begin v{k} <= {'busy' if k == 1 else f'v{k - 1}'}; "
                  f"i{k} <= {'i' if k == 1 else f'i{k - 1}'}; end"]
    ram_bits = 0
    for s in states:
        w = bits_for(s.lo, s.hi)
        lines.append(f"  reg signed [{w - 1}:0] st_{s.name} [0:{n - 1}];")
        if s.read:
            lines += [f"  reg signed [{w - 1}:0] rq_{s.name} = 0, rd_{s.name} = 0;",
                      f"  always @(posedge clk) begin rq_{s.name} <= st_{s.name}[i]; rd_{s.name} <= rq_{s.name}; end"]
        ram_bits += w * n
    lines += [d.rstrip("\n") for d in params.decls]
    lines.append(body.rstrip("\n"))
    for s in states:
        v, we = new[s.name]
        cond = f"v{last}" if we is None else f"v{last} && {at_end[we.ref]}"
        lines.append(f"  always @(posedge clk) if ({cond}) st_{s.name}[i{last}] <= {at_end[v.ref]};")
    lines += [f"  assign y_we = v{last};", f"  assign y_addr = i{last};", f"  assign y_data = {at_end[y.ref]};",
              "  always @(posedge clk) begin", "    done <= 1'b0;",
              "    if (start) begin busy <= 1'b1; i <= 0; end",
              f"    else if (busy) begin if (i == {ai}'d{n - 1}) busy <= 1'b0; else i <= i + 1'b1; end",
              f"    if (v{last} && i{last} == {ai}'d{n - 1}) done <= 1'b1;", "  end", "endmodule", ""]
    return NodeRTL(spec.ident, "\n".join(lines), y.lo, y.hi, cycles=n + K + 3, mem_files=params.files,
                   states=_state_mems(states, n), rom_bits=params.rom_bits, ram_bits=ram_bits,
                   multipliers=multipliers, streams_input=True)
