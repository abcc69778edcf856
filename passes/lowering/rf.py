"""Lowering of S5 resonate-and-fire neurons (RF): IntComplexDense + IntRF, or, with a readout
matrix V (S5-RF layer 0 with zoh/bilinear discretization, spike on Re(V x) > 1), existing node
kinds every backend runs: the state [re; im] lives in a non-spiking IntCubaLIF register, the
complex decay is a recurrent IntDense rotation (delay 1, floor shift by decay_bits), Re(V x) an
IntDense readout and the spike a stateless IntCubaLIF threshold; the state's static bound is
proven here (``metadata['state_bound']``, used by check_ranges). Refused when the profile's
dense synapses hold only Lava's 8-bit weights (``weight_format`` 'lava_dense'): the rotation
weights need decay_bits + 1 bits.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.value_bounds import output_bounds

from .context import INPUT_BITS, INPUT_SHIFT, LoweringContext, NodeLowering, lowers


@lowers(N.RF)
class RFLowering(NodeLowering):
    neuron = True

    def lower(self, lw: LoweringContext, name: str, node: N.RF) -> None:
        """RF -> IntComplexDense (both weight parts, accumulators shifted left by INPUT_SHIFT) +
        IntRF (per-neuron complex decay with decay_bits fractional bits). With a readout matrix
        V (S5-RF layer 0, zoh) see :func:`_lower_rf_readout`."""
        ins = lw.g.in_edges(name)
        if len(ins) != 1 or not isinstance(lw.g.nodes[ins[0].src], (N.Linear, N.Affine)):
            raise UnsupportedError("RF needs exactly one complex Linear/Affine input", node=name)
        syn_name = ins[0].src
        syn = lw.g.nodes[syn_name]
        if getattr(syn, "bias", None) is not None and np.any(syn.bias):
            raise UnsupportedError("complex Affine bias into RF", node=syn_name, field="bias")
        sigma = lw.src_scale(lw.g.in_edges(syn_name)[0].src)
        w = np.asarray(syn.weight, np.complex128)
        wmax = max(np.abs(w.real).max(), np.abs(w.imag).max(), 1e-30)
        S0 = lw.qmax * 2 ** INPUT_SHIFT * sigma / wmax
        factor = S0 / (sigma * 2 ** INPUT_SHIFT)
        q = lambda a: np.clip(np.round(a * factor), -lw.qmax, lw.qmax).astype(np.int64)  # noqa: E731
        kinds = {lw.output_kind(e.src) for e in lw.g.in_edges(syn_name)}
        input_kind = "binary" if kinds == {"binary"} else "graded"
        lw.ctx.note(syn_name, weight_bits=lw.p.weight_bits, input_kind=input_kind)
        D = lw.p.decay_bits
        decay = np.broadcast_to(np.asarray(node.decay, np.complex128), lw.shapes[name])
        dr, di = np.round(decay.real * 2 ** D).astype(np.int64), np.round(decay.imag * 2 ** D).astype(np.int64)
        mag = np.sqrt(dr.astype(float) ** 2 + di.astype(float) ** 2)
        if np.any(mag >= 2 ** D):
            raise UnsupportedError(f"|decay| rounds to >= 1 at {D} fractional bits (unstable)", node=name,
                                   field="decay", hint="use more decay bits (config decay_bits)")
        decay_error = float(np.abs((dr + 1j * di) / 2 ** D - decay).max())
        if node.readout is not None:
            _lower_rf_readout(lw, name, node, syn_name, q(w.real), q(w.imag), input_kind, dr, di, S0)
            lw.ctx.note(name, decay_error=decay_error)
            return
        lw.out.nodes[syn_name] = INN.IntComplexDense(weight_real=q(w.real), weight_imag=q(w.imag),
                                                     weight_exp=INPUT_SHIFT, metadata=dict(syn.metadata))
        lw.out.nodes[name] = INN.IntRF(shape=tuple(lw.shapes[name]), decay_real=dr, decay_imag=di,
                                       threshold=int(round(node.v_threshold * S0)), decay_bits=D,
                                       comparison=node.comparison, state_bits=lw.p.state_bits,
                                       overflow="saturate" if lw.p.state_overflow == "saturate" else "wrap",
                                       metadata={**node.metadata, "scale": S0})
        lw.scale[name] = 1.0
        lw.ctx.note(name, state_scale=S0, decay_error=decay_error)

    def scale(self, lw: LoweringContext, name: str, node: N.Node) -> float:
        return 1.0

    def output_kind(self, node: N.Node) -> str:
        return "binary"


def _lower_rf_readout(lw: LoweringContext, name: str, node: N.RF, syn_name: str, w_re: np.ndarray, w_im: np.ndarray,
                      input_kind: str, dr: np.ndarray, di: np.ndarray, S0: float) -> None:
    """RF with a readout matrix V (y_t = V x_t, spike on Re y_t), in existing integer node
    kinds (every backend runs them); x = (re, im) is carried as one real vector [re; im]:

        {syn}           IntDense [W_re; W_im] (2P x H), weight_exp = INPUT_SHIFT
        {name}.state    IntCubaLIF (2P,), no decay, no threshold: outputs x_t = its input
        {name}.rotation IntDense [[dr, -di], [di, dr]] (diagonal blocks), weight_exp = -D,
                        edge back into {name}.state with delay 1:
                        x_t = in_t + floor(R x_{t-1} / 2**D)    (the complex decay)
        {name}.readout  IntDense [Re Vq, -Im Vq] (P x 2P), Vq = round(V * 2**D),
                        weight_exp = -D:  y_t = floor(Re(Vq x_t) / 2**D)
        {name}          IntCubaLIF (P,), no decay, no reset: s_t = 1[y_t > threshold]
    The rounding differs from IntRF's (one floor per component instead of two rtz
    products); the error is <= 1 LSB per component and step, like IntRF's."""
    shape = tuple(lw.shapes[name])
    if len(shape) != 1:
        raise UnsupportedError(f"RF with a readout needs 1-d neurons, got shape {shape}", node=name,
                               field="readout")
    P = shape[0]
    V = np.asarray(node.readout, np.complex128)
    if V.shape != (P, P):
        raise UnsupportedError(f"readout must be complex[{P}, {P}], got shape {V.shape}", node=name,
                               field="readout")
    if lw.p.weight_format == "lava_dense":
        raise UnsupportedError("an RF readout matrix becomes a recurrent rotation with 12+ bit weights, which "
                               "Lava's 8-bit Dense cannot hold", node=name, field="readout",
                               hint="compile for fpga or sim")
    D, bits = lw.p.decay_bits, lw.p.state_bits
    sat = lw.p.state_overflow == "saturate"
    state, rot, ro = f"{name}.state", f"{name}.rotation", f"{name}.readout"
    syn = lw.g.nodes[syn_name]
    lw.out.nodes[syn_name] = IN.IntDense(weight=np.concatenate([w_re, w_im]), weight_exp=INPUT_SHIFT,
                                         input_kind=input_kind, acc_bits=64, out_bits=64,
                                         metadata=dict(syn.metadata))
    register = dict(current_mult=np.asarray(0, np.int64), voltage_mult=np.asarray(0, np.int64), input_shift=0,
                    decay_bits=D, arith_bits=64, u_bits=bits, u_overflow="saturate" if sat else "wrap",
                    v_bits=bits, v_overflow="saturate_sym" if sat else "wrap", reset="none")
    Dr, Di = np.diag(dr.reshape(-1)), np.diag(di.reshape(-1))
    rotation = np.block([[Dr, -Di], [Di, Dr]]).astype(np.int64)
    Vq = np.round(V * 2 ** D)
    readout = np.concatenate([Vq.real, -Vq.imag], axis=1).astype(np.int64)
    # static bound of |re|, |im| (complex magnitude): |x_t| <= |lq| |x_{t-1}| + |u|max + sqrt(2)
    bounds = lowered_source_bounds(lw)
    pm = sum(bounds[e.src] for e in lw.g.in_edges(syn_name))
    a_re = np.abs(w_re).sum(axis=1) * pm * 2 ** INPUT_SHIFT
    a_im = np.abs(w_im).sum(axis=1) * pm * 2 ** INPUT_SHIFT
    lam = np.sqrt(dr.astype(float) ** 2 + di.astype(float) ** 2).reshape(-1) / 2 ** D
    bound = float(np.max((np.sqrt(a_re ** 2 + a_im ** 2) + np.sqrt(2)) / (1 - lam)))
    meta = {"rf_state_of": name, "layout": "[re; im]"}
    if np.isfinite(bound):      # proven here; check_ranges cannot follow the rotation loop itself
        meta["state_bound"] = int(np.ceil(bound))
    lw.out.nodes[state] = IN.IntCubaLIF(shape=(2 * P,), threshold=None, **register, metadata=meta)
    lw.out.nodes[rot] = IN.IntDense(weight=rotation, weight_exp=-D, input_kind="graded", acc_bits=64,
                                    out_bits=64, metadata={"rf_rotation_of": name})
    lw.out.nodes[ro] = IN.IntDense(weight=readout, weight_exp=-D, input_kind="graded", acc_bits=64,
                                   out_bits=64, metadata={"rf_readout_of": name})
    lw.out.nodes[name] = IN.IntCubaLIF(shape=shape, threshold=np.asarray(int(round(node.v_threshold * S0))),
                                       comparison=node.comparison, **register,
                                       metadata={**node.metadata, "scale": S0})
    delay = next(e.delay for e in lw.g.in_edges(name) if e.src == syn_name)
    lw.rewired.add((syn_name, name))
    lw.out.edges += [Edge(syn_name, state, delay), Edge(state, rot, 0), Edge(rot, state, 1),
                     Edge(state, ro, 0), Edge(ro, name, 0)]
    lw.scale[name] = 1.0
    lw.ctx.note(name, state_scale=S0, readout="dense", state_bound=bound,
                readout_error=float(np.abs(Vq / 2 ** D - V).max()))


def lowered_source_bounds(lw: LoweringContext) -> dict[str, float]:
    """Output bounds (:func:`snnc.ir.value_bounds.output_bounds`) of the nodes lowered so far,
    over the original edges and those the lowering added; an input from a node not lowered
    yet counts as unbounded. Inputs: analog ones are INPUT_BITS-bit samples, others carry
    ``metadata['max_abs']`` (spikes: 1), as check_ranges assumes."""
    part = Graph(nodes=dict(lw.out.nodes),
                 edges=[e for e in lw.g.edges if e.dst in lw.out.nodes and (e.src, e.dst) not in lw.rewired]
                 + list(lw.out.edges))
    inputs = {n: float((1 << (INPUT_BITS - 1)) - 1) if node.metadata.get("analog")
              else float(node.metadata.get("max_abs", 1.0))
              for n, node in lw.out.nodes.items() if isinstance(node, N.Input)}
    return output_bounds(part, inputs)
