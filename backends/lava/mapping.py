"""Map a lowered integer graph onto Lava processes: which process realizes each node, how the
edges (with their delays) become port connections, and where every node's output and state
can be read back. Pure data, no Lava import: :mod:`.codegen` turns a :class:`LavaPlan` into
``network.py``.

Rules (docs/numeric_semantics.md#lava-arithmetic gives Lava's arithmetic; every choice below is exact by
construction, otherwise the node gets a custom process from :mod:`.processes`):

=====================  =========================================================================
IR node                Lava
=====================  =========================================================================
Input                  ``io.source.RingBuffer`` (int32 data; inputs must fit int32)
ConstantSource         ``RingBuffer`` with a one-step cyclic buffer holding the value
IntDense               ``Dense`` (``DelayDense`` when its one consumer edge has delay d >= 2:
                       Lava delay d - 1), sign mode and ``num_weight_bits`` chosen so that
                       Lava's clipping/truncation keeps the weights (a common power of two may
                       move into ``weight_exp``); else ``SnncDense``
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
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import conv_padding, infer_shapes, pair
from snnc.ir.value_bounds import output_bounds

INT32_MAX = 2 ** 31 - 1
#: largest delay of Lava's bit-accurate DelayDense (6 delay bits; netx uses 62)
MAX_LAVA_DELAY = 62
#: num_message_bits of graded Lava synapses (Loihi 2 graded spikes carry up to 24 bits)
GRADED_MESSAGE_BITS = 24

_NEURONS = (IN.IntCubaLIF, INN.IntLIFB, INN.IntCLIF, INN.IntRF, INN.IntLMHT, INN.IntLNM)
_SYNAPSES = (IN.IntDense, IN.IntConv2d, N.SumPool2d, INN.IntComplexDense)
_ALIASES = (N.Flatten, N.Output)
#: state names per neuron kind, as the simulator records them
STATE_NAMES = {IN.IntCubaLIF: ("u", "v"), INN.IntLIFB: ("v",), INN.IntCLIF: ("u", "m"), INN.IntRF: ("re", "im"),
               INN.IntLMHT: ("v",), INN.IntLNM: ("v",), INN.IntTimeMix: ("buffer", "mixed")}


def lava_shape(shape) -> tuple[int, ...]:
    """Lava's layout of an IR tensor shape: the axes reversed ((C, H, W) -> (W, H, C))."""
    return tuple(int(s) for s in shape)[::-1]


def to_lava_layout(value, shape) -> np.ndarray:
    """A parameter broadcast to the IR ``shape`` and transposed to Lava's layout (int64)."""
    full = np.broadcast_to(np.asarray(value, np.int64), tuple(shape))
    return np.ascontiguousarray(full.transpose(tuple(range(full.ndim))[::-1]))


@dataclass
class Code:
    """A constructor argument written verbatim into the generated code."""

    text: str


@dataclass
class Proc:
    """One Lava process of the network: ``cls(**args)`` (arrays go to params.npz)."""

    key: str
    cls: str
    args: dict
    node: str | None = None
    latency: int = 0
    in_port: str | None = None
    out_port: str | None = None
    note: str = ""


@dataclass
class Conn:
    """``src.src_port[.transforms] -> dst.dst_port``; transforms: ('transpose', axes) /
    ('reshape', shape)."""

    src: str
    src_port: str
    dst: str
    dst_port: str
    transforms: list = field(default_factory=list)


@dataclass
class LavaPlan:
    """The whole network: processes, connections, and how to read every IR node back."""

    procs: dict[str, Proc] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)
    states: dict[str, dict] = field(default_factory=dict)
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)

    @property
    def max_latency(self) -> int:
        return max((r.get("latency", 0) for r in self.records.values()), default=0)


@dataclass
class _Link:
    """An edge between two real (process-backed) nodes, through Flatten nodes."""

    src: str
    dst: str
    delay: int
    reshapes: list  # [(in_shape, out_shape)] of the Flatten nodes passed, source side first


# ---------------------------------------------------------------------------------------------
# Lava Dense weight preparation
# ---------------------------------------------------------------------------------------------


