"""Model summary: per node its type, output shape, parameter count, neuron count and synapse
(connection) count; what ``snnc inspect`` prints and reports reuse."""

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


def format_summary(graph: Graph) -> str:
    """Text table of nodes and edges (recurrent edges marked) plus totals."""
    rows = summarize(graph)
    w = max([len(r.name) for r in rows] + [4])
    tw = max([len(r.type) for r in rows] + [4])
    lines = [f"{'node':<{w}}  {'type':<{tw}}  {'shape':<16} {'params':>9} {'neurons':>8} {'synapses':>10}  notes"]
    for r in rows:
        lines.append(f"{r.name:<{w}}  {r.type:<{tw}}  {str(tuple(r.shape)):<16} {r.params:>9} "
                     f"{r.neurons:>8} {r.synapses:>10}  {r.detail}")
    rec = set(graph.recurrent_edges())
    lines.append("")
    lines.append("edges:")
    for e in graph.edges:
        mark = "  (recurrent)" if e in rec else ""
        lines.append(f"  {e.src} -> {e.dst}  delay {e.delay}{mark}")
    meta = graph.metadata
    lines.append("")
    lines.append(f"totals: {len(rows)} nodes, {sum(r.params for r in rows)} parameters, "
                 f"{sum(r.neurons for r in rows)} neurons, {sum(r.synapses for r in rows)} synapses, "
                 f"{len(rec)} recurrent edges")
    info = [f"{k}={meta[k]}" for k in ("dt", "dt_source", "time_convention", "level", "target") if k in meta]
    if info:
        lines.append("metadata: " + ", ".join(info))
    return "\n".join(lines)
