"""Dropping a leading batch axis of size 1 that exporters leave in a graph's Input.

NIR shapes exclude the batch axis, but snnTorch's and Norse's exporters (through nirtorch) copy
the sample's shape, batch included: an Input ``(1, 20)`` in front of an Affine with 20 inputs,
``(1, 2, 34, 34)`` in front of a Conv2d. Kept, the axis makes every neuron population 2-d
(``(1, 32)``), which no target compiles. The axis is dropped when all of these hold:

* the Input's shape has at least two axes and the first is 1;
* the Input's consumers expect one axis fewer (Affine/Linear: 1, Conv1d: 2, Conv2d and pooling:
  3, a neuron: the rank of its parameter arrays, when it has non-scalar ones);
* shapes still infer on the whole graph without the axis.

A 1-channel image ``(1, 28, 28)`` into a Conv2d is kept (the conv expects 3 axes). Each drop is
recorded in ``graph.metadata['batch_axis_dropped']`` (input -> original shape) and as a
sentence in ``graph.metadata['import_notes']``.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import SnncError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes


def _expected_rank(node: N.Node) -> int | None:
    """Rank of the per-sample input a consumer expects, or None if it accepts any."""
    if isinstance(node, (N.Affine, N.Linear)):
        return 1
    if isinstance(node, (N.Conv1d, N.Conv2d)):
        return np.asarray(node.weight).ndim - 1
    if isinstance(node, (N.SumPool2d, N.AvgPool2d)):
        return 3
    if isinstance(node, N.NEURON_TYPES):
        ranks = {np.asarray(v).ndim for v in node.params().values()
                 if isinstance(v, np.ndarray) and np.asarray(v).ndim > 0}
        return ranks.pop() if len(ranks) == 1 else None
    return None


def drop_batch_axis(graph: Graph) -> Graph:
    """Return ``graph`` with the leading size-1 batch axis of its Inputs removed where the
    rules of the module docstring say it is one (the same graph object when nothing changes)."""
    candidates = []
    for name in graph.input_names():
        shape = tuple(int(s) for s in graph.nodes[name].shape)
        if len(shape) < 2 or shape[0] != 1:
            continue
        ranks = {_expected_rank(graph.nodes[e.dst]) for e in graph.out_edges(name)}
        if None in ranks or ranks != {len(shape) - 1}:
            continue
        candidates.append((name, shape))
    if not candidates:
        return graph
    out = graph.copy()
    for name, shape in candidates:
        out.nodes[name].shape = shape[1:]
    try:
        infer_shapes(out)
    except SnncError:
        return graph
    dropped = dict(out.metadata.get("batch_axis_dropped", {}))
    notes = list(out.metadata.get("import_notes", []))
    for name, shape in candidates:
        dropped[name] = list(shape)
        notes.append(f"Input '{name}': leading batch axis of size 1 dropped, shape {shape} -> {shape[1:]} "
                     "(NIR shapes exclude the batch axis; the exporter kept the sample's)")
    out.metadata["batch_axis_dropped"] = dropped
    out.metadata["import_notes"] = notes
    return out
