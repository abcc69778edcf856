"""How many neurons and synapses (connections) a node implements: the counting rules that
``snnc inspect``, compile reports and the resource estimates of the back ends share.

* neurons: the number of elements of a neuron node's output (``nodes.NEURON_TYPES`` or an
  integer node with ``is_neuron``), 0 for every other node;
* synapses: dense out x in; conv: every output element times (C_in / groups) x kernel size
  (padding positions included); pooling: output x kernel; a complex synapse
  (IntComplexDense, real and imaginary weight) counts each connection once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import nodes as N
from .graph import Graph
from .shapes import infer_shapes


def is_neuron(node: N.Node) -> bool:
    """True for neuron populations (float NIR neurons and integer neurons)."""
    return isinstance(node, N.NEURON_TYPES) or getattr(node, "is_neuron", False)


def neuron_count(node: N.Node, shape: tuple) -> int:
    """Neurons of ``node`` with output ``shape``: its element count for a neuron, else 0."""
    return int(np.prod(shape)) if is_neuron(node) else 0


def synapse_count(node: N.Node, in_shape: tuple | None, out_shape: tuple) -> int:
    """Connections a synapse node implements (module docstring); 0 for other nodes."""
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


def node_counts(graph: Graph) -> dict[str, tuple[int, int]]:
    """{node: (neurons, synapses)} for every node of ``graph`` (a synapse's input shape is the
    shape of its first input)."""
    shapes = infer_shapes(graph)
    out = {}
    for name, node in graph.nodes.items():
        ins = [shapes[e.src] for e in graph.in_edges(name)]
        out[name] = (neuron_count(node, shapes[name]), synapse_count(node, ins[0] if ins else None, shapes[name]))
    return out


@dataclass
class NodeSummary:
    name: str
    type: str
    shape: tuple
    params: int
    neurons: int
    synapses: int
    detail: str


def summarize(graph: Graph) -> list[NodeSummary]:
    shapes = infer_shapes(graph)
    rows = []
    for name, node in graph.nodes.items():
        ins = [shapes[e.src] for e in graph.in_edges(name)]
        in_shape = ins[0] if ins else None
        params = sum(int(np.asarray(v).size) for v in node.params().values()
                     if isinstance(v, np.ndarray))
        neurons = neuron_count(node, shapes[name])
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


__all__ = ["NodeSummary", "is_neuron", "neuron_count", "node_counts", "summarize", "synapse_count"]
