"""Quantization of the synapses (Linear, Affine, Conv2d) and the choice of a neuron's state
scale from the synapses that feed it (:func:`drive`); biases fed through a neuron's current
(:func:`bias_through_current`); synapses straight into an Output (readouts).

Every synapse P feeding a neuron N is quantized for N:

    W_eff = W * gain_N                      (gain: the neuron's input and current gains, folded in)
    W_int = round(W_eff * S_N / (sigma_P * 2**shift)),   |W_int| <= qmax = 2**(bits-1) - 1
    S_N   = qmax * sigma_P * 2**shift / max|W_eff|      (the smallest over N's synapses; per
                                                          output channel with granularity 'channel')

on the profile's weight grid (``TargetProfile.weight_format``), as IntDense / IntConv2d with the
profile's accumulator and output widths. Lava (``lava_dense``): a dense synapse takes the integer
mantissa round(W_int) and netx's weight format for it (:func:`lava_dense_format`); convs stay on
the even grid with weight_exp 0.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge
from snnc.ir.netx_rules import lava_clip_truncate, lava_sign_mode, lava_truncation_bits, optimize_weight_bits

from .context import LoweringContext, NodeLowering, f64, lowers, neuron_types

SYNAPSE_TYPES = (N.Linear, N.Affine, N.Conv2d)


def on_weight_grid(w: np.ndarray, qmax: int, weight_format: str) -> np.ndarray:
    """Round scaled weights to the profile's weight grid (``TargetProfile.weight_format``):
    'integer': integers in [-qmax, qmax]; 'lava_dense': even integers 2 * [-qmax - 1, qmax]
    (Lava's Dense keeps doubled 8-bit weights unchanged). Returns int64 of w's shape."""
    if weight_format == "lava_dense":
        return (2 * np.clip(np.round(w / 2), -qmax - 1, qmax)).astype(np.int64)
    return np.clip(np.round(w), -qmax, qmax).astype(np.int64)


def lava_dense_format(w: np.ndarray, qmax: int) -> tuple[np.ndarray, int, int] | None:
    """Lava's Dense format of scaled weights ``w`` (state units, max |w| about qmax), chosen as
    netx would: the integer mantissa ``m = round(w)`` (mixed sign: [-qmax - 1, qmax]; all
    >= 0: [0, qmax]; all <= 0: [-qmax, 0], off -2 (qmax + 1), which Lava's inhibitory clip would
    change), then netx's ``optimize_weight_bits(m)`` -> ``(m << s, num_weight_bits, -s)``.
    Returns ``(weights = m << s, weight_exp = -s, num_weight_bits)``: Lava's Dense sums the
    8-bit-stable weights and floors by 2**s, which is sum(m) exactly for binary input, and a
    ``.net`` holding m is read back by netx as this very triple. None when netx has no format
    (all-zero matrix) or Lava would change the weights."""
    r = np.round(w)
    if r.min(initial=0) >= 0:
        m = np.clip(r, 0, qmax)
    elif r.max(initial=0) <= 0:
        m = np.clip(r, -qmax, 0)
    else:
        m = np.clip(r, -qmax - 1, qmax)
    m = m.astype(np.int64)
    out, nwb, wexp, clipped, problem = optimize_weight_bits(m)
    if clipped or problem or wexp > 0:
        return None
    mode = lava_sign_mode(out)
    if lava_truncation_bits(mode, nwb) < 0 or not np.array_equal(lava_clip_truncate(out, mode, nwb), out):
        return None
    return out.astype(np.int64), int(wexp), int(nwb)


def bias_column_weights(w: np.ndarray, qmax: int, weight_format: str) -> np.ndarray:
    """The weights of a bias column (already rounded to integers) on the profile's grid:
    'integer': clipped to [-qmax, qmax]; 'lava_dense': even, clipped to [-2 qmax, 2 qmax]."""
    if weight_format == "lava_dense":
        return np.clip(2 * np.round(w / 2), -2 * qmax, 2 * qmax).astype(np.int64)
    return np.clip(w, -qmax, qmax).astype(np.int64)


#: upper bound of the value a bias's ConstantSource emits
MAX_BIAS_SOURCE_VALUE = 1 << 16


def bias_source_value(sigmas) -> int:
    """The integer c a bias column's ConstantSource emits (the real constant 1 at scale c): the
    largest input scale of the neuron's synapses, at least 1 (spikes: 1, unchanged; an 8-bit
    analog input: 127). With c = 1 behind an input of scale sigma > 1, the bias row
    |b| would bound the state scale S a factor sigma below what the weights allow (|W| / sigma),
    leaving the weights only ~qmax / sigma levels."""
    return int(min(max(1, round(max(sigmas, default=1.0))), MAX_BIAS_SOURCE_VALUE))


def unit_gain(n_rows: int, conv: bool) -> np.ndarray:
    """No gain folded into the weights."""
    return np.ones(n_rows)


def quantize_synapse(lw: LoweringContext, name: str, node: N.Node, gain: np.ndarray, S: np.ndarray, sigma: float,
                     shift: int, weight_exp: int = 0) -> N.Node:
    """The integer synapse of ``node`` for state scale S. On the 'lava_dense' grid a dense
    synapse without its own weight_exp takes Lava's Dense format (:func:`lava_dense_format`:
    integer mantissa, weights ``m << s`` with ``weight_exp = -s``); a conv keeps the even grid
    with weight_exp 0 (Lava's Conv ignores weight_exp and wraps at 24 bits)."""
    w = f64(node.weight)
    w_eff = w * gain.reshape((-1,) + (1,) * (w.ndim - 1))
    factor = (S / (sigma * 2 ** shift)).reshape((-1,) + (1,) * (w.ndim - 1))
    fmt = None
    if lw.p.weight_format == "lava_dense" and not isinstance(node, N.Conv2d) and weight_exp == 0:
        fmt = lava_dense_format(w_eff * factor, lw.qmax)
    if fmt is not None:
        w_int, weight_exp, nwb = fmt
        w_val = w_int / 2.0 ** -weight_exp
        lw.ctx.note(name, lava_format=f"Dense: 8-bit weights, num_weight_bits {nwb}, weight_exp {weight_exp}")
    else:
        w_int = w_val = on_weight_grid(w_eff * factor, lw.qmax, lw.p.weight_format)
        if lw.p.weight_format == "lava_dense" and isinstance(node, N.Conv2d):
            lw.ctx.note(name, lava_format="Conv: even 8-bit grid, weight_exp 0 (Lava's Conv ignores weight_exp; "
                                          "its output wraps at 24 bits)")
    err = np.abs(w_val / factor - w_eff).max() / max(np.abs(w_eff).max(), 1e-30)
    src_kinds = {lw.output_kind(e.src) for e in lw.g.in_edges(name)}
    input_kind = "binary" if src_kinds == {"binary"} else "graded"
    lw.ctx.note(name, weight_bits=lw.p.weight_bits, weight_max_abs=int(np.abs(w_int).max(initial=0)),
                weight_rel_error=float(err), input_kind=input_kind)
    if isinstance(node, N.Conv2d):
        return IN.IntConv2d(input_shape=node.input_shape, weight=w_int, stride=node.stride, padding=node.padding,
                            dilation=node.dilation, groups=node.groups, bias=None, weight_exp=0,
                            input_kind=input_kind, out_bits=lw.p.conv_out_bits,
                            metadata=dict(node.metadata))
    return IN.IntDense(weight=w_int, weight_exp=weight_exp, input_kind=input_kind,
                       acc_bits=lw.p.dense_acc_bits, out_bits=lw.p.dense_out_bits,
                       metadata=dict(node.metadata))


def drive(lw: LoweringContext, name: str, gain_of, *, shift: int, weight_exp: int = 0,
          current_decay=None, per_tensor: bool = False,
          bias_as_input: bool = False, pow2: bool = False) -> tuple[tuple, np.ndarray, dict]:
    """Choose the state scale S (per output row) of neuron ``name`` from its incoming synapses
    and lower those synapses. ``gain_of(n_rows, conv)`` gives the gain folded into the weights;
    ``shift`` is the neuron's own input shift, ``weight_exp`` a left shift applied by the
    synapse to its accumulator. Returns (shape, S, Affine biases by synapse)."""
    shape = lw.shapes[name]
    syn = [e.src for e in lw.g.in_edges(name)]
    mixes = {}
    for i, s0 in enumerate(syn):          # a TimeMix between synapse and neuron (LM-HT) is looked through
        if isinstance(lw.g.nodes[s0], N.TimeMix):
            inner = [e.src for e in lw.g.in_edges(s0)]
            if len(inner) != 1:
                raise UnsupportedError("TimeMix needs exactly one input synapse", node=s0)
            mixes[inner[0]] = s0
            syn[i] = inner[0]
    bad = [s for s in syn if not isinstance(lw.g.nodes[s], SYNAPSE_TYPES)]
    if bad:
        raise UnsupportedError(f"neuron input from {bad[0]} ({lw.g.nodes[bad[0]].type_name}) is not a synapse; "
                               "the integer lowering needs Linear/Affine/Conv2d before each neuron", node=name)
    for s in syn:
        if len(lw.consumers(s)) != 1:
            raise UnsupportedError("synapse feeding several nodes", node=s)
        if len({lw.src_scale(e.src) for e in lw.g.in_edges(s)}) != 1:
            raise UnsupportedError("synapse inputs with different scales", node=s)
    conv = isinstance(lw.g.nodes[syn[0]], N.Conv2d)
    n_rows = shape[0]
    if not conv and len(shape) != 1:
        raise UnsupportedError(f"dense synapse into neurons of shape {shape}", node=name)
    gain = gain_of(n_rows, conv)
    total_shift = shift + weight_exp
    sigmas = {s: lw.src_scale(lw.g.in_edges(s)[0].src) for s in syn}
    alpha = current_decay
    biases = {s: f64(lw.g.nodes[s].bias) for s in syn
              if getattr(lw.g.nodes[s], "bias", None) is not None and np.any(lw.g.nodes[s].bias)}
    bias_value = bias_source_value(sigmas.values())
    # row maxima of |W_eff| over all incoming synapses (and bias columns through the current)
    row_max = np.zeros(n_rows)
    for s in syn:
        w = np.abs(f64(lw.g.nodes[s].weight)).reshape(n_rows, -1) * np.abs(gain)[:, None]
        row_max = np.maximum(row_max, w.max(axis=1) / sigmas[s])
        if s in biases and (bias_as_input or (alpha is not None and np.any(alpha))):
            row_max = np.maximum(row_max, np.abs(biases[s] * gain) / bias_value)
    row_max = np.where(row_max > 0, row_max, 1.0)
    if lw.p.weight_granularity == "tensor":
        S = np.full(n_rows, lw.qmax * 2 ** total_shift / row_max.max())
    else:
        S = lw.qmax * 2 ** total_shift / row_max
    if per_tensor or pow2:
        S = np.full(n_rows, S.min())
    if pow2:  # a power-of-two state scale 2**F (LNM's Horner rescales by shifts)
        S = np.full(n_rows, 2.0 ** np.floor(np.log2(S.min())))
    for s in syn:
        q = quantize_synapse(lw, s, lw.g.nodes[s], gain, S, sigmas[s], total_shift, weight_exp)
        if weight_exp:
            q.weight_exp = weight_exp
        lw.out.nodes[s] = q
        if s in mixes:
            tm = lw.g.nodes[mixes[s]]
            F = lw.p.decay_bits
            window = int(np.shape(tm.coefficients)[0])
            lw.out.nodes[mixes[s]] = INN.IntTimeMix(
                coefficients=np.round(f64(tm.coefficients) * 2 ** F).astype(np.int64), frac_bits=F,
                metadata=dict(tm.metadata), hw={"whole_window": window})
            lw.ctx.note(mixes[s], execution="whole_window", window=window)
        if bias_as_input and s in biases:
            # a constant input current: fed where the synapse's output goes (into the TimeMix
            # for LM-HT, whose mixing then weights it like the rest of the current)
            bias_through_current(lw, s, mixes.get(s, name), biases[s] * gain, S, total_shift,
                                 weight_exp=weight_exp, out_shape=lw.shapes[s], value=bias_value)
    return shape, S, {"gain": gain, "biases": {} if bias_as_input else biases, "bias_value": bias_value}


def bias_through_current(lw: LoweringContext, syn: str, neuron: str, b_rows: np.ndarray, S: np.ndarray, shift: int, *,
                         weight_exp: int = 0, out_shape: tuple | None = None, value: int = 1) -> None:
    """Feed the per-row constant ``b_rows`` (real units) into ``neuron`` every step, exactly:
    a ConstantSource emitting ``value`` (the real constant 1 at scale ``value``, see
    :func:`bias_source_value`) and an integer synapse whose weights are the quantized bias
    (a 1x1 conv over a constant map for conv layers). ``shift`` = the total left shift
    between weight units and state units, ``weight_exp`` = the synapse's own part of it."""
    src = f"{syn}.bias_source"
    col = f"{syn}.bias"
    w = bias_column_weights(np.round(b_rows * S / (value * 2 ** shift)), lw.qmax, lw.p.weight_format)
    kw = dict(weight_exp=weight_exp, input_kind="binary" if value == 1 else "graded")
    if out_shape is not None and len(out_shape) == 3:
        lw.out.nodes[src] = INN.ConstantSource(shape=(1, *out_shape[1:]),
                                               value=np.full((1, *out_shape[1:]), value, np.int64))
        lw.out.nodes[col] = IN.IntConv2d(input_shape=tuple(out_shape[1:]), weight=w.reshape(-1, 1, 1, 1),
                                         stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, bias=None,
                                         out_bits=lw.p.conv_out_bits, **kw)
    else:
        lw.out.nodes[src] = INN.ConstantSource(shape=(1,), value=np.full(1, value, np.int64))
        lw.out.nodes[col] = IN.IntDense(weight=w.reshape(-1, 1), acc_bits=lw.p.dense_acc_bits,
                                        out_bits=lw.p.dense_out_bits, **kw)
    delay = next((e.delay for e in lw.g.edges if e.src == syn and e.dst == neuron), 0)
    lw.out.edges.append(Edge(src, col, 0))
    lw.out.edges.append(Edge(col, neuron, delay))   # the bias arrives when the synapse's output does


def lower_readout(lw: LoweringContext, name: str, node: N.Node) -> None:
    """Synapse straight into an Output: per-tensor scale, no neuron."""
    sigma = lw.src_scale(lw.g.in_edges(name)[0].src)
    w = f64(node.weight)
    gain = np.ones(w.shape[0])
    S = np.asarray(lw.qmax * sigma / max(np.abs(w).max(), 1e-30))
    lw.out.nodes[name] = quantize_synapse(lw, name, node, gain, np.broadcast_to(S, (w.shape[0],)), sigma, 0)
    b = getattr(node, "bias", None)
    if b is not None and np.any(b):
        raise UnsupportedError("Affine bias in a readout without neuron", node=name)
    lw.scale[name] = float(S)


@lowers(*SYNAPSE_TYPES)
class SynapseLowering(NodeLowering):
    """A synapse into neurons (or a TimeMix) is lowered with its neuron (:func:`drive`); one
    straight into Outputs is a readout (:func:`lower_readout`)."""

    def lower(self, lw: LoweringContext, name: str, node: N.Node) -> None:
        consumers = lw.consumers(name)
        if not consumers:
            raise UnsupportedError("synapse without consumer", node=name)
        kinds = {type(lw.g.nodes[c]) for c in consumers}
        if kinds == {N.Output}:
            lower_readout(lw, name, node)
        elif not kinds <= neuron_types() | {N.TimeMix}:
            raise UnsupportedError(
                f"synapse feeding {sorted(k.__name__ for k in kinds)} is not supported by the integer "
                "lowering yet", node=name)
        # synapses into neurons are lowered together with their neuron
