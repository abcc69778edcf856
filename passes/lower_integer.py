"""Passes: calibrate analog inputs, quantize a discrete float graph and lower it to integer
nodes for a target profile (the handlers per float node type live in :mod:`snnc.passes.lowering`),
and insert the target's synapse latency.

Scales. Every value on an edge is an integer ``q = round(real * scale)``. Binary spikes and
inputs have scale 1 (inputs must be integer-valued, e.g. spikes). A neuron N gets a *state
scale* S_N (integer units per real membrane unit), chosen from the synapses that feed it
(:mod:`snnc.passes.lowering.synapses`); the target's number formats (weight grid, widths,
threshold and bias formats) are fields of its :class:`~snnc.passes.targets.TargetProfile`.

LM-HT's T x T time mixing (IntTimeMix) is lowered whole-window: ``hw['whole_window']`` holds the
window length in steps, and the report says so per node. It is non-causal (step t of a window
needs the window's later inputs), so a streaming target (synapse latency > 0) runs it one window
late: ``insert_latency`` turns every IntTimeMix into the causal form (``latency`` = W,
``phase`` = the steps the synapses before it delay its input) and sets every IntLMHT's ``phase``
to its own input delay, which keeps the LM-HT windows aligned with the input and the neurons
idle (no spurious spikes) until their first real input arrives; see :func:`insert_latency`.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph

from .lowering import LoweringContext
from .pipeline import CompileContext, register_pass


@register_pass("calibrate_inputs", lossless=True)
def calibrate_inputs(graph: Graph, ctx: CompileContext) -> Graph:
    """Mark Input nodes fed with non-integer calibration data as analog, with their range
    (percentile of |x| from the config) in ``metadata['max_abs']``; integer data (spikes) keeps
    scale 1. Without calibration data, Inputs marked ``analog`` by the frontend keep their range."""
    out = graph.copy()
    data = ctx.calibration or {}
    for name in out.input_names():
        if name not in data:
            continue
        x = np.asarray(data[name], np.float64)
        if np.array_equal(x, np.round(x)) and not out.nodes[name].metadata.get("analog"):
            continue
        pct = ctx.config.calibration_percentile
        out.nodes[name].metadata.update(analog=True, max_abs=float(max(np.percentile(np.abs(x), pct), 1e-12)))
        ctx.note(name, analog=True, max_abs=out.nodes[name].metadata["max_abs"])
    return out


@register_pass("lower_integer", lossless=False)
def lower_integer(graph: Graph, ctx: CompileContext) -> Graph:
    """Quantize weights, thresholds, decays and biases; lower to integer nodes."""
    return LoweringContext(graph, ctx).run()


@register_pass("insert_latency", lossless=False)
def insert_latency(graph: Graph, ctx: CompileContext) -> Graph:
    """Add the target's synapse latency (Lava: 1 step per connection process), and stream
    LM-HT's time mixing on targets that need it (synapse latency, or ``window_mixing`` =
    'streaming': the rtl target, latency 0, where only the IntTimeMix nodes shift).

    Delays are first moved onto synapse outputs (synapses are linear and stateless, so an
    input delay equals an output delay). A synapse output edge on a cycle keeps its delay d >= 1
    (Lava's Dense provides one of those steps, so loop dynamics are unchanged); any other
    synapse output edge gets d + latency. Each node's added shift relative to the float graph
    is stored in ``hw['latency']``, which the runtime uses to align traces.

    LM-HT (the time-window nodes). With p the shift of a node's input:

    * every IntTimeMix becomes streaming: ``latency`` = W (its window), ``phase`` = p; its
      output is shifted by p + W;
    * every IntLMHT gets ``phase`` = p (idle before, window restarts at p + kW).

    Exactness (proof sketch). Let R be this graph without the added latency (edge delays as
    before this pass, IntTimeMix whole-window, IntLMHT phase 0). Claim, by induction in
    evaluation order: a node n of shift l_n outputs at step t >= l_n what R's n outputs at
    step t - l_n, and an IntTimeMix / IntLMHT outputs 0 at t < l_n (a stateless node fed only
    by such nodes, Inputs (shift 0) and zeros, too). Synapses and sums: linear and stateless,
    each edge shifted by the same l (checked below; constant sources are the same at every
    step, so their paths may arrive early). IntTimeMix: its input at p + s is R's at s, for
    s >= 0; it collects windows from p, so window k of its input is R's window k, and the
    mixed window k appears at p + (k + 1) W + i: R's output at kW + i, shifted by p + W.
    IntLMHT: idle (v = v_init, out 0) for t < p, then the same recursion as R's from
    v = v_init on the same inputs, with restarts at p + kW, R's at kW. The pre-roll inputs
    (e.g. bias currents that arrive before the data) are ignored by the idle / collecting
    nodes, and an idle neuron cannot grow to its threshold on them. So Output nodes equal R's
    shifted by their ``hw['latency']``: run T + max latency steps (inputs zero-padded) and
    read steps l .. l + T - 1."""
    lat = ctx.config.profile.synapse_latency
    out = graph.copy()
    streaming = ctx.config.profile.window_mixing == "streaming"
    if lat == 0 and not (streaming and any(isinstance(n, INN.IntTimeMix) for n in out.nodes.values())):
        return out
    syn_types = (IN.IntDense, IN.IntConv2d, INN.IntComplexDense, N.SumPool2d)
    for name, node in (out.nodes.items() if lat else ()):
        if not isinstance(node, syn_types):
            continue
        ins = [i for i, e in enumerate(out.edges) if e.dst == name]
        d = max((out.edges[i].delay for i in ins), default=0)
        if d == 0:
            continue
        if len(ins) != 1:
            raise UnsupportedError("a delayed input into a synapse with several inputs", node=name)
        i = ins[0]
        out.edges[i] = Edge(out.edges[i].src, name, 0)
        out.edges = [Edge(e.src, e.dst, e.delay + d) if e.src == name else e for e in out.edges]
    rec = set(out.recurrent_edges())
    final = []
    for e in out.edges:
        if lat and isinstance(out.nodes[e.src], syn_types):
            if e in rec:
                if e.delay < 1:
                    raise UnsupportedError("recurrent loop without delay", node=e.src)
                final.append(e)
            else:
                final.append(Edge(e.src, e.dst, e.delay + lat))
        else:
            final.append(e)
    out.edges = final
    # latency of every node relative to the float graph: longest added shift on its input paths;
    # a node fed only by constant sources (a bias column) is the same at every step
    latency = {n: 0 for n in out.nodes}
    constant = {}
    windowed = (INN.IntTimeMix, INN.IntLMHT)
    import networkx as nx

    dag = nx.DiGraph()
    dag.add_nodes_from(out.nodes)
    dag.add_edges_from((e.src, e.dst) for e in out.edges if e not in rec)
    for name in nx.lexicographical_topological_sort(dag, key=list(out.nodes).index):
        node = out.nodes[name]
        ins = [e for e in out.in_edges(name) if e not in rec]
        arrivals = {}
        for e in ins:
            added = lat if isinstance(out.nodes[e.src], syn_types) else 0
            arrivals[e] = latency[e.src] + added
            latency[name] = max(latency[name], arrivals[e])
        constant[name] = isinstance(node, INN.ConstantSource) or (
            isinstance(node, syn_types) and bool(ins) and all(constant[e.src] for e in ins)
            and len(ins) == len(out.in_edges(name)))
        if isinstance(node, windowed):
            shifts = {arrivals[e] for e in ins if not constant[e.src]}
            if len(shifts) > 1:
                raise UnsupportedError(f"the inputs of this LM-HT node arrive with different latencies "
                                       f"{sorted(shifts)} on {ctx.config.profile.name}, so its windows cannot be "
                                       "aligned with all of them", node=name,
                                       hint="compile for fpga or sim (no synapse latency)")
            p = latency[name]
            if isinstance(node, INN.IntTimeMix):
                w = node.window
                node.latency, node.phase = w, p
                node.hw = {k: v for k, v in node.hw.items() if k != "whole_window"}
                node.hw["streaming_window"] = w
                latency[name] = p + w
                ctx.note(name, execution="streaming", window=w, window_latency=w, phase=p)
            else:
                node.phase = p
                ctx.note(name, phase=p)
    for n, node in out.nodes.items():
        node.hw = {**node.hw, "latency": int(latency[n])}
    return out
