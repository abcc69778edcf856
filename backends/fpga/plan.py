"""The plan of a generated model: shapes, widths, layer code and history buffers of every node of
a lowered integer graph (:func:`plan_model`), the input of the source writers of :mod:`.firmware`
and :mod:`.harness` (see :mod:`.codegen` for the model's structure and schedule)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.shapes import infer_shapes
from snnc.ir.value_bounds import output_bounds

from . import neurons, sdn, synapses  # noqa: F401  (register their generators)
from .layers import DEFAULT_INPUT_BITS, LayerCode, LayerSpec, layer_code
from .widths import TypeTable, bits_for_bound, bits_for_range

TOP = "snnc_top"


@dataclass
class Probe:
    """A recorded array: a node output or a neuron state, ``size`` int64 values per step."""

    key: str            # Trace key: node name, or '<node>.<state>'
    kind: str           # 'output' | 'state'
    node: str
    size: int
    shape: tuple
    complex: bool = False


@dataclass
class ModelPlan:
    graph: Graph
    components: list[list[str]]
    cnames: dict[str, str]
    specs: dict[str, LayerSpec]
    codes: dict[str, LayerCode]
    history: dict[str, int]
    window: int
    types: TypeTable
    probes: list[Probe] = field(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        return self.graph.input_names()

    @property
    def outputs(self) -> list[str]:
        return self.graph.output_names()

    def size(self, name: str) -> int:
        spec, code = self.specs[name], self.codes[name]
        return (2 if code.out_complex else 1) * spec.n

    def out_type(self, name: str) -> str:
        return f"{self.cnames[name]}_out_t"

    def port_type(self, name: str) -> str:
        """Type of the top function's port of an input / output node (intN_t in both branches)."""
        return f"{self.cnames[name]}_port_t"

    def reuse(self, name: str) -> int:
        return self.specs[name].reuse


def input_bits(node: N.Input) -> int:
    """Width of an Input node's values: from ``metadata['max_abs']`` (written by input
    calibration) or :data:`DEFAULT_INPUT_BITS`."""
    m = node.metadata.get("max_abs")
    if m is None:
        return DEFAULT_INPUT_BITS
    m = int(np.ceil(float(m)))
    return bits_for_range(-m, m)


def value_bounds(graph: Graph) -> dict[str, float]:
    """{node: bound of |its output values|}: the shared rules of :mod:`snnc.ir.value_bounds`, with
    every Input bounded by its port's width (:func:`input_bits`: the port type is the only limit
    the C puts on input values). A node on a recurrent loop is bounded by its own rule (an
    unbounded input at first), its consumers then by that bound."""
    ports = {n: 2.0 ** (input_bits(graph.nodes[n]) - 1) for n in graph.input_names()}
    return output_bounds(graph, ports)


def reuse_of(reuse_factor: int | dict, name: str, graph: Graph) -> int:
    """A node's reuse factor: ``reuse_factor`` (int), or ``reuse_factor[name]`` with the default
    under the key ``'default'`` (else 1)."""
    if isinstance(reuse_factor, dict):
        unknown = sorted(k for k in reuse_factor if k != "default" and k not in graph.nodes)
        if unknown:
            raise UnsupportedError(f"reuse factor given for unknown node(s) {unknown}", field="reuse_factor",
                                   hint="use node names of the lowered graph (snnc inspect OUT)")
        value = reuse_factor.get(name, reuse_factor.get("default", 1))
    else:
        value = reuse_factor
    if int(value) < 1:
        raise UnsupportedError(f"reuse factor must be >= 1, got {value}", node=name, field="reuse_factor")
    return int(value)


def plan_model(graph: Graph, reuse_factor: int | dict = 1) -> ModelPlan:
    """Shapes, widths, layer code and buffers of every node. ``reuse_factor``: one value for
    every layer, or ``{node name: R, 'default': R}`` (hls4ml's per-layer reuse). Raises
    UnsupportedError naming a node the backend cannot generate."""
    if graph.metadata.get("level") != "integer":
        raise UnsupportedError("the fpga backend needs a lowered integer graph",
                               hint="compile first: snnc compile MODEL --target fpga -o OUTDIR")
    graph.validate()
    shapes = infer_shapes(graph)
    comps = graph.components()
    bounds = value_bounds(graph)
    cnames = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
    types = TypeTable()
    specs: dict[str, LayerSpec] = {}
    codes: dict[str, LayerCode] = {}
    for comp in comps:
        cyclic = graph.is_cyclic_component(comp)
        for name in comp:
            node = graph.nodes[name]
            edges = graph.in_edges(name)
            src_bits = [codes[e.src].out_bits if e.src in codes else 64 for e in edges]
            src_complex = {bool(codes[e.src].out_complex) if e.src in codes else False for e in edges}
            if len(src_complex) > 1:
                raise UnsupportedError("inputs mix complex and real values", node=name)
            in_bound = sum((bounds[e.src] for e in edges), 0.0)
            in_bits = min(64, max(src_bits, default=2) + math.ceil(math.log2(max(1, len(edges)))),
                          bits_for_bound(in_bound))
            in_shape = shapes[edges[0].src] if edges else ()
            spec = LayerSpec(name=name, cname=cnames[name], node=node, in_shape=tuple(in_shape),
                             out_shape=tuple(shapes[name]), in_bits=in_bits, in_complex=src_complex == {True},
                             types=types, reuse=reuse_of(reuse_factor, name, graph), in_bound=in_bound)
            specs[name] = spec
            if isinstance(node, N.Input):
                codes[name] = LayerCode(out_bits=input_bits(node), source=True)
                continue
            code = layer_code(spec)
            code.out_bits = min(code.out_bits, bits_for_bound(bounds[name]))
            types.add(spec.in_type, in_bits)
            if code.whole_window and cyclic:
                raise UnsupportedError("a whole-window node (TimeMix) cannot sit on a recurrent loop", node=name)
            if not edges and not code.source:
                raise UnsupportedError("node has no input", node=name)
            codes[name] = code
    for name, code in codes.items():
        types.add(f"{cnames[name]}_out_t", code.out_bits)
    for name in graph.input_names() + graph.output_names():
        types.add_port(f"{cnames[name]}_port_t", codes[name].out_bits)
    history = {name: max((e.delay for e in graph.out_edges(name)), default=0) for name in graph.nodes}
    windows = [c.whole_window for c in codes.values() if c.whole_window]
    window = math.lcm(*windows) if windows else 1
    plan = ModelPlan(graph=graph, components=comps, cnames=cnames, specs=specs, codes=codes, history=history,
                     window=window, types=types)
    for name in graph.nodes:
        plan.probes.append(Probe(key=name, kind="output", node=name, size=plan.size(name),
                                 shape=tuple(shapes[name]), complex=codes[name].out_complex))
    for name in graph.nodes:
        for sname, _, size in codes[name].states:
            n = specs[name].n        # a state of several rows per neuron (TimeMix buffers): [rows, *shape]
            shape = tuple(shapes[name]) if size == n else (size // n, *shapes[name])
            plan.probes.append(Probe(key=f"{name}.{sname}", kind="state", node=name, size=size, shape=shape))
    return plan


__all__ = ["TOP", "ModelPlan", "Probe", "input_bits", "plan_model", "reuse_of", "value_bounds"]
