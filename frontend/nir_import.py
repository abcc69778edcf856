"""Import NIR graphs written by other frameworks (snnTorch, Norse, Sinabs, Rockpool, Spyx) or
by snnc, applying snnc's conventions.

Conventions applied to files that do not carry snnc's own metadata:

* **Time** (``time_convention='nirtorch'``): NIR edges have no latency. As nirtorch, snnTorch
  and Norse do, feed-forward edges get delay 0 and the edge that closes each cycle (the one
  going back towards the inputs) gets delay 1: a recurrent input at step t is the spike of
  step t-1.
* **dt**: from the option ``dt``, else the file's ``metadata['dt']``, else 1e-4 s (the NIR
  paper's convention, snnTorch's export dt). Recorded as ``metadata['dt_source']``.
* **Reset**: NIR resets to ``v_reset``; ``reset='subtract'`` reinterprets thresholds as reset
  by subtraction (Sinabs IAF's default, ``MembraneSubtract``).
* **IF / I integrator**: ``integrator='per_step'`` (v += r x, as Norse and Sinabs read NIR IF)
  or ``'euler'`` (v += dt r x).
* **Presets**: ``preset='sinabs'`` reads IF as Sinabs's importer builds it (several spikes per
  step, reset by subtraction, membrane bounded below by -threshold).
* **Rockpool quirk**: an Output whose declared shape differs from the inferred one only by
  size-1 axes (``[1, 1, 1]`` for ``[1]``) is accepted with the inferred shape; the declared
  one is kept in the node's metadata. ``nir.read`` rejects such files.
"""

from __future__ import annotations

import os

import networkx as nx
import numpy as np

from snnc.ir import nodes as N
from snnc.ir.checks import check_parameters
from snnc.ir.errors import ParameterError, SnncError
from snnc.ir.graph import Edge, Graph
from snnc.ir.nir_io import read_nir
from snnc.ir.shapes import annotate_shapes
from snnc.passes.flatten_subgraphs import flatten_subgraphs

DEFAULT_DT = 1e-4
RESET_MODES = ("zero", "subtract")

#: import presets: what a framework's own NIR importer does with the neurons it exported
PRESETS = {
    # sinabs.nir.from_nir: IF -> IAFSqueeze(spike_threshold=thr, min_v_mem=-thr) with the IAF defaults
    # MultiSpike (several spikes per step) and MembraneSubtract (sinabs/nir.py, layers/iaf.py)
    "sinabs": {"reset_mode": "subtract", "if_spikes": "multi", "if_v_min": "neg_threshold", "max_spikes": 64,
               "integrator": "per_step"},
}


def assign_cycle_delays(graph: Graph) -> Graph:
    """Give delay 1 to one edge per zero-delay cycle: the edge whose source lies farthest
    (in hops from the inputs) beyond its destination, i.e. the edge going back."""
    out = graph.copy()
    g = out.to_networkx()
    dist: dict[str, int] = {}
    for src in out.input_names():
        for n, d in nx.single_source_shortest_path_length(g, src).items():
            dist[n] = min(dist.get(n, d), d)
    while True:
        zero = out.to_networkx(zero_delay_only=True)
        try:
            cycle = nx.find_cycle(zero)
        except nx.NetworkXNoCycle:
            return out
        u, v, _k = max(cycle, key=lambda e: (dist.get(e[0], 0) - dist.get(e[1], 0)))
        i = next(i for i, e in enumerate(out.edges) if e.src == u and e.dst == v and e.delay == 0)
        out.edges[i] = Edge(u, v, 1)


def load_nir(path: str | os.PathLike, *, dt: float | None = None, reset: str | None = None,
             integrator: str | None = None, v_min: dict | None = None, preset: str | None = None) -> Graph:
    """Read a ``.nir`` file and return a flat, shape-checked, parameter-checked Graph.

    ``dt`` (s), ``reset`` ('zero' | 'subtract'), ``integrator`` ('per_step' | 'euler') and
    ``v_min`` ({node: lower bound of v}) are stored in ``graph.metadata`` and used by the
    discretize pass. ``preset`` ('sinabs') applies a framework's reading of its own export
    (see :data:`PRESETS`); explicit options override it."""
    path = os.fspath(path)
    try:
        graph = read_nir(path)
        graph = _finish_import(graph, dt=dt, reset=reset, integrator=integrator, v_min=v_min, preset=preset)
        graph.metadata.setdefault("source_file", os.path.basename(path))
        return graph
    except SnncError as exc:
        raise exc.with_file(path) from None


def from_nir(nir_graph, *, dt: float | None = None, reset: str | None = None, integrator: str | None = None,
             v_min: dict | None = None, preset: str | None = None) -> Graph:
    """Import an in-memory ``nir.NIRGraph`` (e.g. straight from ``norse.torch.to_nir`` or
    ``snntorch.export_to_nir``), without writing a file; parameters may be numpy arrays or torch
    tensors. Same conventions and options as :func:`load_nir`."""
    graph = _graph_from_nir_object(nir_graph, "")
    return _finish_import(graph, dt=dt, reset=reset, integrator=integrator, v_min=v_min, preset=preset)