def lava_dense_effective(w: np.ndarray, sign_mode: int, num_weight_bits: int) -> np.ndarray:
    """The weights Lava's bit-accurate Dense uses (docs/numeric_semantics.md#lava-arithmetic) for a given sign mode
    (1 mixed, 2 excitatory, 3 inhibitory): clip to [-256, 255] / [0, 255] / [-255, 0], then drop
    ``8 - num_weight_bits + mixed`` LSBs (arithmetic shift; inhibitory on -w)."""
    w = np.asarray(w, np.int64)
    mixed, inh = sign_mode == 1, sign_mode == 3
    m = -w if inh else w
    m = np.clip(m, -256 if mixed else 0, 255)
    k = 8 - num_weight_bits + int(mixed)
    m = (m >> k) << k if k > 0 else m
    return -m if inh else m


def lava_dense_weights(w: np.ndarray) -> tuple[np.ndarray, int, int, int] | None:
    """(weights, k, sign_mode, num_weight_bits) with ``weights << k == w`` that Lava's Dense keeps
    unchanged, the smallest such k >= 0; None if no k works. The sign mode is passed explicitly
    (an all-negative matrix with -256 would lose it in Lava's inhibitory mode)."""
    w = np.asarray(w, np.int64)
    if w.size == 0:
        return None
    for k in range(0, 63):
        if k and np.any(w % (1 << k)):
            return None
        wk = w >> k
        if wk.min() < -256 or wk.max() > 255:
            continue
        if wk.min() >= 0:
            mode = 2
        elif wk.max() <= 0 and wk.min() >= -255:
            mode = 3
        else:
            mode = 1
        nwb = 8
        if mode == 1 and np.any(wk % 2):
            nwb = 9
        assert np.array_equal(lava_dense_effective(wk, mode, nwb), wk)
        return wk, k, mode, nwb
    return None


_SIGN_MODE_NAMES = {1: "SignMode.MIXED", 2: "SignMode.EXCITATORY", 3: "SignMode.INHIBITORY"}


# ---------------------------------------------------------------------------------------------
# the planner
# ---------------------------------------------------------------------------------------------


