"""The state of one integer lowering run and the registry of per-node-type handlers.

A handler (subclass of :class:`NodeLowering`, registered with ``@lowers(FloatNodeType)``, as
the simulator's ``@register``) says for one float node type how it is lowered
(:meth:`~NodeLowering.lower`), the scale of its output when it feeds a synapse
(:meth:`~NodeLowering.scale`) and whether that output is binary spikes
(:meth:`~NodeLowering.output_kind`). :class:`LoweringContext` walks the float graph in
evaluation order and calls the handlers; it holds what they share: the float graph, the target
profile, the inferred shapes, the integer graph being built, the output scale of every node
and the original edges a handler replaced.

Units: a value on an edge is the integer ``q = round(real * scale)``; neuron states are in
*state units* (``S`` per real unit), see :mod:`snnc.passes.lowering`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes

from ..pipeline import CompileContext

#: fractional state bits below the weight LSB (Lava's ``a_in << 6``)
INPUT_SHIFT = 6
#: width of quantized analog inputs (signed)
INPUT_BITS = 8


def f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def compact(a: np.ndarray) -> np.ndarray:
    """A scalar array when all entries agree (per layer), else the full array."""
    a = np.asarray(a, np.int64)
    if a.size and np.all(a == a.reshape(-1)[0]):
        return np.asarray(a.reshape(-1)[0], np.int64)
    return a


def rel_err(q, real, S) -> float | None:
    """Largest relative error of the quantized ``q`` (state units, scale S) against ``real``."""
    if q is None or real is None:
        return None
    r = np.broadcast_to(f64(real), np.shape(S))
    return float(np.abs(q / S - r).max() / max(np.abs(r).max(), 1e-30))


class NodeLowering:
    """How the integer lowering treats one float node type. The defaults: not lowerable, not
    a synapse source, graded output."""

    #: lowered together with the synapses that feed it (the synapses wait for their neuron)
    neuron: bool = False

    def lower(self, lw: LoweringContext, name: str, node: N.Node) -> None:
        raise unsupported_node(node, name)

    def scale(self, lw: LoweringContext, name: str, node: N.Node) -> float:
        """Scale of the node's output (integer units per real unit) when it feeds a synapse."""
        raise UnsupportedError(f"integer lowering of {node.type_name} feeding a synapse is not supported yet",
                               node=name)

    def output_kind(self, node: N.Node) -> str:
        """'binary' when every output value is 0 or 1 spikes, else 'graded'."""
        return "graded"


#: float node type -> its handler
HANDLERS: dict[type, NodeLowering] = {}


def lowers(*node_types: type) -> Callable[[type[NodeLowering]], type[NodeLowering]]:
    """Class decorator: register a :class:`NodeLowering` for ``node_types``."""
    def deco(cls: type[NodeLowering]) -> type[NodeLowering]:
        for t in node_types:
            HANDLERS[t] = cls()
        return cls
    return deco


def handler_for(node: N.Node) -> NodeLowering | None:
    """The handler of the node's type (or of its nearest registered base class)."""
    for cls in type(node).__mro__:
        if cls in HANDLERS:
            return HANDLERS[cls]
    return None


def neuron_types() -> set[type]:
    """The float node types lowered together with their input synapses."""
    return {t for t, h in HANDLERS.items() if h.neuron}


def unsupported_node(node: N.Node, name: str) -> UnsupportedError:
    return UnsupportedError(f"integer lowering of {node.type_name} is not supported yet", node=name,
                            hint="supported: Linear/Affine/Conv2d, DiscreteLIF (LIF/CubaLIF/IF), pooling, Flatten")


class LoweringContext:
    """One run of the integer lowering of ``graph`` for ``ctx.config.profile``."""

    def __init__(self, graph: Graph, ctx: CompileContext):
        self.g, self.ctx = graph, ctx
        self.p = ctx.config.profile
        self.shapes = infer_shapes(graph)
        self.out = Graph(metadata={**graph.metadata, "level": "integer", "target": self.p.name})
        self.scale: dict[str, np.ndarray | float] = {}   # output scale per node
        self.qmax = (1 << (self.p.weight_bits - 1)) - 1
        self.rewired: set[tuple[str, str]] = set()      # original edges replaced by a lowering

    # -- what handlers share -------------------------------------------------------------

    def consumers(self, name: str) -> list[str]:
        return [e.dst for e in self.g.out_edges(name)]

    def src_scale(self, name: str) -> float:
        """Scale of a node's output, for nodes that feed synapses (no synapse upstream)."""
        if name in self.scale:
            s = self.scale[name]
            if np.ndim(s) and np.unique(s).size > 1:
                raise UnsupportedError("a synapse input with per-channel scales", node=name)
            return float(np.asarray(s).reshape(-1)[0])
        node = self.g.nodes[name]
        handler = handler_for(node) or NodeLowering()
        s = handler.scale(self, name, node)
        self.scale[name] = s
        return s

    def output_kind(self, name: str) -> str:
        node = self.g.nodes[name]
        handler = handler_for(node)
        return "graded" if handler is None else handler.output_kind(node)

    # -- the walk ------------------------------------------------------------------------

    def run(self) -> Graph:
        for name in self.g.evaluation_order():
            node = self.g.nodes[name]
            handler = handler_for(node)
            if handler is None:
                raise unsupported_node(node, name)
            handler.lower(self, name, node)
        # keep insertion order of the original graph
        order = [n for n in self.g.nodes if n in self.out.nodes] + [n for n in self.out.nodes if n not in self.g.nodes]
        self.out.nodes = {n: self.out.nodes[n] for n in order}
        self.out.edges += [e for e in self.g.edges if (e.src, e.dst) not in self.rewired]
        for name, node in self.out.nodes.items():
            if isinstance(node, N.Output):
                src = [e.src for e in self.g.in_edges(name)]
                s = self.scale.get(src[0], 1.0) if src else 1.0
                node.metadata["scale"] = np.asarray(s, np.float64)
            if isinstance(node, N.Input):
                node.metadata["scale"] = float(self.scale.get(name, 1.0))
                if node.metadata.get("analog"):
                    node.metadata["max_abs"] = float((1 << (INPUT_BITS - 1)) - 1)  # now in integer units
        return self.out
