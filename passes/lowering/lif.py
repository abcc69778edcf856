"""Lowering of DiscreteLIF (LIF / CubaLIF / IF after discretization) to IntCubaLIF.

The state scale S comes from the synapses (:func:`~snnc.passes.lowering.synapses.drive`, input
shift INPUT_SHIFT); thresholds, biases and resets are ``round(x * S)`` (thresholds on the
profile's ``threshold_multiple``, biases as ``mant << exp`` when the profile has
``bias_mantissa_bits``, with exp >= ``bias_exp``: netx's grid ``mant << 6`` for loihi2), decays
``round(retention * 2**decay_bits)``. An Affine bias feeding a neuron without synaptic-current
decay is added to the neuron's per-step bias (exact); with a decaying current it is fed through
the current
(:func:`~snnc.passes.lowering.synapses.bias_through_current`).
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError

from .context import INPUT_SHIFT, LoweringContext, NodeLowering, compact, f64, lowers, rel_err
from .synapses import bias_through_current, drive


def neuron_gain(lw: LoweringContext, neuron: N.DiscreteLIF, name: str, n_out: int,
                per_channel_axis0: bool) -> np.ndarray:
    """g_in * g_v per output row (shape (n_out,)), folded into the synapse weights."""
    g = f64(neuron.input_gain) * f64(neuron.current_gain)
    g = np.broadcast_to(g, lw.shapes[name])
    if per_channel_axis0:
        flat = g.reshape(g.shape[0], -1)
        if not np.all(flat == flat[:, :1]):
            raise UnsupportedError("input gain varies within a channel; cannot fold into conv weights",
                                   node=name, field="input_gain")
        return flat[:, 0]
    return g.reshape(-1)[:n_out] if g.size == n_out else np.broadcast_to(g.reshape(-1), (n_out,))


def representable_bias(b: np.ndarray, mantissa_bits: int, min_exp: int = 0) -> np.ndarray:
    """Round each bias to the nearest value mant << exp with a signed ``mantissa_bits``-bit
    mantissa and exp >= ``min_exp`` (Lava: int16 ``bias_mant``, ``TargetProfile.bias_mantissa_bits``;
    netx: exp = 6, ``TargetProfile.bias_exp``), the smallest such exp per neuron. Ties round
    half to even (numpy). ``b``: state units (float or int) -> int64, same shape."""
    top = (1 << (mantissa_bits - 1)) - 1
    b = np.asarray(b, np.float64)
    exp = np.full(b.shape, int(min_exp), np.int64)
    big = np.abs(b) > (top << exp)
    if big.any():
        exp[big] = np.maximum(exp[big], np.ceil(np.log2(np.abs(b[big]) / top)).astype(np.int64))
    mant = np.round(b / 2.0 ** exp).astype(np.int64)
    over = np.abs(mant) > top            # rounding up reached 2**(bits-1): one more exponent bit
    if over.any():
        exp[over] += 1
        mant[over] = np.round(b[over] / 2.0 ** exp[over]).astype(np.int64)
    return mant << exp


@lowers(N.DiscreteLIF)
class DiscreteLIFLowering(NodeLowering):
    """DiscreteLIF -> IntCubaLIF (the synapses feeding it with it)."""

    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.DiscreteLIF) -> None:
        alpha = None if node.current_decay is None else f64(node.current_decay)
        shift = INPUT_SHIFT
        shape, S, extra = drive(lw, name, lambda n, conv: neuron_gain(lw, node, name, n, conv), shift=shift,
                                current_decay=alpha)
        gain, biases = extra["gain"], extra["biases"]
        S_full = S.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
        D = lw.p.decay_bits
        cur = 0 if alpha is None else np.round(np.broadcast_to(alpha, shape) * 2 ** D).astype(np.int64)
        vol = np.round(np.broadcast_to(f64(node.voltage_decay), shape) * 2 ** D).astype(np.int64)
        bias_real = np.zeros(shape) if node.bias is None else np.broadcast_to(f64(node.bias), shape).copy()
        for s, b in biases.items():
            b_rows = b * gain
            b_full = b_rows.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
            if alpha is None or not np.any(alpha):
                bias_real = bias_real + b_full
            else:
                bias_through_current(lw, s, name, b_rows, S, shift, out_shape=lw.shapes[s],
                                     value=extra["bias_value"])
        bias_int = np.round(bias_real * S_full).astype(np.int64)
        thr = None
        if node.v_threshold is not None:
            thr_real = np.broadcast_to(f64(node.v_threshold), shape)
            m = lw.p.threshold_multiple
            thr = (np.round(thr_real * S_full / m) * m).astype(np.int64)
            if node.reset == "zero" and node.v_reset is not None and np.any(node.v_reset):
                raise UnsupportedError("reset to a non-zero v_reset is not supported by the integer lowering",
                                       node=name, field="v_reset")
        if node.v_min is not None:
            raise UnsupportedError("a lower membrane bound (v_min) is not supported by the integer lowering",
                                   node=name, field="v_min")
        if lw.p.bias_mantissa_bits is not None:
            bias_int = representable_bias(bias_real * S_full, lw.p.bias_mantissa_bits, lw.p.bias_exp)
        thr_arr = None if thr is None else compact(thr)
        bits = lw.p.state_bits
        lif = IN.IntCubaLIF(
            shape=tuple(shape), current_mult=compact(cur), voltage_mult=compact(vol), threshold=thr_arr,
            bias=None if not np.any(bias_int) else compact(bias_int), input_shift=shift, decay_bits=D,
            arith_bits=lw.p.neuron_arith_bits, u_bits=bits,
            u_overflow=lw.p.current_overflow or ("wrap" if lw.p.state_overflow == "wrap" else "saturate"),
            v_bits=bits, v_overflow="saturate_sym" if lw.p.state_overflow == "saturate" else "wrap",
            comparison=node.comparison, reset="none" if thr is None else node.reset,
            metadata={**node.metadata, "scale": S_full.reshape(-1)[0] if np.unique(S).size == 1 else S})
        lw.out.nodes[name] = lif
        lw.scale[name] = 1.0 if thr is not None else S_full
        lw.ctx.note(name, state_bits=bits, decay_bits=D, state_scale=float(S.min()),
                    threshold_rel_error=rel_err(thr, node.v_threshold, S_full),
                    bias_rel_error=rel_err(bias_int, bias_real, S_full) if np.any(bias_real) else None,
                    voltage_decay_error=float(np.abs(vol / 2 ** D - np.broadcast_to(f64(node.voltage_decay),
                                                                                      shape)).max()))

    def scale(self, lw: LoweringContext, name: str, node: N.DiscreteLIF) -> float:
        if node.v_threshold is None:       # a non-spiking LIF's output is its membrane
            return super().scale(lw, name, node)
        return 1.0

    def output_kind(self, node: N.DiscreteLIF) -> str:
        return "binary" if node.v_threshold is not None else "graded"
