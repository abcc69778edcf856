"""Pass: decouple integer LIFB (burst) neurons into an equivalent population of LIF neurons
with binary spikes (docs/neurons.md#decoupling-into-a-lif-population), lossless in fixed point.

For an ``IntLIFB`` with N = max_burst >= 2, reset 'subtract', threshold_step == threshold (the
soft-reset count neuron: h = rtz(v * m, D) + x, n = #{k : h >= k*theta}, v = h - n*theta):

* N copies k = 1..N of a binary LIF (an IntLIFB with max_burst 1), all receiving the same
  input, copy k firing on h (cmp) k*theta and resetting by subtraction of theta;
* all-to-all lateral synapses between different copies of the same neuron, weight
  -theta*m / 2**D, delay 1 step;
* downstream synapses read the copies: block k of the new weights is W * (A_k - A_{k-1}),
  A_n the integer payload for count n, so sum_k block_k s_k = W * A_n exactly (an
  IntComplexDense: both weight parts alike); an Output reads the payload through one such
  dense recombination, which adds one step of synapse latency on Loihi 2 (the Output's
  ``hw['latency']`` says so);
* a recurrent synapse (one that reads the LIFB and feeds it) is both: its rows are replicated
  for the N copies and its columns expanded as above, so every copy receives W * A_n of the
  delayed count, the LIFB's own recurrent input.

Why it is exact: copy k's membrane after the step is V + theta*(n - s_k) where V is the LIFB
membrane, and n - s_k > 0 only when n >= 1, in which case V >= 0; so both products with m are
non-negative and, because theta*m is a multiple of 2**D, rtz((V + c*theta)*m, D) =
rtz(V*m, D) + c*theta*m/2**D: the lateral input cancels the difference exactly. With
recurrence the argument is an induction over steps: while the copies' counts sum to the LIFB's
n, the recurrent synapse delivers the LIFB's input to every copy. Preconditions
the pass proves on the graph (else it raises, naming node and field, and the graded-spike
mapping -- keeping the IntLIFB -- remains the exact alternative):

1. reset 'subtract' and threshold_step == threshold;
2. threshold * leak_mult == 0 (mod 2**decay_bits);
3. a lower bound v_min, if any, is <= 0 (it then acts only when no copy fired, where all
   copies have the LIFB membrane, so they clamp alike);
4. no state can saturate or wrap: the static bound of |v| (and of the copies, which differ by
   at most (N-1)*theta) stays inside ``state_bits``;
5. every input is an integer synapse that feeds only this LIFB; every synapse reading it reads
   nothing else (its columns are replaced) and is not a grouped convolution; every other
   reader is an Output (a recombination before any other node would shift that node by a
   step against its other inputs, e.g. a bias), and a conv LIFB has no Output reader (the
   recombination is a dense map).
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.value_bounds import output_bounds

from .pipeline import CompileContext, register_pass

_SYN = (IN.IntDense, IN.IntConv2d)
#: synapses that can read the copies directly (their input columns are expanded)
_READERS = (*_SYN, INN.IntComplexDense)
_HINT = "the graded-spike mapping (keep the IntLIFB node) is exact for any parameters"


def _full(x, shape) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, np.int64), shape).copy()


def _state_bound(graph: Graph, name: str, node: INN.IntLIFB) -> float:
    """Bound of |v| over all steps (inf when the leak is 1 and input can be negative), from the
    bounds of the synapses feeding it (:func:`snnc.ir.value_bounds.output_bounds`)."""
    bounds = output_bounds(graph)
    a = 0.0
    for e in graph.in_edges(name):
        a += bounds[e.src]
    lam = float(np.max(node.leak_mult)) / 2 ** node.decay_bits
    extra = float(np.max(node.threshold)) * node.max_burst
    return (a + extra) / (1 - lam) if lam < 1 else math.inf


def check_decouplable(graph: Graph, name: str) -> None:
    """Raise UnsupportedError (naming node and field) unless construction (D) is exact here."""
    node = graph.nodes[name]
    hint = _HINT
    if node.reset != "subtract":
        raise UnsupportedError(f"reset '{node.reset}': the LIF-population decoupling needs reset by subtraction",
                               node=name, field="reset", hint=hint)
    shape = tuple(node.shape)
    thr, stp = _full(node.threshold, shape), _full(node.threshold_step, shape)
    if not np.array_equal(thr, stp):
        raise UnsupportedError("threshold_step differs from threshold (not a count neuron)", node=name,
                               field="threshold_step", hint=hint)
    if node.v_min is not None and np.any(np.asarray(node.v_min) > 0):
        raise UnsupportedError("a positive lower bound v_min", node=name, field="v_min", hint=hint)
    if np.any(thr <= 0):
        raise UnsupportedError("threshold must be > 0", node=name, field="threshold", hint=hint)
    prod = thr * _full(node.leak_mult, shape)
    if np.any(prod % (1 << node.decay_bits)):
        raise UnsupportedError(f"threshold * leak_mult is not a multiple of 2**{node.decay_bits}, so the lateral "
                               "weight -threshold*leak would need rounding", node=name, field="leak_mult", hint=hint)
    for e in graph.in_edges(name):
        if not isinstance(graph.nodes[e.src], _SYN):
            raise UnsupportedError(f"input from {e.src} is not an integer synapse", node=name, hint=hint)
        if len(graph.out_edges(e.src)) != 1:
            raise UnsupportedError(f"synapse {e.src} feeds other nodes too", node=name, hint=hint)
    _check_consumers(graph, name, hint)
    bound = _state_bound(graph, name, node)
    limit = 2 ** (node.state_bits - 1) - 1 - float(np.max(thr)) * node.max_burst
    if not bound <= limit:
        raise UnsupportedError(f"the membrane may reach {bound:.3g}, beyond what {node.state_bits}-bit states hold "
                               "without saturating; saturation would break the equivalence", node=name,
                               field="state_bits", hint=hint + "; or widen the state")


def _check_consumers(graph: Graph, name: str, hint: str) -> None:
    """The nodes reading ``name`` must allow the rewiring of :func:`decouple_node`."""
    for e in graph.out_edges(name):
        consumer = graph.nodes[e.dst]
        if isinstance(consumer, _READERS):
            others = sorted({i.src for i in graph.in_edges(e.dst) if i.src != name})
            if others:
                raise UnsupportedError(f"synapse {e.dst} reading it also reads {', '.join(others)}; its input "
                                       "columns cannot be replaced by the copies'", node=name, hint=hint)
            if isinstance(consumer, IN.IntConv2d) and consumer.groups != 1:
                raise UnsupportedError(f"grouped conv {e.dst} reads it", node=name, hint=hint)
        elif not isinstance(consumer, N.Output):
            raise UnsupportedError(f"it feeds {consumer.type_name} {e.dst} directly; recombining the payload for it "
                                   "would delay it by a step against its other inputs", node=name, hint=hint)
        elif len(graph.nodes[name].shape) != 1:
            raise UnsupportedError(f"decoupled conv LIFB feeding the non-synapse node {e.dst}", node=name, hint=hint)


def _replicate_synapse(syn: N.Node, copies: int) -> N.Node:
    w = np.asarray(syn.weight, np.int64)
    new = type(syn)(**{**syn.params(), "weight": np.concatenate([w] * copies, axis=0)})
    if isinstance(syn, IN.IntConv2d) and syn.bias is not None:
        new.bias = np.concatenate([np.asarray(syn.bias, np.int64)] * copies)
    new.metadata, new.quant, new.hw = dict(syn.metadata), dict(syn.quant), dict(syn.hw)
    return new


def _expand_consumer(syn: N.Node, deltas: np.ndarray, copies: int) -> N.Node:
    """Downstream synapse reading the copies: block k = W * deltas[k] for every weight array
    (``syn`` may already have its rows replicated: a recurrent synapse)."""
    fields = ("weight_real", "weight_imag") if isinstance(syn, INN.IntComplexDense) else ("weight",)
    expanded = {f: np.concatenate([np.asarray(getattr(syn, f), np.int64) * int(deltas[k]) for k in range(copies)],
                                  axis=1) for f in fields}
    new = type(syn)(**{**syn.params(), **expanded, "input_kind": "binary"})
    new.metadata, new.quant, new.hw = dict(syn.metadata), dict(syn.quant), dict(syn.hw)
    return new


def decouple_node(graph: Graph, name: str) -> Graph:
    """Return a copy of ``graph`` with IntLIFB ``name`` replaced by the LIF population."""
    check_decouplable(graph, name)
    out = graph.copy()
    node = out.nodes[name]
    shape = tuple(node.shape)
    n_copies = int(node.max_burst)
    thr = _full(node.threshold, shape)
    leak = _full(node.leak_mult, shape)
    lateral_w = -(thr * leak) >> node.decay_bits          # exact: divisible by 2**D
    pop_shape = (n_copies * shape[0], *shape[1:])
    pop = INN.IntLIFB(
        shape=pop_shape, leak_mult=np.concatenate([leak] * n_copies), threshold=np.concatenate(
            [thr * k for k in range(1, n_copies + 1)]), threshold_step=np.concatenate([thr] * n_copies),
        max_burst=1, amplitudes=np.array([0, 1], np.int64), decay_bits=node.decay_bits, reset="subtract",
        comparison=node.comparison, state_bits=node.state_bits, overflow=node.overflow,
        v_min=None if node.v_min is None else np.concatenate([_full(node.v_min, shape)] * n_copies),
        metadata={**node.metadata, "decoupled_from": "IntLIFB", "copies": n_copies})
    out.nodes[name] = pop
    for src in dict.fromkeys(e.src for e in graph.in_edges(name)):
        out.nodes[src] = _replicate_synapse(graph.nodes[src], n_copies)
    # lateral inhibition between copies of the same neuron, one step of delay
    lat = f"{name}.lateral"
    if len(shape) == 1:
        n = shape[0]
        w = np.zeros((n_copies * n, n_copies * n), np.int64)
        for k in range(n_copies):
            for j in range(n_copies):
                if j != k:
                    w[k * n:(k + 1) * n, j * n:(j + 1) * n] = np.diag(lateral_w)
        out.nodes[lat] = IN.IntDense(weight=w, weight_exp=0, input_kind="binary", acc_bits=64, out_bits=64)
    else:
        c = shape[0]
        lw = lateral_w.reshape(c, -1)
        if not np.all(lw == lw[:, :1]):
            raise UnsupportedError("lateral weight varies within a channel", node=name, field="leak_mult",
                                   hint=_HINT)
        w = np.zeros((n_copies * c, n_copies * c, 1, 1), np.int64)
        for k in range(n_copies):
            for j in range(n_copies):
                if j != k:
                    w[k * c:(k + 1) * c, j * c:(j + 1) * c, 0, 0] = np.diag(lw[:, 0])
        out.nodes[lat] = IN.IntConv2d(input_shape=tuple(shape[1:]), weight=w, stride=(1, 1), padding=(0, 0),
                                      dilation=(1, 1), groups=1, bias=None, weight_exp=0, input_kind="binary",
                                      out_bits=64)
    out.edges.append(Edge(name, lat, 0))
    out.edges.append(Edge(lat, name, 1))
    amps = np.asarray(node.amplitudes, np.int64)
    deltas = np.diff(amps)
    new_edges, expanded = [], set()
    for e in out.edges:
        if e.src != name or e.dst == lat:
            new_edges.append(e)
            continue
        if isinstance(graph.nodes[e.dst], _READERS):
            if e.dst not in expanded:   # out's node: rows already replicated if it also feeds the LIFB
                out.nodes[e.dst] = _expand_consumer(out.nodes[e.dst], deltas, n_copies)
                expanded.add(e.dst)
            new_edges.append(e)
        else:  # an Output: recombine the payload
            comb = f"{name}.payload"
            if comb not in out.nodes:
                eye = np.eye(shape[0], dtype=np.int64)
                out.nodes[comb] = IN.IntDense(weight=np.concatenate([eye * int(d) for d in deltas], axis=1),
                                              weight_exp=0, input_kind="binary", acc_bits=64, out_bits=64)
                new_edges.append(Edge(name, comb, 0))
            new_edges.append(Edge(comb, e.dst, e.delay))
    out.edges = new_edges
    return out


@register_pass("decouple_burst", lossless=True)
def decouple_burst(graph: Graph, ctx: CompileContext | None = None) -> Graph:
    """Replace every decouplable IntLIFB (max_burst >= 2) by its exact LIF population; a
    non-decouplable one keeps the exact graded-spike mapping (reason in the report)."""
    out = graph
    for name in [n for n, node in graph.nodes.items() if isinstance(node, INN.IntLIFB) and node.max_burst >= 2]:
        try:
            out = decouple_node(out, name)
            if ctx is not None:
                ctx.note(name, burst_mapping="lif_population")
        except UnsupportedError as exc:
            if ctx is not None:
                ctx.note(name, burst_mapping="graded", decoupling_refused=exc.detail)
    return out if out is not graph else graph.copy()
