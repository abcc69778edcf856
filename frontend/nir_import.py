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
* **Presets**: ``preset='snntorch' | 'norse' | 'sinabs' | 'rockpool' | 'spyx'`` reads the graph
  as that framework's forward pass runs it (:mod:`snnc.frontend.presets`; without a preset snnc
  follows NIR).
* **Batch axis**: a leading size-1 axis that an exporter kept in the Input (snnTorch, Norse) is
  dropped (:mod:`snnc.frontend.batch_axis`), recorded in ``metadata['import_notes']`` and
  issued as an :class:`ImportNote` warning.
* **Shapes**: Conv/Flatten ``input_shape`` missing in the file is inferred from the Input.
* **Rockpool quirk**: an Output whose declared shape differs from the inferred one only by
  size-1 axes (``[1, 1, 1]`` for ``[1]``) is accepted with the inferred shape; the declared
  one is kept in the node's metadata. ``nir.read`` rejects such files.
"""

from __future__ import annotations

import os
import warnings

import networkx as nx
import numpy as np

from snnc.ir import nodes as N
from snnc.ir.checks import check_parameters
from snnc.ir.errors import ParameterError, SnncError
from snnc.ir.graph import Edge, Graph
from snnc.ir.nir_io import read_nir
from snnc.ir.shapes import annotate_shapes
from snnc.passes.flatten_subgraphs import flatten_subgraphs

from .batch_axis import drop_batch_axis
from .presets import get_preset

DEFAULT_DT = 1e-4
RESET_MODES = ("zero", "subtract")


class ImportNote(UserWarning):
    """A change the importer made to a foreign graph (also in ``graph.metadata['import_notes']``)."""


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
    discretize pass. ``preset`` (one of :data:`PRESETS`) applies a framework's reading of its own export
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
        if node is None:
            raise FileFormatError("the exporter returned no NIR node for this layer (it cannot export it)",
                                  node=full, field="type",
                                  hint="Norse's to_nir skips pooling, Flatten and recurrent cells: export with "
                                       "snnc.frontend.frameworks.from_framework(model, sample, 'norse')")
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
                if f.name == "input_shape":          # Conv/Flatten: inferred from the Input (annotate_shapes)
                    kwargs[f.name] = None
                    continue
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
        graph = drop_batch_axis(assign_cycle_delays(graph))
        graph.metadata.setdefault("time_convention", "nirtorch")
    chosen = get_preset(preset) if preset is not None else None
    defaults = dict(chosen.defaults) if chosen else {}
    if dt is not None:
        graph.metadata["dt"], graph.metadata["dt_source"] = float(dt), "option"
    elif "dt" in defaults:
        graph.metadata["dt"], graph.metadata["dt_source"] = float(defaults["dt"]), "preset"
    elif "dt" in graph.metadata:
        graph.metadata["dt"] = float(graph.metadata["dt"])
        graph.metadata.setdefault("dt_source", "file")
    else:
        graph.metadata["dt"], graph.metadata["dt_source"] = DEFAULT_DT, "default"
    if not graph.metadata["dt"] > 0:
        raise ParameterError(f"dt must be > 0 seconds, got {graph.metadata['dt']}", field="dt")
    if chosen:
        graph.metadata.update({k: v for k, v in defaults.items() if k != "dt"})
        graph.metadata["preset"] = chosen.name
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
    graph = annotate_shapes(graph)
    if chosen and chosen.rewrite is not None:
        graph = chosen.rewrite(graph)
        graph.validate()
        check_parameters(graph)
        graph = annotate_shapes(graph)
    for note in graph.metadata.get("import_notes", []) if not native else []:
        warnings.warn(note, ImportNote, stacklevel=3)
    return graph


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