def _to_numpy(value):
    if hasattr(value, "detach"):            # torch tensor
        value = value.detach().cpu().numpy()
    return value


def _graph_from_nir_object(obj, prefix: str) -> Graph:
    from dataclasses import MISSING, fields

    from snnc.ir.errors import FileFormatError
    from snnc.ir.nodes import NODE_TYPES, Subgraph

    graph = Graph(metadata={k: _to_numpy(v) for k, v in dict(getattr(obj, "metadata", {}) or {}).items()})
    for name, node in obj.nodes.items():
        full = prefix + name
        tname = type(node).__name__
        if tname == "NIRGraph":
            graph.nodes[name] = Subgraph(graph=_graph_from_nir_object(node, full + "."))
            continue
        cls = NODE_TYPES.get(tname)
        if cls is None:
            raise FileFormatError(f"unknown node type '{tname}'", node=full, field="type")
        kwargs = {}
        for f in fields(cls):
            if f.name in ("metadata", "quant", "hw"):
                continue
            if tname == "Input" and f.name == "shape":
                value = node.input_type["input"]
            elif tname == "Output" and f.name == "shape":
                value = node.output_type["output"]
            elif tname == "Flatten" and f.name == "input_shape":
                value = node.input_type.get("input")
            else:
                value = getattr(node, f.name, None)
            value = _to_numpy(value)
            if value is None:
                if f.default is MISSING and f.default_factory is MISSING:
                    raise FileFormatError(f"{tname} node has no '{f.name}'", node=full, field=f.name)
                continue
            if f.name in ("shape", "input_shape"):
                value = tuple(int(v) for v in np.atleast_1d(np.asarray(value)).reshape(-1))
            elif isinstance(value, (list, tuple)) or isinstance(value, np.ndarray):
                value = np.asarray(value)
                if tname in ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d") and f.name != "weight" \
                        and f.name != "bias":
                    value = tuple(int(v) for v in value.reshape(-1)) if value.ndim else int(value)
            kwargs[f.name] = value
        try:
            graph.nodes[name] = cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise FileFormatError(f"invalid {tname} node ({exc})", node=full) from None
        graph.nodes[name].metadata = {k: _to_numpy(v) for k, v in dict(getattr(node, "metadata", {}) or {}).items()}
    graph.edges = [Edge(str(a), str(b), 0) for a, b in obj.edges]
    return graph


def _finish_import(graph: Graph, *, dt, reset, integrator, v_min, preset) -> Graph:
    """Conventions and checks shared by file and in-memory imports (see the module docstring)."""
    native = "snnc_version" in graph.metadata
    graph = flatten_subgraphs(graph)
    for name in graph.input_names():
        if not graph.nodes[name].shape:
            raise ParameterError("Input node without a shape", node=name, field="shape")
    _check_edges(graph)
    if not native:
        graph = assign_cycle_delays(graph)
        graph.metadata.setdefault("time_convention", "nirtorch")
    if dt is not None:
        graph.metadata["dt"], graph.metadata["dt_source"] = float(dt), "option"
    elif "dt" in graph.metadata:
        graph.metadata["dt"] = float(graph.metadata["dt"])
        graph.metadata.setdefault("dt_source", "file")
    else:
        graph.metadata["dt"], graph.metadata["dt_source"] = DEFAULT_DT, "default"
    if preset is not None:
        if preset not in PRESETS:
            raise ParameterError(f"unknown preset '{preset}'", field="preset",
                                 hint=f"choose from {sorted(PRESETS)}")
        graph.metadata.update(PRESETS[preset])
        graph.metadata["preset"] = preset
    if reset is not None:
        if reset not in RESET_MODES:
            raise ParameterError(f"reset '{reset}' not in {RESET_MODES}", field="reset")
        graph.metadata["reset_mode"] = reset
    if integrator is not None:
        graph.metadata["integrator"] = integrator
    if v_min:
        graph.metadata["v_min"] = dict(v_min)
    graph.validate()
    check_parameters(graph)
    return annotate_shapes(graph)


def _check_edges(graph: Graph) -> None:
    from snnc.ir.errors import GraphError

    for e in graph.edges:
        for end in (e.src, e.dst):
            if end not in graph.nodes:
                raise GraphError(f"edge {e.src} -> {e.dst} refers to missing node '{end}'", node=end,
                                 field="edges", hint="the file's edge list and node list disagree")
    for name, node in graph.nodes.items():
        if isinstance(node, (N.Input,)) and not graph.out_edges(name):
            raise GraphError("Input node is not connected", node=name)
