"""Pass: LM-HT's L x T time-multiplexed binary reparameterisation (the paper's deployment
form, docs/neurons.md#binary-time-multiplexing) on the lowered integer graph,
lossless.

Every step of the graph becomes L sub-steps (L = the LM-HT ``levels``), so the graph runs
L*T steps; each IntLMHT (multi-level, graded k in 0..L) becomes an
:class:`~snnc.ir.intneurons.IntBinaryLMHT` with binary spikes that leaks only on the first
sub-step of each block of L (the paper's lambda_t = lambda if t mod L == 0 else 1):

* IntTimeMix C (T x T) -> C' (LT x LT): C'[L t, L j + r] = C[t, j] for every r; the other
  rows are 0. The mixed current of step t is delivered whole on the block's first sub-step,
  computed from the block sums of the input (so the rounding rtz(., frac_bits) is the same);
* an IntLMHT input that is not an IntTimeMix goes through an inserted collector
  ``<neuron>.collect`` (IntTimeMix L x L, row 0 all ones, frac_bits 0: the block sum, on the
  block's first sub-step);
* every ConstantSource (a bias current) is gated to the first sub-step of each block by an
  inserted ``<source>.first_substep`` (IntTimeMix L x L with C[0, 0] = 1), so a block carries
  the bias once;
* synapses, pooling and Flatten are unchanged (linear: the block sum of their outputs is the
  original output), edge delays are multiplied by L, and ``metadata['substeps'] = L``.

Inputs: step t's value is presented on sub-step L t, zeros on the other L - 1
(:func:`expand_inputs`); outputs: the block sum of sub-step outputs is the original output
(:func:`reduce_trace`). ``runtime.run.run_graph`` does both, so the reparameterised graph is
a drop-in replacement there: every original node's output and state, at every step, equal.

Why it is exact (any sign of current, any leak): on the block start the binary neuron
computes exactly the multi-level neuron's h = rtz(v * leak_mult, D) + I_t. If h < theta it
stays silent for the block, as k = 0. Otherwise it fires and subtracts theta, and on each
later sub-step of the block (no input, no leak) fires again while its membrane is still >=
theta, so it fires min(L, floor(h / theta)) = k times and ends at h - k theta -- the
multi-level neuron's new v. No intermediate value leaves [min(0, h), max(0, h)].

The paper spreads I_t evenly (I_t / L on each sub-step). That schedule is exact only when
every per-step current I_t >= 0 (docs/neurons.md#lm-ht: 3-11 % of signed sequences mismatch; the
neuron also needs v >= 0), and I_t / L is not an integer in fixed point; delivering I_t on the
block start is the same construction with another split of the block's current, and needs
no sign condition. The conditions the pass proves on the given graph (else it raises
UnsupportedError naming node and field; the graded mapping -- keeping IntLMHT, the default
``lmht: {mapping: graded}`` -- is exact for any parameters):

1. the graph is a lowered integer graph, not yet time-multiplexed, without recurrent edges;
2. every node is an Input, Output, IntDense, IntConv2d, SumPool2d, Flatten, IntTimeMix,
   ConstantSource or IntLMHT: any other neuron would run its per-step dynamics L times per
   step;
3. every IntLMHT has the same ``levels`` L (one sub-step rate) and ``threshold`` > 0;
4. synapses are linear in time: ``weight_exp`` >= 0 (a floor shift of each sub-step sum
   differs from one of the block sum), no wrapping (``acc_bits`` = ``out_bits`` = 64), no
   IntConv2d ``bias`` (it would be added on every sub-step);
5. no state saturates or wraps: the static bound of |h| (the pre-reset membrane; every
   intermediate value lies within it) stays inside ``state_bits``.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.signals import prepare_inputs
from snnc.ir.value_bounds import output_bounds

from .pipeline import CompileContext, register_pass

MAPPINGS = ("graded", "binary_time_multiplexed")
_ALLOWED = (N.Input, N.Output, IN.IntDense, IN.IntConv2d, N.SumPool2d, N.Flatten, INN.IntTimeMix,
            INN.ConstantSource, INN.IntLMHT)
_HINT = "the graded mapping (lmht: {mapping: graded}, keeping IntLMHT) is exact for any parameters"


def _refuse(msg: str, node: str | None, field: str | None = None, hint: str = _HINT):
    raise UnsupportedError(msg, node=node, field=field, hint=hint)


# ----------------------------------------------------------------------------------------
# conditions
# ----------------------------------------------------------------------------------------


def membrane_bound(graph: Graph, name: str, bounds: dict[str, float] | None = None) -> float:
    """Static bound of |h| (and |v|) of IntLMHT ``name``: |I| <= B_I, the sum of the output
    bounds of its inputs (:func:`snnc.ir.value_bounds.output_bounds`, computed when ``bounds``
    is not given); h = rtz(v * m, D) + I with |v| <= |h| of the step before (soft reset keeps
    a non-negative h in [0, h], a negative h is kept), iterated over the window (or the
    geometric limit when the leak is < 1; unbounded for a leak >= 1 without window)."""
    node = graph.nodes[name]
    bounds = output_bounds(graph) if bounds is None else bounds
    b_in = sum(bounds[e.src] for e in graph.in_edges(name))
    lam = int(node.leak_mult) / 2.0 ** node.decay_bits
    v0 = abs(int(node.v_init))
    if node.window:
        b, top = float(v0), float(v0)
        for _ in range(int(node.window)):
            b = lam * b + b_in
            top = max(top, b)
        return top
    if lam < 1:
        return v0 + b_in / (1 - lam)
    return math.inf if (b_in or v0) else 0.0


def check_time_multiplexable(graph: Graph) -> int:
    """The common ``levels`` L of the graph's IntLMHT neurons (0 if there is none) when the
    time-multiplexed binary reparameterisation is exact on ``graph``; else UnsupportedError
    naming node and field."""
    if graph.metadata.get("level") != "integer":
        _refuse("the time-multiplexed LM-HT mapping rewrites a lowered integer graph", None,
                hint="run lower_integer first")
    if int(graph.metadata.get("substeps", 1)) != 1:
        _refuse(f"the graph is already time-multiplexed (substeps = {graph.metadata['substeps']})", None,
                field="substeps", hint="apply the reparameterisation once")
    neurons = [n for n, node in graph.nodes.items() if isinstance(node, INN.IntLMHT)]
    if not neurons:
        return 0
    levels = int(graph.nodes[neurons[0]].levels)
    for name in neurons:
        node = graph.nodes[name]
        if int(node.levels) != levels:
            _refuse(f"levels {node.levels} differs from {levels} of '{neurons[0]}': one graph runs one sub-step "
                    "rate", name, "levels")
        if int(node.threshold) <= 0:
            _refuse(f"threshold {node.threshold} must be > 0", name, "threshold")
    for name, node in graph.nodes.items():
        if not isinstance(node, _ALLOWED):
            _refuse(f"{node.type_name} has per-step dynamics: in a time-multiplexed graph (L = {levels} sub-steps "
                    "per step) it would run L times per step; only LM-HT neurons, integer synapses, pooling, "
                    "Flatten and constant sources can be multiplexed", name)
        if isinstance(node, IN.IntDense):
            if node.weight_exp < 0:
                _refuse(f"weight_exp {node.weight_exp} < 0 floors every sub-step's sum separately, which differs "
                        "from flooring the block sum", name, "weight_exp")
            for f in ("acc_bits", "out_bits"):
                if getattr(node, f) != 64:
                    _refuse(f"{f} {getattr(node, f)}: wrapping each sub-step's sum differs from wrapping the "
                            "block sum (needs 64)", name, f)
        if isinstance(node, IN.IntConv2d):
            if node.weight_exp < 0:
                _refuse(f"weight_exp {node.weight_exp} < 0 floors every sub-step's sum separately", name,
                        "weight_exp")
            if node.bias is not None and np.any(node.bias):
                _refuse("a conv bias would be added on every sub-step", name, "bias",
                        hint=_HINT + "; or feed the bias through a ConstantSource")
            if node.out_bits != 64:
                _refuse(f"out_bits {node.out_bits}: wrapping each sub-step's sum differs from wrapping the block "
                        "sum (needs 64)", name, "out_bits")
    rec = graph.recurrent_edges()
    if rec:
        e = rec[0]
        _refuse(f"a recurrent edge {e.src} -> {e.dst}: the block collectors are whole-window and cannot sit on a "
                "loop", e.dst)
    bounds = output_bounds(graph)
    for name in neurons:
        node = graph.nodes[name]
        bound = membrane_bound(graph, name, bounds)
        limit = 2 ** (int(node.state_bits) - 1) - 1
        if not bound <= limit:
            _refuse(f"the membrane may reach {bound:.3g}, beyond what {node.state_bits}-bit states hold without "
                    "saturating; the sub-steps would then saturate where the multi-level step does not", name,
                    "state_bits", hint=_HINT + "; or widen the state (state.bits)")
    return levels


# ----------------------------------------------------------------------------------------
# the construction
# ----------------------------------------------------------------------------------------


def _block_start_mix(c: np.ndarray, L: int) -> np.ndarray:
    """C' (LT x LT): row L t reads the block sums of the input with C[t, :]; other rows 0."""
    c = np.asarray(c, np.int64)
    T = c.shape[0]
    out = np.zeros((L * T, L * T), np.int64)
    out[::L] = np.repeat(c, L, axis=1)
    return out


