"""Map a lowered integer graph onto Lava processes: which process realizes each node, how the
edges (with their delays) become port connections, and where every node's output and state
can be read back. Pure data, no Lava import: :mod:`.codegen` turns a :class:`LavaPlan` into
``network.py``.

Rules (docs/numeric_semantics.md#lava-arithmetic gives Lava's arithmetic; every choice below is exact by
construction, otherwise the node gets a custom process from :mod:`.processes`). Each row is one
handler in :mod:`.process_specs` (registered per node type); Lava's weight, bias, threshold and
layout formats are :mod:`snnc.ir.netx_rules`; the plan's data classes are :mod:`.plan`:

=====================  =========================================================================
IR node                Lava
=====================  =========================================================================
Input                  ``io.source.RingBuffer`` (int32 data; inputs must fit int32)
ConstantSource         ``RingBuffer`` with a one-step cyclic buffer holding the value
IntDense               ``Dense`` (``DelayDense`` when its one consumer edge has delay d >= 2:
                       Lava delay d - 1), sign mode and ``num_weight_bits`` chosen so that
                       Lava's clipping/truncation keeps the weights (a common power of two may
                       move into ``weight_exp``); else ``SnncDense``. The per-delay parts of
                       one delayed layer (the netx import's form) together: ONE ``DelayDense``
                       with a per-synapse delay matrix when they fit (:mod:`.merged_dense`)
IntConv2d              ``Conv`` (flipped kernel, (W, H, C) layout) when weight_exp = 0, no bias,
                       24-bit output and |acc| < 2**31 provably; else ``SnncConv``
SumPool2d              ``Conv`` with a ones kernel, groups = C, when the window sum provably
                       stays below 2**23; else ``SnncConv`` (ones, 64-bit)
IntComplexDense        two ``Dense`` (real, imaginary part; graded) into the RF's real/imag
                       ports when the accumulators provably fit int32; else
                       ``SnncComplexDense``
IntCubaLIF             ``LIF`` / ``LIFReset`` when ``lava_differences()`` is empty (and a
                       non-spiking one only feeds Outputs: its output is read from ``v``);
                       else ``SnncCubaLIF``
IntLIFB, IntCLIF,      ``SnncLIFB``, ``SnncCLIF``, ``SnncRF``, ``SnncLMHT``, ``SnncLNM``
IntRF, IntLMHT, IntLNM
Flatten                no process: a transpose/reshape of the source port (virtual ports)
Output                 no process: the recorded output of its source, shifted by the edge delay
IntTimeMix             ``SnncTimeMix`` when streaming (latency = window, what the loihi2 lowering
                       builds: causal, one window late); latency 0 (whole-window, non-causal):
                       UnsupportedError
=====================  =========================================================================

Time: Lava's connection processes (Dense, Conv, the Snnc* synapses with latency 1) deliver one
step late, which the loihi2 lowering already wrote on the edge after each synapse
(``passes.lower_integer.insert_latency``). An edge src -> dst with delay d is realized as the
source process's own latency L (0 for neurons and sources, 1 for synapses, d for DelayDense)
plus an ``SnncDelay`` line of d - L steps when d > L. A synapse with a delay-0 consumer edge
(graphs lowered without latency) becomes the custom process with latency 0.

Layout: a tensor of IR shape (C, H, W) lives in Lava as (W, H, C) (netx's convention, needed
by Lava's Conv); in general the Lava shape is the IR shape reversed (1-d shapes unchanged).
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.netx_rules import GRADED_MESSAGE_BITS, INT32_MAX, MAX_LAVA_DELAY, lava_shape, to_lava_layout
from snnc.ir.shapes import infer_shapes
from snnc.ir.value_bounds import output_bounds

from .merged_dense import plan_delay_groups
from .plan import Code, Conn, LavaPlan, Proc
from .plan import Link as _Link
from .process_specs import SPECS, STATE_NAMES, spec_for

_ALIASES = (N.Flatten, N.Output)


# ---------------------------------------------------------------------------------------------
# the planner
# ---------------------------------------------------------------------------------------------


class _Planner:
    """Builds one :class:`LavaPlan`: checks the graph, links real nodes through Flatten nodes,
    asks each node's handler (:func:`.process_specs.spec_for`) for its processes, then
    connects them (delay lines where an edge is longer than the source's latency)."""

    def __init__(self, graph: Graph, input_bounds: dict | None = None):
        if graph.metadata.get("level") != "integer":
            raise UnsupportedError("the Lava backend needs a lowered integer graph",
                                   hint="compile the model first (snnc compile --target loihi2)")
        graph.validate()
        self.g = graph
        self.shapes = infer_shapes(graph)
        self.plan = LavaPlan()
        self.input_bounds = dict(input_bounds or {})
        self._delay_lines: dict[tuple, str] = {}
        self._merged: dict[str, str] = {}          # per-delay part -> its merged DelayDense process
        self._conn_keys: set = set()
        self.merge_notes: dict[str, str] = {}
        for name, node in graph.nodes.items():
            self._check_supported(name, node)

    # -- classification --------------------------------------------------------------------

    def _check_supported(self, name: str, node) -> None:
        if isinstance(node, INN.IntTimeMix):
            node.validate(name)
            if not node.streaming:
                raise UnsupportedError(
                    "IntTimeMix (LM-HT's T x T time mixing) with latency 0 is whole-window and non-causal: step t "
                    "needs inputs of later steps, so it cannot stream on Loihi/Lava", node=name,
                    hint="compile the model for loihi2: it runs the mixing causally, one window late "
                         "(IntTimeMix latency = window)")
        if not isinstance(node, (*SPECS, *_ALIASES)):
            raise UnsupportedError(f"the Lava backend has no mapping for {node.type_name}", node=name,
                                   hint="lower the graph for loihi2 first (integer nodes only)")

    def real(self, name: str) -> bool:
        return not isinstance(self.g.nodes[name], _ALIASES)

    # -- links through Flatten nodes -------------------------------------------------------

    def _links_into(self, name: str) -> list[_Link]:
        out = []

        def back(node: str, delay: int, reshapes: list) -> None:
            for e in self.g.in_edges(node):
                src = self.g.nodes[e.src]
                if isinstance(src, N.Flatten):
                    back(e.src, delay + e.delay, [(self.shapes[self.g.in_edges(e.src)[0].src] if
                                                   self.g.in_edges(e.src) else (), self.shapes[e.src])] + reshapes)
                elif isinstance(src, N.Output):
                    raise UnsupportedError("an Output node feeds another node", node=e.src)
                else:
                    out.append(_Link(e.src, name, delay + e.delay, list(reshapes)))

        back(name, 0, [])
        return out

    def _alias_sources(self, name: str) -> list[tuple[str, int]]:
        return [(e.src, e.delay) for e in self.g.in_edges(name)]

    # -- bounds ----------------------------------------------------------------------------

    def payload_max(self, name: str) -> float:
        """A bound on |output| of node ``name`` (inf when unknown): the shared rule per node
        type, :func:`snnc.ir.value_bounds.output_bounds`, with this planner's input bounds
        (:meth:`_input_bound`); computed once per plan."""
        bounds = getattr(self, "_value_bounds", None)
        if bounds is None:
            inputs = {n: float(self._input_bound(n, node)) for n, node in self.g.nodes.items()
                      if isinstance(node, N.Input)}
            bounds = self._value_bounds = output_bounds(self.g, inputs)
        return bounds[name]

    def _input_bound(self, name: str, node: N.Input) -> int:
        """The assumed bound on |input values|: ``input_bounds`` (e.g. the data run_lava got), else
        the analog range from compilation, else int32 (the RingBuffer's range)."""
        if name in self.input_bounds:
            return int(self.input_bounds[name])
        if node.metadata.get("analog") and "max_abs" in node.metadata:
            return int(math.ceil(float(node.metadata["max_abs"])))
        return 2 ** 31

    def binary_source(self, name: str) -> bool:
        """True when every value the node can emit is 0 or 1."""
        node = self.g.nodes[name]
        if isinstance(node, IN.IntCubaLIF):
            return node.threshold is not None
        if isinstance(node, (INN.IntCLIF, INN.IntRF, INN.IntLNM)):
            return True
        if isinstance(node, INN.IntLIFB):
            return set(np.asarray(node.amplitudes).reshape(-1).tolist()) <= {0, 1}
        if isinstance(node, N.Flatten):
            ins = self.g.in_edges(name)
            return len(ins) == 1 and self.binary_source(ins[0].src)
        return False

    def sources_binary(self, links: list[_Link]) -> bool:
        """True when there are input links and every source of them emits only 0 or 1."""
        return bool(links) and all(self.binary_source(lk.src) for lk in links)

    def _in_payload(self, links: list[_Link]) -> float:
        return sum(self.payload_max(lk.src) for lk in links) if links else 0.0

    # -- build -----------------------------------------------------------------------------

    def run(self) -> LavaPlan:
        g, plan = self.g, self.plan
        links_in = {n: self._links_into(n) for n in g.nodes if self.real(n)}
        links_out: dict[str, list[_Link]] = {n: [] for n in links_in}
        for lks in links_in.values():
            for lk in lks:
                links_out[lk.src].append(lk)
        self._merged = plan_delay_groups(self, links_in, links_out)
        for name in g.nodes:
            if not self.real(name) or name in self._merged:
                continue
            node = g.nodes[name]
            spec_for(node)(self, name, node, links_in[name], links_out[name])
        for name in g.nodes:
            if self.real(name):
                for lk in links_in[name]:
                    self._connect(lk)
        self._check_connected()
        for name, node in g.nodes.items():
            if isinstance(node, _ALIASES):
                plan.records[name] = {"kind": "alias", "sources": [[s, int(d)] for s, d in self._alias_sources(name)],
                                      "shape": list(self.shapes[name])}
            if isinstance(node, N.Output):
                plan.outputs.append(name)
        return plan

    def _check_connected(self) -> None:
        """Lava runs the processes connected to the one ``run`` is called on: the network must be
        one weakly connected piece."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(self.plan.procs)
        g.add_edges_from((c.src, c.dst) for c in self.plan.conns)
        parts = list(nx.connected_components(g))
        if len(parts) > 1:
            names = sorted(sorted(p)[0] for p in parts)
            raise UnsupportedError(f"the graph falls into {len(parts)} unconnected parts (containing {names}); "
                                   "Lava runs one connected process network", hint="remove unused nodes")

    # -- interface of the node handlers (process_specs) -------------------------------------

    def add(self, proc: Proc, node_type: str) -> Proc:
        """Add a process; one with a ``node`` gets a row in the node -> process table."""
        self.plan.procs[proc.key] = proc
        if proc.node is not None:
            note = "; ".join(x for x in (proc.note, self.merge_notes.get(proc.node, "")) if x)
            self.plan.table.append({"node": proc.node, "type": node_type, "lava": proc.cls, "process": proc.key,
                                    "note": note})
        return proc

    def port_record(self, name: str, proc: Proc, port: str | None = None) -> None:
        """Node ``name``'s output is ``proc``'s output port (after its latency)."""
        self.plan.records[name] = {"kind": "port", "proc": proc.key, "port": port or proc.out_port,
                                   "latency": int(proc.latency), "shape": list(self.shapes[name])}

    def record_states(self, name: str, node, key: str) -> None:
        """Node ``name``'s states are the Vars of process ``key`` (:data:`STATE_NAMES`)."""
        shape = list(self.shapes[name])
        if isinstance(node, INN.IntTimeMix):
            shape = [node.window, *shape]         # window buffers: (W, *shape)
        for s in STATE_NAMES[type(node)]:
            self.plan.states[f"{name}.{s}"] = {"proc": key, "var": s, "shape": shape}

    def src_int32(self, src: str) -> bool:
        """True when node ``src`` sends values that are int32 in Lava already."""
        node = self.g.nodes[src]
        if isinstance(node, (N.Input, INN.ConstantSource)):
            return True
        if isinstance(node, IN.IntCubaLIF):
            return not node.lava_differences() and node.threshold is not None
        if type(node).__name__ in ("IntSigma", "IntDelta", "IntSigmaDelta"):
            return True                     # Lava's sigma-delta processes send int32 messages
        return False

    # -- connections -----------------------------------------------------------------------

    def _out_ports(self, src: str) -> list[tuple[Proc, str, str, int]]:
        """(process, port, kind, latency) for a real node's output; kind 're'/'im' for complex;
        a merged delay part: the merged DelayDense with the part's own latency."""
        rec = self.plan.records[src]
        if rec["kind"] == "complex":
            return [(self.plan.procs[k], port, part, self.plan.procs[k].latency)
                    for (k, port), part in zip(rec["procs"], ("re", "im"))]
        if rec["kind"] == "merged":
            p = self.plan.procs[rec["proc"]]
            return [(p, p.out_port, "", int(rec["latency"]))]
        p = self.plan.procs[src]
        return [(p, p.out_port, "", p.latency)]

    def _conn(self, conn: Conn) -> None:
        """Add a connection once (the parts of a merged DelayDense share its two connections)."""
        key = (conn.src, conn.src_port, conn.dst, conn.dst_port, repr(conn.transforms))
        if key not in self._conn_keys:
            self._conn_keys.add(key)
            self.plan.conns.append(conn)

    def _connect(self, lk: _Link) -> None:
        dst_node = self.g.nodes[lk.dst]
        for proc, port, part, latency in self._out_ports(lk.src):
            extra = lk.delay - latency
            if extra < 0:
                raise UnsupportedError(f"edge {lk.src} -> {lk.dst}: delay {lk.delay} is shorter than the "
                                       f"{latency}-step latency of Lava's {proc.cls}", node=lk.dst)
            src_key, src_port = proc.key, port
            if extra > 0:
                src_key, src_port = self._delay_line(proc, port, extra, self.shapes[lk.src]), "out"
            for dst_key, dst_port in self._in_ports(lk.dst, dst_node, part):
                self._conn(Conn(src_key, src_port, dst_key, dst_port, _transforms(lk.reshapes)))

    def _in_ports(self, dst: str, dst_node, part: str) -> list[tuple[str, str]]:
        """(process, port) pairs that receive an input of node ``dst`` (a complex synapse mapped
        to two Dense feeds both; an RF takes the imaginary part on its own port)."""
        if isinstance(dst_node, INN.IntRF):
            return [(dst, "a_imag_in" if part == "im" else "a_real_in")]
        rec = self.plan.records.get(dst, {})
        if rec.get("kind") == "merged":
            return [(rec["proc"], self.plan.procs[rec["proc"]].in_port)]
        if rec.get("kind") == "complex" and dst not in self.plan.procs:
            return [(key, "s_in") for key, _ in rec["procs"]]
        return [(dst, self.plan.procs[dst].in_port)]

    def _delay_line(self, proc: Proc, port: str, delay: int, shape) -> str:
        key = (proc.key, port, delay)
        if key not in self._delay_lines:
            dkey = f"{proc.key}.{port}.delay{delay}"
            self.add(Proc(dkey, "SnncDelay", {"shape": lava_shape(shape), "delay": int(delay), "name": dkey},
                          in_port="inp", out_port="out"), "edge delay")
            self.plan.conns.append(Conn(proc.key, port, dkey, "inp"))
            self._delay_lines[key] = dkey
        return self._delay_lines[key]


def _transforms(reshapes: list) -> list:
    """Virtual-port transforms for a chain of Flatten nodes (Lava layout = reversed IR axes)."""
    out = []
    for in_shape, out_shape in reshapes:
        in_shape, out_shape = tuple(in_shape), tuple(out_shape)
        if in_shape == out_shape:
            continue
        if len(in_shape) > 1:
            out.append(("transpose", tuple(range(len(in_shape)))[::-1]))
        out.append(("reshape", out_shape))
        if len(out_shape) > 1:
            out.append(("transpose", tuple(range(len(out_shape)))[::-1]))
    return out


def plan_network(graph: Graph, input_bounds: dict | None = None) -> LavaPlan:
    """The Lava process network for a lowered integer graph (see the module docstring).
    ``input_bounds``: {input name: max |value|} assumed by the exactness checks of Conv and
    complex synapses fed by inputs (the generated network refuses larger inputs); default: the
    analog range recorded at compilation, else the full int32 range."""
    return _Planner(graph, input_bounds).run()


__all__ = ["Code", "Conn", "GRADED_MESSAGE_BITS", "INT32_MAX", "LavaPlan", "MAX_LAVA_DELAY", "Proc", "STATE_NAMES",
           "lava_shape", "plan_network", "to_lava_layout"]
