"""The largest |value| an integer node can output, given a bound of its input: one rule per
node type, used by range analysis (``passes.check_ranges``), the LIF-population decoupling
(``passes.decouple_burst``), the LM-HT reparameterisation (``passes.reparam_lmht``), the RF
readout lowering (``passes.lowering.rf``) and the Lava planner (``backends.lava.mapping``).

A rule is ``rule(node, x) -> bound`` where ``x`` bounds |the node's summed input| (the sum of
the bounds of all its incoming edges: inputs on several edges add up). Every rule is sound for
the semantics of :mod:`snnc.ir.intnodes` / :mod:`snnc.ir.intneurons` as the simulator runs
them: no run can output a larger |value|. Bounds are floats in integer units, ``math.inf``
when unknown; they are integers except after a negative ``weight_exp`` (a floor shift), where
``B * 2**exp + 1`` covers the floor of a negative sum.

=====================  ===================================================================
node                   bound of |output|
=====================  ===================================================================
Input                  the caller's assumption (``input_bounds``), else ``metadata['max_abs']``,
                       else 1 (spikes)
ConstantSource         max |value|
Output, Flatten        x
SumPool2d              k_h * k_w * x
IntDense               s = min(x, 1) for binary input, else x;  B = max row sum |W| * s,
                       capped at 2**(acc_bits-1) when acc_bits < 64 (a wrap stays within it);
                       then B * 2**weight_exp (+1 if weight_exp < 0); capped at 2**(out_bits-1)
IntConv2d              as IntDense (rows: output channels) plus max |bias| before the shift;
                       no accumulator wrap
IntComplexDense        max(row sums of |W_re|, |W_im|) * s * 2**weight_exp (either part)
IntTimeMix             max row sum |C| * x / 2**frac_bits (rounding toward zero)
IntCubaLIF             1 with a threshold (spikes); else its membrane: the proven
                       ``metadata['state_bound']`` if any, capped by the v width
                       (2**(v_bits-1) - 1 saturating symmetrically, else 2**(v_bits-1))
IntLIFB                max |amplitudes|
IntLMHT                levels
IntBinaryLMHT, IntCLIF, IntRF, IntLNM        1 (binary spikes)
any other node         inf
=====================  ===================================================================

:func:`output_bounds` applies the rules to a whole graph in a topological order of the edges
that lie on no cycle; an input from a node that is not bounded yet at that point (on a cycle,
later in that order) or not in the graph counts as unbounded, which only matters for nodes
whose rule reads x (every bound is sound given sound bounds of the inputs, so all are).

:func:`sum_bound` is the synapses' bound before any wrap or shift (the exact sum of products),
the first step of their rules; the fpga backend sizes its accumulators with it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import networkx as nx
import numpy as np

from . import intneurons as INN
from . import intnodes as IN
from . import nodes as N
from .graph import Graph
from .registry import Registry

BoundRule = Callable[[N.Node, float], float]
#: node type -> ``rule(node, x) -> bound``
_RULES: Registry = Registry("value bounds")
bound_rule = _RULES.register


def node_bound(node: N.Node, x: float) -> float:
    """Bound of |output| of ``node`` when |its summed input| <= ``x`` (inf: no rule)."""
    rule = _RULES.find(type(node))
    return math.inf if rule is None else rule(node, x)


def _row_sum_max(w) -> float:
    """max over output rows of sum |w| (rows = axis 0), as float; 0 for an empty array."""
    a = np.abs(np.asarray(w, np.int64))
    return float(a.reshape(a.shape[0], -1).sum(axis=1).max()) if a.size else 0.0


def _times(rows: float, x: float) -> float:
    """rows * x, and 0 when either is 0 (no weights: no output, even for an unbounded input)."""
    return 0.0 if rows == 0 or x == 0 else rows * x


def _shifted(b: float, weight_exp: int) -> float:
    exp = int(weight_exp)
    return b * 2.0 ** exp + (1 if exp < 0 else 0)


def _spikes_or(node, x: float) -> float:
    """The synapse's view of its input: binary synapses see 1[x != 0]."""
    return min(x, 1.0) if node.input_kind == "binary" else x


@bound_rule(N.Input)
def _input(node: N.Input, x: float) -> float:
    return float(node.metadata.get("max_abs", 1.0))


@bound_rule(INN.ConstantSource)
def _constant(node: INN.ConstantSource, x: float) -> float:
    return float(np.abs(np.asarray(node.value, np.int64)).max(initial=0))


@bound_rule(N.Output, N.Flatten)
def _identity(node: N.Node, x: float) -> float:
    return x


@bound_rule(N.SumPool2d)
def _sum_pool(node: N.SumPool2d, x: float) -> float:
    k = np.atleast_1d(node.kernel_size)
    area = int(np.prod(k)) if k.size > 1 else int(k[0]) ** 2
    return _times(area, x)