def _mix_node(coefficients: np.ndarray, frac_bits: int, **meta) -> INN.IntTimeMix:
    return INN.IntTimeMix(coefficients=coefficients, frac_bits=frac_bits, metadata=meta,
                          hw={"whole_window": int(coefficients.shape[0])})


def time_multiplex(graph: Graph) -> Graph:
    """Return the L x T time-multiplexed binary form of ``graph`` (see the module docstring);
    ``graph`` itself is unchanged. Raises UnsupportedError where it would not be exact."""
    L = check_time_multiplexable(graph)
    if L <= 1:                      # no LM-HT, or levels = 1: already binary
        return graph.copy()
    out = Graph(metadata={**graph.metadata, "substeps": L})
    collectors: dict[str, str] = {}
    gates: dict[str, str] = {}
    for name, node in graph.nodes.items():
        if isinstance(node, INN.IntLMHT):
            out.nodes[name] = INN.IntBinaryLMHT(
                shape=tuple(node.shape), leak_mult=int(node.leak_mult), threshold=int(node.threshold), substeps=L,
                v_init=int(node.v_init), window=None if not node.window else int(node.window) * L,
                decay_bits=node.decay_bits, state_bits=node.state_bits, overflow=node.overflow,
                metadata={**node.metadata, "time_multiplexed_from": "IntLMHT", "levels": L})
            out.nodes[name].hw = dict(node.hw)
            if any(not isinstance(graph.nodes[e.src], INN.IntTimeMix) for e in graph.in_edges(name)):
                collectors[name] = f"{name}.collect"
                coll = np.zeros((L, L), np.int64)
                coll[0] = 1
                out.nodes[collectors[name]] = _mix_node(coll, 0, block_collector_of=name)
        elif isinstance(node, INN.IntTimeMix):
            new = _mix_node(_block_start_mix(node.coefficients, L), int(node.frac_bits), **node.metadata)
            new.quant = dict(node.quant)
            new.hw = {**node.hw, "whole_window": int(new.coefficients.shape[0])}
            out.nodes[name] = new
        elif isinstance(node, INN.ConstantSource):
            out.nodes[name] = node
            gates[name] = f"{name}.first_substep"
            gate = np.zeros((L, L), np.int64)
            gate[0, 0] = 1
            out.nodes[gates[name]] = _mix_node(gate, 0, first_substep_of=name)
        else:
            out.nodes[name] = node
    for e in graph.edges:
        d = e.delay * L
        src = gates.get(e.src, e.src)
        if e.dst in collectors and not isinstance(graph.nodes[e.src], INN.IntTimeMix):
            out.edges.append(Edge(src, collectors[e.dst], d))
        else:
            out.edges.append(Edge(src, e.dst, d))
    out.edges += [Edge(c, n, 0) for n, c in collectors.items()]
    out.edges += [Edge(s, g, 0) for s, g in gates.items()]
    # a synapse whose one input is a binary neuron reads binary spikes
    for name, node in list(out.nodes.items()):
        ins = out.in_edges(name)
        if isinstance(node, (IN.IntDense, IN.IntConv2d)) and len(ins) == 1 and \
                isinstance(out.nodes[ins[0].src], INN.IntBinaryLMHT) and node.input_kind != "binary":
            new = type(node)(**{**node.params(), "input_kind": "binary"})
            new.metadata, new.quant, new.hw = dict(node.metadata), dict(node.quant), dict(node.hw)
            out.nodes[name] = new
    return out