class _Planner:
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
        ok = (N.Input, INN.ConstantSource, INN.IntTimeMix, *_SYNAPSES, *_NEURONS, *_ALIASES)
        if not isinstance(node, ok):
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
        for name in g.nodes:
            if not self.real(name):
                continue
            node = g.nodes[name]
            if isinstance(node, N.Input):
                self._input(name, node)
            elif isinstance(node, INN.ConstantSource):
                self._constant(name, node)
            elif isinstance(node, IN.IntDense):
                self._dense(name, node, links_in[name], links_out[name])
            elif isinstance(node, IN.IntConv2d):
                self._conv(name, node, links_in[name], links_out[name])
            elif isinstance(node, N.SumPool2d):
                self._pool(name, node, links_in[name], links_out[name])
            elif isinstance(node, INN.IntComplexDense):
                self._complex(name, node, links_in[name], links_out[name])
            elif isinstance(node, IN.IntCubaLIF):
                self._lif(name, node)
            else:
                self._neuron(name, node)
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

    # -- node kinds ------------------------------------------------------------------------

    def _add(self, proc: Proc, node_type: str) -> Proc:
        self.plan.procs[proc.key] = proc
        if proc.node is not None:
            self.plan.table.append({"node": proc.node, "type": node_type, "lava": proc.cls, "process": proc.key,
                                    "note": proc.note})
        return proc

    def _port_record(self, name: str, proc: Proc, port: str | None = None) -> None:
        self.plan.records[name] = {"kind": "port", "proc": proc.key, "port": port or proc.out_port,
                                   "latency": int(proc.latency), "shape": list(self.shapes[name])}

    def _states(self, name: str, node, key: str) -> None:
        shape = list(self.shapes[name])
        if isinstance(node, INN.IntTimeMix):
            shape = [node.window, *shape]         # window buffers: (W, *shape)
        for s in STATE_NAMES[type(node)]:
            self.plan.states[f"{name}.{s}"] = {"proc": key, "var": s, "shape": shape}

    def _input(self, name: str, node: N.Input) -> None:
        shape = tuple(self.shapes[name])
        p = self._add(Proc(name, "RingBuffer", {"data": Code(f"inputs[{name!r}]")}, node=name, out_port="s_out",
                           note="input spikes/values (int32), last axis time"), "Input")
        self.plan.inputs[name] = {"proc": p.key, "shape": list(shape), "max_abs": int(self._input_bound(name, node))}
        self.plan.records[name] = {"kind": "input", "shape": list(shape)}

    def _constant(self, name: str, node: INN.ConstantSource) -> None:
        shape = tuple(self.shapes[name])
        value = to_lava_layout(node.value, shape)
        if np.abs(value).max(initial=0) > INT32_MAX:
            raise UnsupportedError("constant does not fit Lava's int32 RingBuffer", node=name, field="value")
        p = self._add(Proc(name, "RingBuffer", {"data": value[..., None]}, node=name, out_port="s_out",
                           note="constant source: one-step cyclic RingBuffer"), "ConstantSource")
        self._port_record(name, p)

    def _min_consumer_delay(self, links_out: list[_Link]) -> int | None:
        return min((lk.delay for lk in links_out), default=None)

    def _dense(self, name: str, node: IN.IntDense, links_in, links_out) -> None:
        node.validate(name)
        w = np.asarray(node.weight, np.int64)
        binary_ir = node.input_kind == "binary"
        sources_binary = bool(links_in) and all(self.binary_source(lk.src) for lk in links_in)
        int32_sources = all(self._src_int32(lk.src) for lk in links_in)
        dmin = self._min_consumer_delay(links_out)
        reason = None
        prep = lava_dense_weights(w)
        if dmin is not None and dmin < 1:
            reason = "a consumer edge without delay (Lava's Dense adds one step)"
        elif prep is None:
            reason = "weights not representable as Lava 8-bit weights << k"
        elif node.out_bits != 32:
            reason = f"out_bits {node.out_bits} (Lava's Dense output port is int32)"
        elif w.shape[1] * 256 * 2 ** prep[1] >= 2 ** 31 and binary_ir:
            reason = "binary accumulator may exceed int32"
        else:
            wk, k, mode, nwb = prep
            exp = int(node.weight_exp) + k
            if not (binary_ir or sources_binary):
                graded_ok = (node.acc_bits >= 32 and int(node.weight_exp) >= 0) or (
                    node.acc_bits == 32 and k == 0 and int32_sources)
                if not graded_ok:
                    reason = ("graded accumulator width/shift that Lava's int32 dot would wrap differently "
                              f"(acc_bits {node.acc_bits}, weight_exp {node.weight_exp}, k {k})")
        if reason is None:
            lava_binary = binary_ir or sources_binary
            args = {"weights": wk, "weight_exp": exp, "num_weight_bits": nwb, "sign_mode": Code(_SIGN_MODE_NAMES[mode]),
                    "num_message_bits": 0 if lava_binary else GRADED_MESSAGE_BITS, "name": name}
            cls, lat = "Dense", 1
            if len(links_out) == 1 and 2 <= links_out[0].delay <= MAX_LAVA_DELAY + 1 and (lava_binary or exp >= 0):
                cls, lat = "DelayDense", links_out[0].delay
                args = {**args, "delays": int(lat - 1), "max_delay": int(lat - 1)}
            p = self._add(Proc(name, cls, args, node=name, latency=lat, in_port="s_in", out_port="a_out",
                               note=f"{'binary' if lava_binary else 'graded'}"
                                    + (f", weights << {k}" if k else "") + (f", delay {lat - 1}" if lat > 1 else "")),
                          "IntDense")
        else:
            lat = 0 if (dmin is not None and dmin < 1) else 1
            args = {"weights": w, "weight_exp": int(node.weight_exp), "binary": binary_ir,
                    "acc_bits": int(node.acc_bits), "out_bits": int(node.out_bits), "latency": lat, "name": name}
            p = self._add(Proc(name, "SnncDense", args, node=name, latency=lat, in_port="s_in", out_port="a_out",
                               note=reason), "IntDense")
        self._port_record(name, p)

    def _src_int32(self, src: str) -> bool:
        node = self.g.nodes[src]
        if isinstance(node, (N.Input, INN.ConstantSource)):
            return True
        if isinstance(node, IN.IntCubaLIF):
            return not node.lava_differences() and node.threshold is not None
        return False

    def _conv_geometry(self, name: str, node) -> tuple:
        in_shape = tuple(self.shapes[self.g.in_edges(name)[0].src]) if self.g.in_edges(name) else None
        return in_shape, tuple(self.shapes[name])

    def _conv(self, name: str, node: IN.IntConv2d, links_in, links_out) -> None:
        node.validate(name)
        w = np.asarray(node.weight, np.int64)
        in_shape, out_shape = self._conv_geometry(name, node)
        stride = pair(node.stride, "stride", name)
        dil = pair(node.dilation, "dilation", name)
        pad = tuple(conv_padding(node, in_shape[1:], name))
        binary_ir = node.input_kind == "binary"
        sources_binary = bool(links_in) and all(self.binary_source(lk.src) for lk in links_in)
        lava_binary = binary_ir or sources_binary
        acc_bound = float(np.abs(w).reshape(w.shape[0], -1).sum(axis=1).max(initial=0)) * (
            1.0 if lava_binary else self._in_payload(links_in))
        dmin = self._min_consumer_delay(links_out)
        reason = None
        if dmin is not None and dmin < 1:
            reason = "a consumer edge without delay (Lava's Conv adds one step)"
        elif node.weight_exp != 0 or node.bias is not None:
            reason = "weight_exp or bias (Lava's Conv ignores weight_exp and has no bias)"
        elif node.out_bits != 24:
            reason = f"out_bits {node.out_bits} (Lava's Conv wraps at 24 bits)"
        elif not acc_bound < 2 ** 31:
            reason = "the accumulator may exceed int32 (Lava converts its float64 sum to int32)"
        elif max(*stride, *pad, *dil, *w.shape[2:]) > 127:
            reason = "stride/padding/dilation/kernel beyond Lava's int8 fields"
        if reason is None:
            args = {"weight": np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(0, 3, 2, 1)),
                    "input_shape": lava_shape(in_shape), "stride": stride[::-1], "padding": pad[::-1],
                    "dilation": dil[::-1], "groups": int(node.groups),
                    "num_message_bits": 0 if lava_binary else GRADED_MESSAGE_BITS, "name": name}
            p = self._add(Proc(name, "Conv", args, node=name, latency=1, in_port="s_in", out_port="a_out",
                               note=f"{'binary' if lava_binary else 'graded'}, kernel flipped, (W,H,C)"),
                          "IntConv2d")
        else:
            lat = 0 if (dmin is not None and dmin < 1) else 1
            p = self._add(self._snnc_conv(name, w, None if node.bias is None else np.asarray(node.bias, np.int64),
                                          in_shape, out_shape, stride, pad, dil, int(node.groups),
                                          int(node.weight_exp), binary_ir, int(node.out_bits), lat, reason),
                          "IntConv2d")
        self._port_record(name, p)

    def _snnc_conv(self, name, w, bias, in_shape, out_shape, stride, pad, dil, groups, weight_exp, binary,
                   out_bits, lat, reason) -> Proc:
        args = {"weight": w, "bias": np.zeros(out_shape[0], np.int64) if bias is None else bias,
                "in_shape": tuple(in_shape), "out_shape": tuple(out_shape), "stride": list(stride),
                "padding": list(pad), "dilation": list(dil), "groups": groups, "weight_exp": weight_exp,
                "binary": binary, "out_bits": out_bits, "latency": lat, "name": name}
        return Proc(name, "SnncConv", args, node=name, latency=lat, in_port="s_in", out_port="a_out", note=reason)

    def _pool(self, name: str, node: N.SumPool2d, links_in, links_out) -> None:
        in_shape, out_shape = self._conv_geometry(name, node)
        k = pair(node.kernel_size, "kernel_size", name)
        stride = pair(node.stride, "stride", name)
        pad = pair(node.padding, "padding", name)
        c = int(in_shape[0])
        sources_binary = bool(links_in) and all(self.binary_source(lk.src) for lk in links_in)
        bound = k[0] * k[1] * self._in_payload(links_in)
        dmin = self._min_consumer_delay(links_out)
        reason = None
        if dmin is not None and dmin < 1:
            reason = "a consumer edge without delay (Lava's Conv adds one step)"
        elif not bound < 2 ** 23:
            reason = "the window sum may exceed Lava Conv's 24-bit wrap"
        elif max(*stride, *pad, *k) > 127:
            reason = "stride/padding/kernel beyond Lava's int8 fields"
        if reason is None:
            args = {"weight": np.ones((c, k[1], k[0], 1), np.int64), "input_shape": lava_shape(in_shape),
                    "stride": stride[::-1], "padding": pad[::-1], "dilation": (1, 1), "groups": c,
                    "num_message_bits": 0 if sources_binary else GRADED_MESSAGE_BITS, "name": name}
            p = self._add(Proc(name, "Conv", args, node=name, latency=1, in_port="s_in", out_port="a_out",
                               note="sum pooling as a depthwise ones-kernel conv"), "SumPool2d")
        else:
            lat = 0 if (dmin is not None and dmin < 1) else 1
            p = self._add(self._snnc_conv(name, np.ones((c, 1, k[0], k[1]), np.int64), None, in_shape, out_shape,
                                          stride, pad, (1, 1), c, 0, False, 64, lat, reason), "SumPool2d")
        self._port_record(name, p)

    def _complex(self, name: str, node: INN.IntComplexDense, links_in, links_out) -> None:
        wr, wi = np.asarray(node.weight_real, np.int64), np.asarray(node.weight_imag, np.int64)
        for lk in links_out:
            if not isinstance(self.g.nodes[lk.dst], INN.IntRF):
                raise UnsupportedError(f"a complex synapse feeding {self.g.nodes[lk.dst].type_name} (only IntRF takes "
                                       "complex input)", node=name)
        sources_binary = node.input_kind == "binary" or (
            bool(links_in) and all(self.binary_source(lk.src) for lk in links_in))
        pr, pi = lava_dense_weights(wr), lava_dense_weights(wi)
        exp = int(node.weight_exp)
        bound = max(float(np.abs(wr).sum(axis=1).max(initial=0)), float(np.abs(wi).sum(axis=1).max(initial=0))) * (
            1.0 if sources_binary else self._in_payload(links_in)) * 2.0 ** exp
        dmin = self._min_consumer_delay(links_out)
        reason = None
        if dmin is not None and dmin < 1:
            reason = "a consumer edge without delay"
        elif pr is None or pi is None:
            reason = "weights not representable as Lava 8-bit weights << k"
        elif not bound < 2 ** 31:
            reason = "the accumulators may exceed int32"
        elif exp < 0:
            reason = "negative weight_exp"
        if reason is None:
            delays = {lk.delay for lk in links_out}
            d = delays.pop() if len(delays) == 1 else 1
            parts = []
            for part, (wk, k, mode, nwb) in (("re", pr), ("im", pi)):
                args = {"weights": wk, "weight_exp": exp + k, "num_weight_bits": nwb,
                        "sign_mode": Code(_SIGN_MODE_NAMES[mode]),
                        "num_message_bits": 0 if sources_binary else GRADED_MESSAGE_BITS, "name": f"{name}.{part}"}
                cls = "Dense"
                if 2 <= d <= MAX_LAVA_DELAY + 1:
                    cls = "DelayDense"
                    args = {**args, "delays": int(d - 1), "max_delay": int(d - 1)}
                parts.append(self._add(Proc(f"{name}.{part}", cls, args, node=name, latency=d if cls == "DelayDense"
                                            else 1, in_port="s_in", out_port="a_out",
                                            note=f"{'real' if part == 're' else 'imaginary'} part"),
                                       "IntComplexDense"))
            self.plan.records[name] = {"kind": "complex", "procs": [[parts[0].key, "a_out"], [parts[1].key, "a_out"]],
                                       "latency": int(parts[0].latency), "shape": list(self.shapes[name])}
        else:
            lat = 0 if (dmin is not None and dmin < 1) else 1
            p = self._add(Proc(name, "SnncComplexDense", {"weight_real": wr, "weight_imag": wi, "weight_exp": exp,
                                                          "latency": lat, "input_kind": node.input_kind,
                                                          "name": name},
                               node=name, latency=lat, in_port="s_in", note=reason), "IntComplexDense")
            self.plan.records[name] = {"kind": "complex", "procs": [[p.key, "a_real_out"], [p.key, "a_imag_out"]],
                                       "latency": lat, "shape": list(self.shapes[name])}

    def _lif(self, name: str, node: IN.IntCubaLIF) -> None:
        node.validate(name)
        shape = tuple(self.shapes[name])
        diffs = list(node.lava_differences())
        feeds_only_outputs = all(isinstance(self.g.nodes[e.dst], N.Output) for e in self.g.out_edges(name))
        if node.threshold is None and not feeds_only_outputs:
            diffs.append("non-spiking (its output v feeds a synapse; Lava's LIF sends spikes only)")
        kw = None
        if not diffs:
            try:
                kw = node.to_lava(name)
            except UnsupportedError as exc:
                diffs.append(exc.detail)
        if kw is not None:
            cls = "LIFReset" if "reset_interval" in kw else "LIF"
            args = {"shape": lava_shape(shape), "du": int(kw["du"]), "dv": int(kw["dv"]), "vth": int(kw["vth"]),
                    "bias_mant": to_lava_layout(kw["bias_mant"], shape),
                    "bias_exp": to_lava_layout(kw["bias_exp"], shape), "name": name}
            if cls == "LIFReset":
                args.update(reset_interval=int(kw["reset_interval"]), reset_offset=int(kw["reset_offset"]))
            p = self._add(Proc(name, cls, args, node=name, in_port="a_in", out_port="s_out",
                               note="exact Lava LIF" + ("" if node.threshold is not None
                                                        else " (non-spiking: output read from v)")), "IntCubaLIF")
            if node.threshold is None:
                self.plan.records[name] = {"kind": "var", "proc": p.key, "var": "v", "shape": list(shape)}
            else:
                self._port_record(name, p)
        else:
            args = {"shape": lava_shape(shape),
                    "current_mult": to_lava_layout(node.current_mult, shape),
                    "voltage_mult": to_lava_layout(node.voltage_mult, shape),
                    "threshold": to_lava_layout(0 if node.threshold is None else node.threshold, shape),
                    "bias": to_lava_layout(0 if node.bias is None else node.bias, shape),
                    "input_shift": int(node.input_shift), "decay_bits": int(node.decay_bits),
                    "arith_bits": int(node.arith_bits), "u_bits": int(node.u_bits), "u_overflow": node.u_overflow,
                    "v_bits": int(node.v_bits), "v_overflow": node.v_overflow, "comparison": node.comparison,
                    "reset": node.reset, "spiking": node.threshold is not None,
                    "reset_interval": int(node.state_reset_interval or 0), "reset_phase": int(node.state_reset_phase),
                    "name": name}
            p = self._add(Proc(name, "SnncCubaLIF", args, node=name, in_port="a_in", out_port="s_out",
                               note="; ".join(diffs)), "IntCubaLIF")
            self._port_record(name, p)
        self._states(name, node, p.key)

    def _neuron(self, name: str, node) -> None:
        shape = tuple(self.shapes[name])
        ls = lava_shape(shape)
        L = lambda v: to_lava_layout(v, shape)  # noqa: E731
        if isinstance(node, INN.IntLIFB):
            amps = np.asarray(node.amplitudes, np.int64).reshape(-1)
            args = {"shape": ls, "leak_mult": L(node.leak_mult), "threshold": L(node.threshold),
                    "threshold_step": L(node.threshold_step), "v_min": L(0 if node.v_min is None else node.v_min),
                    "has_v_min": node.v_min is not None, "amplitudes": [int(a) for a in amps],
                    "max_burst": int(node.max_burst), "decay_bits": int(node.decay_bits), "reset": node.reset,
                    "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow}
            cls = "SnncLIFB"
            note = ("binary population (max_burst 1)" if node.max_burst == 1 and amps.tolist() == [0, 1]
                    else "graded burst payload")
        elif isinstance(node, INN.IntCLIF):
            args = {"shape": ls, "lut_u": [int(v) for v in np.asarray(node.lut_u).reshape(-1)],
                    "lut_m": [int(v) for v in np.asarray(node.lut_m).reshape(-1)],
                    "decay_mult": int(node.decay_mult), "threshold": int(node.threshold),
                    "u_shift": int(node.u_shift), "u_offset": int(node.u_offset), "m_shift": int(node.m_shift),
                    "m_frac_bits": int(node.m_frac_bits), "lut_frac_bits": int(node.lut_frac_bits),
                    "reset_scale": int(node.reset_scale), "decay_bits": int(node.decay_bits),
                    "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow}
            cls, note = "SnncCLIF", "sigmoid look-up tables"
        elif isinstance(node, INN.IntRF):
            args = {"shape": ls, "decay_real": L(node.decay_real), "decay_imag": L(node.decay_imag),
                    "threshold": int(node.threshold), "decay_bits": int(node.decay_bits),
                    "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow,
                    "spike_rule": node.spike_rule}
            cls, note = "SnncRF", {"re": "S5 rule: spike on Re > threshold, no reset",
                                   "phase": "phase rule (lava.proc.rf): Re >= threshold as Im crosses zero upward",
                                   "iz": "RF_IZ rule (lava.proc.rf_iz): spike on Im >= threshold, then reset"
                                   }[node.spike_rule]
        elif isinstance(node, INN.IntLMHT):
            args = {"shape": ls, "leak_mult": int(node.leak_mult), "threshold": int(node.threshold),
                    "levels": int(node.levels), "state_init": int(node.v_init), "window": int(node.window or 0),
                    "phase": int(node.phase), "decay_bits": int(node.decay_bits), "state_bits": int(node.state_bits),
                    "overflow": node.overflow}
            cls, note = "SnncLMHT", "graded level output" + (f", idle until step {node.phase}" if node.phase else "")
        elif isinstance(node, INN.IntTimeMix):
            args = {"shape": ls, "coefficients": [[int(c) for c in row] for row in np.asarray(node.coefficients)],
                    "frac_bits": int(node.frac_bits), "phase": int(node.phase)}
            cls, note = "SnncTimeMix", f"streaming time mixing, one window ({node.window} steps) late"
        else:
            args = {"shape": ls, "coefficients": [int(c) for c in np.asarray(node.coefficients).reshape(-1)],
                    "frac_bits": int(node.frac_bits), "threshold": int(node.threshold),
                    "v_reset": int(node.v_reset), "v_min": int(node.v_min), "v_max": int(node.v_max),
                    "reset": node.reset, "comparison": node.comparison, "form": node.form}
            cls, note = "SnncLNM", "polynomial f(v), Horner"
        args["name"] = name
        p = self._add(Proc(name, cls, args, node=name, in_port="a_in", out_port="s_out", note=note), node.type_name)
        self._port_record(name, p)
        self._states(name, node, p.key)

    # -- connections -----------------------------------------------------------------------

    def _out_ports(self, src: str) -> list[tuple[Proc, str, str]]:
        """(process, port, kind) triples for a real node's output; kind 're'/'im' for complex."""
        rec = self.plan.records[src]
        if rec["kind"] == "complex":
            return [(self.plan.procs[k], port, part) for (k, port), part in zip(rec["procs"], ("re", "im"))]
        p = self.plan.procs[src]
        return [(p, p.out_port, "")]

    def _connect(self, lk: _Link) -> None:
        dst_node = self.g.nodes[lk.dst]
        for proc, port, part in self._out_ports(lk.src):
            extra = lk.delay - proc.latency
            if extra < 0:
                raise UnsupportedError(f"edge {lk.src} -> {lk.dst}: delay {lk.delay} is shorter than the "
                                       f"{proc.latency}-step latency of Lava's {proc.cls}", node=lk.dst)
            src_key, src_port = proc.key, port
            if extra > 0:
                src_key, src_port = self._delay_line(proc, port, extra, self.shapes[lk.src]), "out"
            for dst_key, dst_port in self._in_ports(lk.dst, dst_node, part):
                self.plan.conns.append(Conn(src_key, src_port, dst_key, dst_port, _transforms(lk.reshapes)))

    def _in_ports(self, dst: str, dst_node, part: str) -> list[tuple[str, str]]:
        """(process, port) pairs that receive an input of node ``dst`` (a complex synapse mapped
        to two Dense feeds both; an RF takes the imaginary part on its own port)."""
        if isinstance(dst_node, INN.IntRF):
            return [(dst, "a_imag_in" if part == "im" else "a_real_in")]
        rec = self.plan.records.get(dst, {})
        if rec.get("kind") == "complex" and dst not in self.plan.procs:
            return [(key, "s_in") for key, _ in rec["procs"]]
        return [(dst, self.plan.procs[dst].in_port)]

    def _delay_line(self, proc: Proc, port: str, delay: int, shape) -> str:
        key = (proc.key, port, delay)
        if key not in self._delay_lines:
            dkey = f"{proc.key}.{port}.delay{delay}"
            self._add(Proc(dkey, "SnncDelay", {"shape": lava_shape(shape), "delay": int(delay), "name": dkey},
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


__all__ = ["Code", "Conn", "LavaPlan", "Proc", "STATE_NAMES", "lava_dense_effective", "lava_dense_weights",
           "lava_shape", "plan_network", "to_lava_layout"]
