"""The hardware plan of a lowered integer graph: which node becomes which module, the
buffers between them, their value ranges (so every wire is as narrow as exact arithmetic
allows) and the order in which the modules run in a time step.

Schedule: the nodes run one after another in :meth:`Graph.components` order (the order every
backend follows); Input nodes are loaded from the input stream, ConstantSource nodes are ROMs,
Output nodes are read by the output stream. A buffer holds a node's output for the last
``depth`` steps (``depth`` = the largest delay of its out-edges + 1); an edge with delay ``d``
reads bank ``(t - d) mod depth`` and gives 0 while ``t < d``.

Value ranges: an Input holds ``input_bits`` signed bits (``metadata['max_abs']`` when given);
every other range follows from the node's arithmetic (:mod:`.netlist`). Recurrent loops are
iterated until no range grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import SnncError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes

from . import inlanes, neurons, skipdense, synapses, timemix  # noqa: F401  (register the generators)
from .modules import NodeRTL, NodeSpec, generate
from .netlist import bits_for

#: signed width of an Input's values when its metadata gives no bound
DEFAULT_INPUT_BITS = 16


@dataclass
class Buffer:
    """Output buffer of one node in the top module: ``depth`` banks of ``size`` signed words."""

    name: str
    ident: str
    kind: str                  # 'input' | 'const' | 'node'
    size: int
    lo: int
    hi: int
    depth: int = 1
    value: np.ndarray | None = None      # ConstantSource contents
    delays: list[int] = field(default_factory=list)
    complex: bool = False                # a complex current (IntComplexDense): a second memory for im

    @property
    def width(self) -> int:
        return bits_for(self.lo, self.hi)


@dataclass
class Plan:
    graph: Graph
    buffers: dict[str, Buffer]
    order: list[str]                       # compute nodes in run order
    specs: dict[str, NodeSpec]
    rtl: dict[str, NodeRTL]
    inputs: list[str]
    outputs: list[str]
    out_ranges: dict[str, tuple[int, int]]
    spike_lists: dict[str, str] = field(default_factory=dict)   # buffer -> the zero-skipping dense reading its list
    in_lanes: int = 1                      # input values per transfer (:mod:`.inlanes`)
    chained: dict[str, str] = field(default_factory=dict)   # element-wise node -> the dense it starts with

    def chain_saving(self, name: str) -> int:
        """Cycles a chained node saves: it starts with its producer's first output write
        instead of after the producer's done (the producer's n_out writes + 1)."""
        return self.specs[self.chained[name]].out_size + 1 if name in self.chained else 0

    @property
    def in_width(self) -> int:
        return max([self.buffers[n].width for n in self.inputs] + [2])

    @property
    def out_width(self) -> int:
        return max([bits_for(*self.out_ranges[n]) for n in self.outputs] + [2])

    def size(self, name: str) -> int:
        return self.buffers[name].size if name in self.buffers else int(np.prod(self.graph.nodes[name].shape))


def ident(i: int, name: str) -> str:
    """A Verilog identifier for node ``name`` (index-prefixed; no double underscores, which
    Verilator mangles)."""
    stem = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", name)).strip("_")
    return f"n{i}_{stem}" if stem else f"n{i}"


def _input_range(node: N.Input, name: str, input_bits: int | dict | None) -> tuple[int, int]:
    bits = input_bits.get(name) if isinstance(input_bits, dict) else input_bits
    if bits is None:
        m = node.metadata.get("max_abs") if isinstance(node.metadata, dict) else None
        if m is not None:
            m = int(np.ceil(float(m)))
            return -m, m
        bits = DEFAULT_INPUT_BITS
    if not 2 <= int(bits) <= 64:
        raise SnncError(f"input_bits must be in [2, 64], got {bits}", node=name)
    return -(1 << (int(bits) - 1)), (1 << (int(bits) - 1)) - 1


def _refuse(graph: Graph) -> None:
    for name, node in graph.nodes.items():
        if isinstance(node, N.Subgraph):
            raise UnsupportedError("subgraphs must be flattened before the rtl backend", node=name)


#: node kinds that take a complex current (the real part alone of any other input)
COMPLEX_CONSUMERS = (INN.IntRF,)


def _complex_input(graph: Graph, buffers: dict, name: str) -> bool:
    cplx = any(buffers[e.src].complex for e in graph.in_edges(name))
    if cplx and not isinstance(graph.nodes[name], COMPLEX_CONSUMERS):
        raise UnsupportedError(f"{type(graph.nodes[name]).__name__} is fed a complex current; only "
                               + ", ".join(t.__name__ for t in COMPLEX_CONSUMERS) + " take one", node=name)
    return cplx


def _spike_lists(graph: Graph, buffers: dict, order: list[str]) -> dict[str, str]:
    """Buffer -> the one binary IntDense that reads it through a list of nonzero indices (zero
    skipping): its only in-edge, delay 0, from an Input or a node (not complex); a buffer read by
    two such layers keeps the plain path for both."""
    cand: dict[str, list[str]] = {}
    for name in order:
        node = graph.nodes[name]
        if type(node) is not IN.IntDense or node.input_kind != "binary":
            continue
        ie = graph.in_edges(name)
        if len(ie) != 1 or ie[0].delay != 0:
            continue
        b = buffers[ie[0].src]
        if b.kind in ("input", "node") and not b.complex:
            cand.setdefault(b.name, []).append(name)
    return {src: names[0] for src, names in cand.items() if len(names) == 1}


def _chains(graph: Graph, order: list[str], specs: dict, rtl: dict) -> dict[str, str]:
    """Element-wise node -> the zero-skipping dense just before it in the order whose outputs it
    reads at delay 0: the dense writes its outputs 0, 1, ... one per cycle in one run (one group),
    the element-wise node reads x[i] one cycle after x[i] is written if it starts with the first
    write, so the two overlap (:mod:`.top`)."""
    out = {}
    for prev, name in zip(order, order[1:]):
        sp, s = specs[prev], specs[name]
        one_group = sp.out_size <= max(1, sp.parallel)
        feeds = any(e.src == prev and e.delay == 0 for e in graph.in_edges(name))
        if sp.spike_list and one_group and feeds and rtl[name].streams_input and s.in_size == sp.out_size \
                and not s.x_complex:
            out[name] = prev
    return out


def make_plan(graph: Graph, *, parallelism: dict | int | None = None, input_bits: int | dict | None = None,
              zero_skip: bool = True, in_lanes: int = 1) -> Plan:
    """The plan of ``graph`` (``metadata['level'] == 'integer'``). ``parallelism``: output
    neurons computed in parallel by a dense layer, one int for all or {node: int} (default 1).
    ``zero_skip``: binary dense layers read a list of their nonzero inputs (:mod:`.skipdense`;
    the cycle count then depends on the data, :func:`.emit.step_cycles`). ``in_lanes``: input
    values per stream transfer (a power of two; one Input node; :mod:`.inlanes`)."""
    if graph.metadata.get("level") != "integer":
        raise UnsupportedError("the rtl backend needs a lowered integer graph",
                               hint="compile the model for the 'fpga' target first")
    graph.validate()
    _refuse(graph)
    shapes = infer_shapes(graph)
    order_all = [n for comp in graph.components() for n in comp]
    buffers: dict[str, Buffer] = {}
    idents = {name: ident(i, name) for i, name in enumerate(graph.nodes)}
    for name in order_all:
        node = graph.nodes[name]
        size = int(np.prod(shapes[name], dtype=np.int64))
        if isinstance(node, N.Output):
            continue
        if isinstance(node, N.Input):
            lo, hi = _input_range(node, name, input_bits)
            buffers[name] = Buffer(name, idents[name], "input", size, lo, hi)
        elif isinstance(node, INN.ConstantSource):
            v = np.broadcast_to(np.asarray(node.value, np.int64), tuple(shapes[name])).reshape(-1)
            buffers[name] = Buffer(name, idents[name], "const", size, int(v.min()), int(v.max()), value=v.copy())
        else:
            buffers[name] = Buffer(name, idents[name], "node", size, 0, 0,
                                   complex=isinstance(node, INN.IntComplexDense))
    for e in graph.edges:
        b = buffers.get(e.src)
        if b is not None and e.delay not in b.delays:
            b.delays.append(e.delay)
    for b in buffers.values():
        b.delays.sort()
        b.depth = max(b.delays, default=0) + 1 if b.kind != "const" else 1
    order = [n for n in order_all if buffers.get(n) is not None and buffers[n].kind == "node"]

    def par(name):
        if isinstance(parallelism, dict):
            return int(parallelism.get(name, 1))
        return int(parallelism or 1)

    def x_range(name):
        lo = hi = 0
        for e in graph.in_edges(name):
            b = buffers[e.src]
            elo, ehi = b.lo, b.hi
            if e.delay:
                elo, ehi = min(elo, 0), max(ehi, 0)
            lo, hi = lo + elo, hi + ehi
        return lo, hi

    lists = _spike_lists(graph, buffers, order) if zero_skip else {}
    skip = {dst: src for src, dst in lists.items()}
    specs: dict[str, NodeSpec] = {}
    rtl: dict[str, NodeRTL] = {}
    for _ in range(8):
        changed = False
        for name in order:
            in_edges = graph.in_edges(name)
            if not in_edges:
                raise UnsupportedError("a compute node without input", node=name)
            in_shape = shapes[in_edges[0].src]
            lo, hi = x_range(name)
            spec = NodeSpec(name, idents[name], graph.nodes[name], tuple(in_shape), tuple(shapes[name]), lo, hi,
                            parallel=par(name), x_complex=_complex_input(graph, buffers, name),
                            spike_list=name in skip,
                            early=name in skip and name == order[0] and buffers[skip[name]].kind == "input")
            prev = specs.get(name)
            if prev is None or (prev.x_lo, prev.x_hi) != (lo, hi):
                specs[name] = spec
                rtl[name] = generate(spec)
                b = buffers[name]
                if (b.lo, b.hi) != (rtl[name].y_lo, rtl[name].y_hi):
                    b.lo, b.hi = min(b.lo, rtl[name].y_lo), max(b.hi, rtl[name].y_hi)
                    changed = True
        if not changed:
            break
    else:
        raise UnsupportedError("value ranges of a recurrent loop do not converge", node=order[0] if order else None)
    outputs = graph.output_names()
    out_ranges = {}
    for name in outputs:
        _complex_input(graph, buffers, name)
        out_ranges[name] = x_range(name)
    plan = Plan(graph, buffers, order, specs, rtl, graph.input_names(), outputs, out_ranges, lists)
    plan.chained = _chains(graph, order, specs, rtl)
    ib = max([buffers[n].width for n in plan.inputs] + [2])
    plan.in_lanes = inlanes.check_lanes(in_lanes, plan.inputs, plan.in_width, ib)
    return plan