# ----------------------------------------------------------------------------------------
# running a time-multiplexed graph on per-step data
# ----------------------------------------------------------------------------------------


def expand_inputs(graph: Graph, inputs, steps: int | None = None) -> dict[str, np.ndarray]:
    """Per-step inputs [B, T, *shape] -> sub-step inputs [B, L*T, *shape]: step t's value on
    sub-step L*t, zeros on the other L - 1 (``steps`` counts original steps)."""
    L = int(graph.metadata.get("substeps", 1))
    x = prepare_inputs(graph, inputs, steps)
    res = {}
    for name, a in x.items():
        b = np.zeros((a.shape[0], a.shape[1] * L, *a.shape[2:]), a.dtype)
        b[:, ::L] = a
        res[name] = b
    return res


def reduce_trace(graph: Graph, trace):
    """Sub-step trace of the time-multiplexed ``graph`` -> per-step trace: outputs are summed
    over each block of L sub-steps (spike counts = the multi-level payload k; currents and
    readouts = the step's value), a constant source's output is its value, states are taken
    after the block's last sub-step."""
    from snnc.ir.trace import Trace  # passes do not depend on backends at import time

    L = int(graph.metadata.get("substeps", 1))

    def blocks(name, a):
        node = graph.nodes.get(name)
        if getattr(node, "source", False):
            return a[:, ::L]
        return a.reshape(a.shape[0], a.shape[1] // L, L, *a.shape[2:]).sum(axis=2)

    return Trace(outputs={k: blocks(k, v) for k, v in trace.outputs.items()},
                 states={k: v[:, L - 1::L] for k, v in trace.states.items()})


@register_pass("reparam_lmht", lossless=True)
def reparam_lmht(graph: Graph, ctx: CompileContext) -> Graph:
    """LM-HT time-multiplexed binary reparameterisation (config lmht: {mapping: binary_time_multiplexed})."""
    if getattr(ctx.config, "lmht_mapping", "graded") != "binary_time_multiplexed":
        return graph
    out = time_multiplex(graph)
    L = int(out.metadata.get("substeps", 1))
    for name, node in out.nodes.items():
        if isinstance(node, INN.IntBinaryLMHT):
            ctx.note(name, lmht_mapping="binary_time_multiplexed", substeps=L,
                     membrane_bound=membrane_bound(graph, name))
        elif isinstance(node, INN.IntTimeMix):
            ctx.note(name, execution="whole_window", window=int(node.coefficients.shape[0]))
    return out