def sum_bound(node: N.Node, x: float) -> float:
    """Bound of |the exact sum of products| of a synapse node (IntDense, IntConv2d plus its bias,
    IntComplexDense either part, IntTimeMix) when |its summed input| <= ``x``: before any wrap,
    shift or rounding; ``max row sum |W| * s`` (+ max |bias|), s = min(x, 1) for a binary input.
    The node rules below start from it; the fpga backend sizes its accumulators with it."""
    if isinstance(node, INN.IntComplexDense):
        rows = max(_row_sum_max(node.weight_real), _row_sum_max(node.weight_imag))
        return _times(rows, _spikes_or(node, x))
    if isinstance(node, INN.IntTimeMix):
        return _times(_row_sum_max(node.coefficients), x)
    b = _times(_row_sum_max(node.weight), _spikes_or(node, x))
    if isinstance(node, IN.IntConv2d) and node.bias is not None:
        b = b + float(np.abs(np.asarray(node.bias, np.int64)).max(initial=0))
    return b


@bound_rule(IN.IntDense)
def _dense(node: IN.IntDense, x: float) -> float:
    b = sum_bound(node, x)
    if node.acc_bits < 64:
        b = min(b, 2.0 ** (node.acc_bits - 1))
    if node.weight_exp:
        b = _shifted(b, node.weight_exp)
    if node.out_bits < 64:
        b = min(b, 2.0 ** (node.out_bits - 1))
    return b


@bound_rule(IN.IntConv2d)
def _conv(node: IN.IntConv2d, x: float) -> float:
    b = sum_bound(node, x)
    if node.weight_exp:
        b = _shifted(b, node.weight_exp)
    if node.out_bits < 64:
        b = min(b, 2.0 ** (node.out_bits - 1))
    return b


@bound_rule(INN.IntComplexDense)
def _complex_dense(node: INN.IntComplexDense, x: float) -> float:
    b = sum_bound(node, x)
    return _shifted(b, node.weight_exp) if node.weight_exp else b


@bound_rule(INN.IntTimeMix)
def _time_mix(node: INN.IntTimeMix, x: float) -> float:
    return sum_bound(node, x) / 2.0 ** node.frac_bits


@bound_rule(IN.IntCubaLIF)
def _cuba_lif(node: IN.IntCubaLIF, x: float) -> float:
    if node.threshold is not None:
        return 1.0
    width = 2.0 ** (node.v_bits - 1) - (1 if node.v_overflow == "saturate_sym" else 0)
    return min(float(node.metadata.get("state_bound", math.inf)), width)


@bound_rule(INN.IntLIFB)
def _lifb(node: INN.IntLIFB, x: float) -> float:
    return float(np.abs(np.asarray(node.amplitudes, np.int64)).max(initial=0))


@bound_rule(INN.IntLMHT)
def _lmht(node: INN.IntLMHT, x: float) -> float:
    return float(node.levels)


@bound_rule(INN.IntBinaryLMHT, INN.IntCLIF, INN.IntRF, INN.IntLNM)
def _binary(node: N.Node, x: float) -> float:
    return 1.0


def output_bounds(graph: Graph, input_bounds: dict[str, float] | None = None, *,
                  assumptions: bool = True) -> dict[str, float]:
    """{node name: bound of |its output|} for every node of ``graph``. ``input_bounds``:
    {Input name: bound of |its values|}, overriding the Input rule (``metadata['max_abs']``,
    else 1). Edges from names that are not nodes of ``graph`` count as unbounded (a partly
    built graph). ``assumptions=False``: bounds that hold for every input, whatever the
    metadata says: Inputs not in ``input_bounds`` are unbounded and a membrane's
    ``metadata['state_bound']`` (proven under an input assumption) is ignored."""
    input_bounds = input_bounds or {}
    if not assumptions:
        input_bounds = {**{n: math.inf for n in graph.input_names()}, **input_bounds}
    rec = set(graph.recurrent_edges())
    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    dag.add_edges_from((e.src, e.dst) for e in graph.edges if e not in rec and e.src in graph.nodes
                       and e.dst in graph.nodes)
    order = {n: i for i, n in enumerate(graph.nodes)}
    bounds: dict[str, float] = {}
    for name in nx.lexicographical_topological_sort(dag, key=order.__getitem__):
        node = graph.nodes[name]
        if isinstance(node, N.Input) and name in input_bounds:
            bounds[name] = float(input_bounds[name])
            continue
        x = sum((bounds.get(e.src, math.inf) for e in graph.in_edges(name)), 0.0)
        if not assumptions and "state_bound" in node.metadata:
            node = dataclasses.replace(node, metadata={k: v for k, v in node.metadata.items() if k != "state_bound"})
        bounds[name] = node_bound(node, x)
    return bounds


__all__ = ["BoundRule", "bound_rule", "node_bound", "output_bounds", "sum_bound"]
