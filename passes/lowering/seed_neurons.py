"""Lowering of the seed neurons LIFB, LMHT (with its TimeMix), CLIF and LNM (docs/neurons.md) to
their integer nodes (:mod:`snnc.ir.intneurons`). Their synapses shift the accumulator left by
INPUT_SHIFT (``weight_exp``), and Affine biases are fed as input currents
(:func:`~snnc.passes.lowering.synapses.bias_through_current`). LM-HT's time mixing is lowered
whole-window: ``hw['whole_window']`` holds the window length in steps (a streaming target's
``insert_latency`` turns it causal, one window late).
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError

from .context import INPUT_SHIFT, LoweringContext, NodeLowering, compact, f64, lowers, rel_err
from .synapses import drive, unit_gain

#: count-neuron LIFB: leak multiplier and threshold are multiples of 2**COUNT_ALIGN_BITS
COUNT_ALIGN_BITS = 6


def lifb_payload(node: N.LIFB) -> tuple[np.ndarray, int]:
    """Integer payloads for the burst amplitudes and their scale q (payload = amplitude * q):
    the smallest power of two up to 256 making every amplitude integral (BrainCog's
    {0, 1, 3, 4.5, ...} -> q = 2), else 256 with rounding."""
    amps = np.arange(node.max_burst + 1, dtype=np.float64) if node.amplitudes is None else f64(node.amplitudes)
    for k in range(9):
        q = 1 << k
        if np.allclose(amps * q, np.round(amps * q), rtol=0, atol=1e-9):
            break
    return np.round(amps * q).astype(np.int64), q


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@lowers(N.LIFB)
class LIFBLowering(NodeLowering):
    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.LIFB) -> None:
        """LIFB -> IntLIFB. The synapse shifts its accumulator left by INPUT_SHIFT (six fractional
        state bits). For the soft-reset count neuron (reset 'subtract', threshold_step = threshold)
        the leak multiplier and the threshold are rounded to multiples of 2**COUNT_ALIGN_BITS, so
        that threshold * leak_mult is a multiple of 2**decay_bits: the precondition of the exact
        LIF-population decoupling (passes.decouple_burst)."""
        def gain_of(n_rows, conv):
            g = np.broadcast_to(f64(1.0 if node.input_gain is None else node.input_gain), lw.shapes[name])
            return g.reshape(n_rows, -1)[:, 0]

        shape, S, extra = drive(lw, name, gain_of, shift=0, weight_exp=INPUT_SHIFT, bias_as_input=True)
        D = lw.p.decay_bits
        S_full = S.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)
        theta = np.broadcast_to(f64(node.v_threshold), shape)
        step = theta if node.threshold_step is None else np.broadcast_to(f64(node.threshold_step), shape)
        count_neuron = node.reset == "subtract" and np.allclose(step, theta)
        leak = np.broadcast_to(f64(node.leak), shape)
        align = 1 << COUNT_ALIGN_BITS if count_neuron else 1
        leak_mult = (np.round(leak * 2 ** D / align) * align).astype(np.int64)
        thr = (np.round(theta * S_full / align) * align).astype(np.int64)
        stp = thr if count_neuron else np.round(step * S_full).astype(np.int64)
        amps, q = lifb_payload(node)
        lw.out.nodes[name] = INN.IntLIFB(
            shape=tuple(shape), leak_mult=compact(leak_mult), threshold=compact(thr), threshold_step=compact(stp),
            max_burst=int(node.max_burst), amplitudes=amps, decay_bits=D, reset=node.reset,
            comparison=node.comparison, state_bits=lw.p.state_bits,
            overflow="saturate" if lw.p.state_overflow == "saturate" else "wrap",
            v_min=None if node.v_min is None else compact(np.round(np.broadcast_to(f64(node.v_min), shape) * S_full)),
            metadata={**node.metadata, "scale": float(S.min()), "payload_scale": q})
        lw.scale[name] = float(q)
        lw.ctx.note(name, state_bits=lw.p.state_bits, decay_bits=D, state_scale=float(S.min()),
                    threshold_rel_error=rel_err(thr, theta, S_full),
                    leak_error=float(np.abs(leak_mult / 2 ** D - leak).max()), payload_scale=q,
                    decouplable=bool(count_neuron))

    def scale(self, lw: LoweringContext, name: str, node: N.LIFB) -> float:
        return float(lifb_payload(node)[1])


@lowers(N.LMHT)
class LMHTLowering(NodeLowering):
    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.LMHT) -> None:
        """LMHT -> IntLMHT (payload k = level count, real value k*theta); TimeMix -> IntTimeMix
        with decay_bits fractional bits."""
        if node.comparison != ">=":
            raise UnsupportedError("LMHT levels are floor(h/theta): comparison must be '>='", node=name,
                                   field="comparison")
        shape, S, extra = drive(lw, name, unit_gain, shift=0, weight_exp=INPUT_SHIFT, per_tensor=True,
                                bias_as_input=True)
        S0, D = float(S[0]), lw.p.decay_bits
        lw.out.nodes[name] = INN.IntLMHT(
            shape=tuple(shape), leak_mult=int(round(node.leak * 2 ** D)), threshold=int(round(node.v_threshold * S0)),
            levels=int(node.levels), v_init=int(round(node.v_init * S0)), window=node.window, decay_bits=D,
            state_bits=lw.p.state_bits, overflow="saturate" if lw.p.state_overflow == "saturate" else "wrap",
            metadata={**node.metadata, "scale": S0})
        lw.scale[name] = 1.0 / float(node.v_threshold)
        lw.ctx.note(name, state_scale=S0, state_bits=lw.p.state_bits,
                    threshold_rel_error=abs(round(node.v_threshold * S0) / S0 - node.v_threshold) / node.v_threshold,
                    leak_error=abs(round(node.leak * 2 ** D) / 2 ** D - node.leak))

    def scale(self, lw: LoweringContext, name: str, node: N.LMHT) -> float:
        return 1.0 / float(node.v_threshold)      # payload k, real value k * theta


@lowers(N.CLIF)
class CLIFLowering(NodeLowering):
    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.CLIF) -> None:
        """CLIF -> IntCLIF: sigmoids as clamped look-up tables (a documented approximation:
        sigma(u/tau) sampled at bucket midpoints over |u/tau| < 8 in 256 buckets; sigma(m) over
        m in [0, 16) in 256 buckets; entries with 12 fractional bits)."""
        shape, S, extra = drive(lw, name, unit_gain, shift=0, weight_exp=INPUT_SHIFT, per_tensor=True,
                                bias_as_input=True)
        S0, D, L = float(S[0]), lw.p.decay_bits, 12
        tau = float(node.tau)
        span = 16 * tau * S0
        u_shift = max(0, int(np.ceil(np.log2(span / 256))))
        u_offset = int(np.floor(-8 * tau * S0 / 2 ** u_shift))
        size = int(np.ceil(span / 2 ** u_shift)) + 1
        centers = ((np.arange(size) + u_offset) * 2.0 ** u_shift + 2.0 ** u_shift / 2) / S0
        lut_u = np.round(sigmoid(centers / tau) * 2 ** L).astype(np.int64)
        m_frac, m_shift = 12, 8
        m_centers = (np.arange(256) * 2.0 ** m_shift + 2.0 ** (m_shift - 1)) / 2 ** m_frac
        lut_m = np.round(sigmoid(m_centers) * 2 ** L).astype(np.int64)
        lw.out.nodes[name] = INN.IntCLIF(
            shape=tuple(shape), decay_mult=int(round((1 - 1 / tau) * 2 ** D)), threshold=int(round(node.v_threshold
                                                                                                   * S0)),
            lut_u=lut_u, u_shift=u_shift, u_offset=u_offset, lut_m=lut_m, m_shift=m_shift, m_frac_bits=m_frac,
            lut_frac_bits=L, reset_scale=int(round(S0)), decay_bits=D, comparison=node.comparison,
            state_bits=max(lw.p.state_bits, lw.p.clif_state_bits_min),
            metadata={**node.metadata, "scale": S0})
        lw.scale[name] = 1.0
        lw.ctx.note(name, state_scale=S0, sigmoid="lut", lut_u_entries=size, lut_m_entries=256)

    def scale(self, lw: LoweringContext, name: str, node: N.Node) -> float:
        return 1.0

    def output_kind(self, node: N.Node) -> str:
        return "binary"


@lowers(N.LNM)
class LNMLowering(NodeLowering):
    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.LNM) -> None:
        """LNM -> IntLNM: the state scale is a power of two 2**F (v_real = v / 2**F) so that the
        Horner products rescale by a shift."""
        shape, S, extra = drive(lw, name, unit_gain, shift=0, weight_exp=INPUT_SHIFT, pow2=True,
                                bias_as_input=True)
        scale = float(S[0])
        F = int(round(np.log2(scale)))
        r = lambda x: int(round(float(x) * scale))  # noqa: E731
        lw.out.nodes[name] = INN.IntLNM(
            shape=tuple(shape), coefficients=np.round(f64(node.coefficients) * scale).astype(np.int64), frac_bits=F,
            threshold=r(node.v_threshold), v_reset=r(node.v_reset), v_min=r(node.v_min), v_max=r(node.v_max),
            reset=node.reset, comparison=node.comparison, form=node.form, metadata={**node.metadata, "scale": scale})
        lw.scale[name] = 1.0
        lw.ctx.note(name, state_scale=scale, frac_bits=F)

    def scale(self, lw: LoweringContext, name: str, node: N.Node) -> float:
        return 1.0

    def output_kind(self, node: N.Node) -> str:
        return "binary"
