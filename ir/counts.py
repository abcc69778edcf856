"""Counting on a graph: per node its type, output shape, parameter count, neuron count and synapse
(connection) count. Shared by ``snnc inspect``, compile reports, the demo and the backends'
resource estimates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes


@dataclass
class NodeSummary:
    name: str
    type: str
    shape: tuple
    params: int
    neurons: int
    synapses: int
    detail: str


def _is_neuron(node: N.Node) -> bool:
    return isinstance(node, N.NEURON_TYPES) or getattr(node, "is_neuron", False)


def synapse_count(node: N.Node, in_shape: tuple | None, out_shape: tuple) -> int:
    """Connections a synapse node implements: dense out x in; conv: every output element
    times (C_in / groups) x kernel size (padding positions included); pooling: output x kernel;
    a complex synapse (IntComplexDense, real and imaginary weight) counts each connection once."""
    w = getattr(node, "weight", None)
    if w is None:
        w = getattr(node, "weight_real", None)
    if w is not None and isinstance(w, np.ndarray):
        if w.ndim == 2:
            return int(w.size) * int(np.prod(out_shape[:-1], dtype=np.int64))
        return int(np.prod(out_shape)) * int(np.prod(w.shape[1:]))
    if isinstance(node, (N.SumPool2d, N.AvgPool2d)):
        k = np.atleast_1d(node.kernel_size)
        return int(np.prod(out_shape)) * int(np.prod(k) if k.size > 1 else k[0] ** 2)
    return 0


def summarize(graph: Graph) -> list[NodeSummary]:
    shapes = infer_shapes(graph)
    rows = []
    for name, node in graph.nodes.items():
        ins = [shapes[e.src] for e in graph.in_edges(name)]
        in_shape = ins[0] if ins else None
        params = sum(int(np.asarray(v).size) for v in node.params().values()
                     if isinstance(v, np.ndarray))
        neurons = int(np.prod(shapes[name])) if _is_neuron(node) else 0
        detail = ""
        if hasattr(node, "v_threshold") and node.v_threshold is not None:
            thr = np.asarray(node.v_threshold)
            detail = f"thr={float(thr.reshape(-1)[0]):g}" + ("" if thr.size == 1 else "..")
        if hasattr(node, "comparison"):
            detail += f" cmp{node.comparison}"
        if getattr(node, "reset", None):
            detail += f" reset={node.reset}"
        rows.append(NodeSummary(name, node.type_name, shapes[name], params, neurons,
                                synapse_count(node, in_shape, shapes[name]), detail.strip()))
    return rows
