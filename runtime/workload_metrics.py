"""NeuroBench's model and workload metrics, computed by snnc on its own graphs and traces.

The definitions are NeuroBench's (``neurobench`` 2.x, ``neurobench.metrics``), so that snnc's
numbers are the community's; ``tests/runtime/test_neurobench_metrics.py`` runs ``neurobench``
itself on the same torch layers and data and checks that the numbers are equal.

* **SynapticOperations** (per sample): for every connection layer (a dense synapse node: float
  ``Affine``/``Linear``, integer ``IntDense``/``IntComplexDense``), every step and sample, the
  number of (non-zero input, non-zero weight) pairs; biases are not operations (NeuroBench
  zeroes them), so in a lowered graph the connections from a constant source (the bias column)
  are left out. A layer whose inputs are all in {-1, 0, 1} is counted as accumulates
  (``Effective_ACs``), any other as multiply-accumulates (``Effective_MACs``); ``Dense``: every
  input and weight counted (T x n_in x n_out per layer and sample).
* **ActivationSparsity**: over the outputs of every neuron layer (spiking or not, readouts
  included), at every step of every sample: zeros / values.
* **ConnectionSparsity**: zero weights / weights over the connection layers (biases excluded;
  a complex weight is one weight).
* **Footprint** (bytes): the float model's parameters at 4 bytes each (float32, as trained): the
  graph's ``metadata['parameter_count']`` (the torch model's parameter count, written at export)
  when present, else the float graph's parameter arrays. NeuroBench adds the torch model's
  buffers, which the graph does not record: the neuron layers' constants (beta, threshold,
  ...), 4 to 72 bytes for the digits examples (the cross-check test states the difference).

Convolutions are not counted here (the digits examples are dense); a graph with one raises.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.counts import is_neuron as _is_neuron
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.trace import Trace

#: NeuroBench's metric names, in the order of the demo table
NAMES = ("Footprint", "ConnectionSparsity", "ActivationSparsity", "Effective_ACs", "Effective_MACs", "Dense")


def connection_weights(graph: Graph) -> dict[str, np.ndarray]:
    """{connection node: weight [n_out, n_in]} (complex weights as complex arrays)."""
    out = {}
    for name, node in graph.nodes.items():
        if isinstance(node, INN.IntComplexDense):
            out[name] = np.asarray(node.weight_real) + 1j * np.asarray(node.weight_imag)
        elif isinstance(node, (N.Affine, N.Linear, IN.IntDense)):
            out[name] = np.asarray(node.weight)
        elif isinstance(node, (N.Conv2d, IN.IntConv2d)):
            raise UnsupportedError("NeuroBench synaptic operations of convolutions are not counted by snnc yet",
                                   node=name)
    return out


def _data_inputs(graph: Graph, name: str, trace: Trace) -> np.ndarray | None:
    """The summed non-constant input of connection ``name``: [B, T, n_in], or None if every input
    is a constant source (a bias column)."""
    arrays = [trace.outputs[e.src] for e in graph.in_edges(name)
              if not isinstance(graph.nodes[e.src], INN.ConstantSource)]
    if not arrays:
        return None
    x = arrays[0]
    for a in arrays[1:]:
        x = x + a
    return x.reshape(x.shape[0], x.shape[1], -1)


def synaptic_operations(graph: Graph, trace: Trace) -> dict:
    """NeuroBench's SynapticOperations per sample: {'Effective_MACs', 'Effective_ACs', 'Dense',
    'per_layer': {node: (ops per sample, 'AC' | 'MAC')}}. ``trace``: every node's output
    (``record='all'``), [B, T, ...]."""
    acs = macs = dense = 0.0
    per_layer = {}
    B = None
    for name, w in connection_weights(graph).items():
        x = _data_inputs(graph, name, trace)
        if x is None:
            continue
        B = x.shape[0]
        fan_out = np.count_nonzero(w, axis=0).astype(np.float64)        # non-zero weights per input
        ops = float(((x != 0).reshape(-1, x.shape[-1]).astype(np.float64) @ fan_out).sum()) / B
        spiking = bool(np.isin(x, (-1, 0, 1)).all())
        if spiking:
            acs += ops
        else:
            macs += ops
        dense += x.shape[1] * w.size
        per_layer[name] = (ops, "AC" if spiking else "MAC")
    return {"Effective_MACs": macs, "Effective_ACs": acs, "Dense": dense, "per_layer": per_layer}


def activation_sparsity(graph: Graph, trace: Trace) -> float:
    """NeuroBench's ActivationSparsity over the neuron layers' outputs."""
    zeros = total = 0
    for name, node in graph.nodes.items():
        if _is_neuron(node) and name in trace.outputs:
            a = trace.outputs[name]
            zeros += int(a.size - np.count_nonzero(a))
            total += int(a.size)
    return zeros / total if total else 0.0


def connection_sparsity(graph: Graph) -> float:
    """NeuroBench's ConnectionSparsity (zero weights / weights; not rounded)."""
    ws = list(connection_weights(graph).values())
    total = sum(w.size for w in ws)
    return sum(int(w.size - np.count_nonzero(w)) for w in ws) / total if total else 0.0


def footprint(graph: Graph) -> int:
    """NeuroBench's Footprint of the float (float32) model in bytes."""
    count = graph.metadata.get("parameter_count")
    if count is None:
        count = sum(int(np.asarray(v).size) * (2 if np.iscomplexobj(v) else 1)
                    for node in graph.nodes.values() for v in node.params().values() if isinstance(v, np.ndarray))
    return 4 * int(count)


def workload_metrics(graph: Graph, trace: Trace) -> dict:
    """All of them: {name in :data:`NAMES`: value, 'per_layer': ...}."""
    ops = synaptic_operations(graph, trace)
    return {"Footprint": footprint(graph), "ConnectionSparsity": connection_sparsity(graph),
            "ActivationSparsity": activation_sparsity(graph, trace), **ops}
