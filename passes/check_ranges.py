"""Pass: static range analysis of the lowered integer graph.

For each integer LIF population it bounds |u| and |v| from the bounds of its inputs (the
synapses' outputs, :mod:`snnc.ir.value_bounds`: max_row sum |W_int| * payload bound of the
synapse's input * 2**weight_exp), assuming the worst case at every step:

    |a|max = sum of the input bounds * 2**input_shift        (input per step, state units)
    |u|max = |a|max / (1 - current_mult / 2**D)      (infinite if current_mult = 2**D)
    |v|max = (|u|max + |bias|max) / (1 - voltage_mult / 2**D)   (infinite if voltage_mult = 2**D)

and compares them with the state width. A synapse's ``weight_exp`` scales its row sum (a floor
shift, exp < 0, adds 1 LSB). A lowering pass that proves a tighter bound for a structure this
analysis cannot follow stores it as ``metadata['state_bound']`` on the node (the complex rotation
loop of an S5-RF state with a readout, ``passes.lowering.rf``); it is then used
for that node's |u|, |v| and as its payload bound downstream. Findings go to the report per node
(``overflow: 'none'`` = proven safe, ``'possible'`` = the bound exceeds the width, i.e. the
state may saturate/wrap as the target's semantics define); ``strict`` makes 'possible' an error.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir.errors import OverflowRisk
from snnc.ir.graph import Graph
from snnc.ir.value_bounds import output_bounds

from .pipeline import CompileContext, register_pass


def lif_bounds(graph: Graph, name: str, bounds: dict[str, float] | None = None) -> tuple[float, float]:
    """Static bounds of |u| and |v| of IntCubaLIF ``name``; ``bounds``: the graph's
    :func:`~snnc.ir.value_bounds.output_bounds` (computed when not given)."""
    node = graph.nodes[name]
    bounds = output_bounds(graph) if bounds is None else bounds
    a = 0.0
    for e in graph.in_edges(name):
        a += bounds[e.src]
    a *= 2 ** node.input_shift
    full = 2 ** node.decay_bits
    cur = float(np.max(node.current_mult))
    vol = float(np.max(node.voltage_mult))
    u = a / (1 - cur / full) if cur < full else (0.0 if a == 0 else math.inf)
    bias = float(np.abs(np.asarray(0 if node.bias is None else node.bias)).max())
    v = (u + bias) / (1 - vol / full) if vol < full else (0.0 if u + bias == 0 else math.inf)
    if "state_bound" in node.metadata:
        proven = float(node.metadata["state_bound"])
        u, v = min(u, proven), min(v, proven)
    return u, v


@register_pass("check_ranges", lossless=True)
def check_ranges(graph: Graph, ctx: CompileContext) -> Graph:
    """Static overflow analysis of integer LIF states (report; error with strict)."""
    risky = []
    bounds = output_bounds(graph)
    for name, node in graph.nodes.items():
        if not isinstance(node, IN.IntCubaLIF):
            continue
        u, v = lif_bounds(graph, name, bounds)
        limit_u = 2 ** (node.u_bits - 1) - 1
        limit_v = 2 ** (node.v_bits - 1) - 1
        finding = "none" if (u <= limit_u and v <= limit_v) else "possible"
        ctx.note(name, overflow=finding, u_bound=None if math.isinf(u) else int(u),
                 v_bound=None if math.isinf(v) else int(v), u_limit=limit_u, v_limit=limit_v)
        if finding != "none":
            risky.append(name)
    if risky and ctx.config.strict:
        profile = ctx.config.profile
        if "state_bits" in profile.adjustable:
            hint = "see report.json; widen the state (state.bits) or drop --strict"
        else:
            hint = (f"see report.json; the {profile.state_bits}-bit state of {profile.name} is fixed: drop --strict "
                    "to accept saturation, or compile for a target with a wider state (state.bits)")
        raise OverflowRisk(f"state may exceed its width in {len(risky)} node(s): {', '.join(map(repr, risky))}",
                           node=risky[0], hint=hint)
    return graph
