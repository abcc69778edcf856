"""lava-dl netx *blocks* driven directly by a spike source, as snnc integer graphs.

lava-dl users also build networks from ``lava.lib.dl.netx.blocks.process`` blocks in Python,
without a ``.net`` file (lava-dl's own block tests do). These functions return the snnc graph equal
to one such block fed by a ``RingBuffer`` (``source.s_out.connect(block.inp)``) and read by a sink
on ``block.out``, bit for bit on ``Loihi2SimCfg(select_tag='fixed_pt')``:

===========================================  =========================================================
netx block (lava-dl 0.6.0)                   snnc graph ``input -> synapse -> (delay 1) -> neuron``
===========================================  =========================================================
``Dense(shape, neuron_params={LIF, vth, du,  ``IntDense`` (Lava Dense's clipped/truncated weights,
dv, bias_exp}, weight, num_weight_bits,      :func:`snnc.ir.netx_rules.lava_dense_weights`) ->
weight_exponent)``                           ``IntCubaLIF.from_lava``
``ComplexDense(shape, neuron_params={RF,     ``IntComplexDense`` (the two Lava Dense synapses, each
vth, period, alpha, state_exp, decay_bits},  truncated under its own sign mode; the RF's
weight_real, weight_imag)``                  ``a_in << state_exp`` folded into ``weight_exp``) ->
                                             ``IntRF(spike_rule='phase', comparison='>=')``
``ComplexInput(shape, neuron_params={RF_IZ,  identity ``IntComplexDense`` (``<< state_exp``, edge
vth, period, alpha, state_exp,               delay 0: no synapse process) ->
decay_bits})``                               ``IntRF(spike_rule='iz')``
===========================================  =========================================================

Time: Lava's one-step latency of the synapse process is the edge delay 1, so step t of the
simulation is Lava's ``time_step`` t + 1 and the sink's column t (``metadata['time_convention'] =
'lava'``). Inputs are the spikes the ``RingBuffer`` sends (``data[:, t]``, any non-zero value
is one spike), given to snnc as ``{'input': x[B, T, n_in]}``.

Where Lava's arithmetic and the IR node would part ways, the builders refuse with an
:class:`~snnc.ir.errors.UnsupportedError` naming the field instead of returning a graph that is
not exact (graded input into an RF block, a negative weight exponent on a complex block, sums
that could leave int32).
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, ShapeError, UnsupportedError
from snnc.ir.graph import Graph
from snnc.ir.intneurons import IntComplexDense
from snnc.ir.intnodes import IntCubaLIF
from snnc.ir.netx_rules import (
    LAVA_RF_STATE_BITS,
    from_lava_layout,
    lava_complex_synapse,
    lava_int_dense,
    lava_rf_decays,
    lava_rf_neuron,
    lava_rf_period_alpha,
    lava_truncated_weights,
)


def _integer_matrix(w, field: str) -> np.ndarray:
    a = np.asarray(w)
    if a.ndim != 2 or 0 in a.shape:
        raise ShapeError(f"must be a non-empty 2-d matrix [n_out, n_in], got shape {a.shape}", field=field)
    if a.dtype.kind not in "iub":
        if a.dtype.kind != "f" or not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ParameterError("Lava's Dense takes integer weights (netx would truncate these)", field=field,
                                 hint="quantize the weights first")
    return a.astype(np.int64)


def _chain(name: str, n_in: int, shape: tuple, synapse, neuron, meta: dict, delay: int = 1) -> Graph:
    g = Graph(metadata={"level": "integer", "target": "loihi2", "source_format": "netx-block", "netx_block": name,
                        "time_convention": "lava", "input_kind": "spikes", **meta})
    g.add_node("input", N.Input(shape=(n_in,)))
    g.add_node("synapse", synapse)
    g.add_node("neuron", neuron)
    g.add_node("output", N.Output(shape=tuple(shape)))
    g.add_edge("input", "synapse", 0)
    g.add_edge("synapse", "neuron", delay)
    g.add_edge("neuron", "output", 0)
    g.validate()
    from snnc.ir.shapes import infer_shapes

    infer_shapes(g)
    return g


def dense_block(weight, *, vth: int, du: int, dv: int, bias_mant=0, bias_exp: int = 0,
                num_weight_bits: int = 8, weight_exponent: int = 0) -> Graph:
    """netx ``Dense`` block with a Lava ``LIF`` neuron (``neuron_params={'neuron_proc': LIF, 'vth',
    'du', 'dv', 'bias_exp'}``, block defaults ``num_weight_bits=8``, ``weight_exponent=0``) on
    binary input spikes. ``weight``: int[n_out, n_in] as given to the block; ``vth`` (mantissa,
    Lava shifts it by 6), ``du``, ``dv`` (12-bit decays), ``bias_mant`` (int16), ``bias_exp``.
    States of the neuron node: ``u``, ``v`` (Lava's 24-bit current and voltage)."""
    w = _integer_matrix(weight, "weight")
    eff, _ = lava_truncated_weights(w, int(num_weight_bits), "weight")
    syn = lava_int_dense(eff, int(weight_exponent), False, delayed=False,
                         meta={"num_weight_bits": int(num_weight_bits), "netx_weight_exp": int(weight_exponent)})
    n_out = w.shape[0]
    neuron = IntCubaLIF.from_lava((n_out,), du=int(du), dv=int(dv), vth=int(vth), bias_mant=bias_mant,
                                  bias_exp=int(bias_exp))
    return _chain("Dense", w.shape[1], (n_out,), syn, neuron, {})


def complex_dense_block(weight_real, weight_imag, *, vth: float, period, alpha, state_exp: int = 0,
                        decay_bits: int = 0, num_weight_bits_real: int = 8, num_weight_bits_imag: int = 8,
                        weight_exponent_real: int = 0, weight_exponent_imag: int = 0, neuron: str = "RF") -> Graph:
    """netx ``ComplexDense`` block with Lava's phase resonate-and-fire ``RF`` neuron
    (``neuron_params={'neuron_proc': RF, 'vth', 'period', 'alpha', 'state_exp', 'decay_bits'}``)
    on binary input spikes. Lava's RF: input ``a << state_exp``; ``real' = rtz(cos * real) -
    rtz(sin * imag) + a_real``, ``imag' = rtz(sin * real) + rtz(cos * imag) + a_imag`` (rtz: shift
    right by ``decay_bits`` toward zero), both clipped to ±(2**23 - 1); spike ``real' >= vth <<
    state_exp and imag' >= 0 and imag < 0``. ``neuron='RF_IZ'``: Lava's ``RF_IZ`` instead (spike
    on ``imag' >= vth << state_exp``, then real = 0, imag = threshold - 1). States of the neuron
    node: ``re``, ``im``."""
    wr = _integer_matrix(weight_real, "weight_real")
    wi = _integer_matrix(weight_imag, "weight_imag")
    if wr.shape != wi.shape:
        raise ShapeError(f"weight_real {wr.shape} and weight_imag {wi.shape} differ", field="weight_imag")
    if int(weight_exponent_real) != int(weight_exponent_imag) or int(weight_exponent_real) < 0:
        raise UnsupportedError("the two synapses of a complex block need the same weight exponent >= 0 (snnc's "
                               "IntComplexDense has one left shift; a right shift before the RF's << state_exp "
                               "would floor)", field="weight_exponent_real")
    if int(decay_bits) < 0 or int(state_exp) < 0:
        raise ParameterError("decay_bits and state_exp must be >= 0", field="decay_bits")
    er, _ = lava_truncated_weights(wr, int(num_weight_bits_real), "weight_real")
    ei, _ = lava_truncated_weights(wi, int(num_weight_bits_imag), "weight_imag")
    syn = lava_complex_synapse(er, ei, int(weight_exponent_real) + int(state_exp))
    syn.metadata.update({"num_weight_bits_real": int(num_weight_bits_real),
                         "num_weight_bits_imag": int(num_weight_bits_imag), "lava_state_exp": int(state_exp)})
    node = lava_rf_neuron((wr.shape[0],), vth=vth, period=period, alpha=alpha, state_exp=state_exp,
                          decay_bits=decay_bits, neuron=neuron)
    return _chain("ComplexDense", wr.shape[1], (wr.shape[0],), syn, node, {})


def complex_input_block(shape: int, *, vth: float, period, alpha, state_exp: int = 0, decay_bits: int = 0,
                        neuron: str = "RF_IZ") -> Graph:
    """netx ``ComplexInput`` block: the input drives both the real and the imaginary input of a
    Lava ``RF_IZ`` (default) or ``RF`` neuron directly (ports, no synapse process, so no latency:
    edge delay 0; the input is added as ``x << state_exp`` to both parts). ``shape``: number of
    neurons. States of the neuron node: ``re``, ``im``."""
    n = int(shape)
    if n <= 0:
        raise ShapeError(f"must be > 0, got {n}", field="shape")
    if int(state_exp) < 0:
        raise ParameterError("state_exp must be >= 0", field="state_exp")
    eye = np.eye(n, dtype=np.int64)
    syn = IntComplexDense(weight_real=eye, weight_imag=eye.copy(), weight_exp=int(state_exp))
    syn.metadata["lava_state_exp"] = int(state_exp)
    node = lava_rf_neuron((n,), vth=vth, period=period, alpha=alpha, state_exp=state_exp, decay_bits=decay_bits,
                          neuron=neuron)
    return _chain("ComplexInput", n, (n,), syn, node, {}, delay=0)


__all__ = ["dense_block", "complex_dense_block", "complex_input_block", "lava_complex_synapse", "lava_rf_neuron",
           "lava_rf_decays",
           "lava_rf_period_alpha",
           "LAVA_RF_STATE_BITS"]


# ---------------------------------------------------------------------------------------------
# sigma-delta (SDNN) blocks
# ---------------------------------------------------------------------------------------------


def _sdn_neuron(kind: str, shape: tuple, vth, bias, spike_exp: int, state_exp: int, field: str = "neuron_proc"):
    """Lava's ``Delta`` / ``SigmaDelta`` (ReLU) / ``Sigma`` as the IR node, with the process
    constructor's pre-scaling of ``vth`` and ``bias`` by 2**(spike_exp + state_exp)."""
    from snnc.ir.intsdn import IntDelta, IntSigma, IntSigmaDelta
    from snnc.ir.netx_rules import lava_sdn_scaled

    if kind == "Sigma":
        return IntSigma(shape=tuple(shape))
    if kind not in ("Delta", "SigmaDelta"):
        raise UnsupportedError(f"neuron_proc must be Delta, SigmaDelta or Sigma, got {kind!r}", field=field)
    vth_s = np.int64(lava_sdn_scaled(int(vth), spike_exp, state_exp, "vth"))
    if kind == "Delta":
        return IntDelta(shape=tuple(shape), vth=vth_s, spike_exp=int(spike_exp), state_exp=int(state_exp))
    b = np.broadcast_to(np.asarray(bias, np.int64), tuple(shape))
    return IntSigmaDelta(shape=tuple(shape), vth=vth_s, bias=np.ascontiguousarray(lava_sdn_scaled(b, spike_exp,
                         state_exp, "bias")), spike_exp=int(spike_exp), state_exp=int(state_exp), act_mode="relu")


def sdn_input_block(shape, *, vth: int, spike_exp: int = 0, state_exp: int = 0) -> Graph:
    """netx ``Input`` block with a Lava ``Delta`` neuron (``neuron_params={'neuron_proc': Delta,
    'vth', 'spike_exp', 'state_exp'}``) whose ``a_in`` a ``RingBuffer`` drives directly (no
    synapse: edge delay 0). ``shape``: snnc's (C, H, W) or (N,) (Lava's (W, H, C) reversed).
    Output: graded messages ``delta >> state_exp``; states ``act``, ``residue``, ``error``."""
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    g = Graph(metadata={"level": "integer", "target": "loihi2", "source_format": "netx-block", "netx_block": "Input",
                        "time_convention": "lava", "input_kind": "graded"})
    g.add_node("input", N.Input(shape=shape))
    g.add_node("neuron", _sdn_neuron("Delta", shape, vth, 0, spike_exp, state_exp))
    g.add_node("output", N.Output(shape=shape))
    g.add_edge("input", "neuron", 0)
    g.add_edge("neuron", "output", 0)
    g.validate()
    return g


def sdn_dense_block(weight, *, neuron_proc: str = "Sigma", vth: int = 0, bias=0, spike_exp: int = 0,
                    state_exp: int = 0, num_weight_bits: int = 8, weight_exponent: int = 0,
                    input_message_bits: int = 0) -> Graph:
    """netx ``Dense`` block with a Lava ``Sigma`` or ``SigmaDelta`` neuron: Lava Dense's
    clipped/truncated weights (block defaults ``num_weight_bits=8``, ``weight_exponent=0``),
    binary input (any non-zero value is a spike) unless ``input_message_bits`` > 0 (graded,
    int32 dot product), edge delay 1, then the neuron."""
    w = _integer_matrix(weight, "weight")
    eff, _ = lava_truncated_weights(w, int(num_weight_bits), "weight")
    syn = lava_int_dense(eff, int(weight_exponent), int(input_message_bits) > 0, delayed=False,
                         meta={"num_weight_bits": int(num_weight_bits), "netx_weight_exp": int(weight_exponent)})
    n_out = w.shape[0]
    neuron = _sdn_neuron(neuron_proc, (n_out,), vth, bias, spike_exp, state_exp)
    return _chain("Dense", w.shape[1], (n_out,), syn, neuron, {"input_kind": "graded" if input_message_bits
                                                                  else "spikes"})


def sdn_conv_block(weight, *, input_shape, shape, stride=1, padding=0, dilation=1, groups: int = 1,
                   neuron_proc: str = "SigmaDelta", vth: int = 0, bias=0, spike_exp: int = 0, state_exp: int = 0,
                   input_message_bits: int = 0) -> Graph:
    """netx ``Conv`` block with a Lava ``SigmaDelta`` (or ``Sigma``) neuron, in netx's block
    terms: ``weight`` in Lava's layout (C_out, kW, kH, C_in/groups), ``input_shape``/``shape``
    (W, H, C), ``stride``/``padding``/``dilation`` one value or (x, y); ``bias`` per channel (C,)
    or per neuron (W, H, C). The graph is in snnc's (C, H, W) order: Lava's true convolution
    with this kernel is the cross-correlation with the kernel flipped back. Lava's Conv: binary
    input unless ``input_message_bits`` > 0, sums wrap at 24 bits."""
    from snnc.ir.intnodes import IntConv2d
    from snnc.ir.netx_rules import LAVA_CONV_OUT_BITS

    w = np.asarray(weight)
    if w.ndim != 4 or w.dtype.kind not in "iuf" or np.any(w != np.round(w)):
        raise ParameterError("must be an integer kernel (C_out, kW, kH, C_in/groups)", field="weight")
    torch_w = np.ascontiguousarray(w.astype(np.int64).transpose(0, 3, 2, 1)[:, :, ::-1, ::-1])
    in_c = tuple(int(s) for s in input_shape)[::-1]
    out_c = tuple(int(s) for s in shape)[::-1]

    def yx(v):
        v = np.atleast_1d(np.asarray(v, np.int64))
        return (int(v[0]), int(v[0])) if v.size == 1 else (int(v[1]), int(v[0]))

    b = np.asarray(bias, np.int64)
    if b.ndim == 1 and b.size == out_c[0] and b.size > 1:
        b = b.reshape(-1, 1, 1)
    elif b.ndim == 3:
        b = from_lava_layout(b)
    syn = IntConv2d(input_shape=in_c[1:], weight=torch_w, stride=yx(stride), padding=yx(padding),
                    dilation=yx(dilation), groups=int(groups), bias=None, weight_exp=0,
                    input_kind="graded" if input_message_bits else "binary", out_bits=LAVA_CONV_OUT_BITS)
    neuron = _sdn_neuron(neuron_proc, out_c, vth, np.broadcast_to(b, out_c), spike_exp, state_exp)
    g = Graph(metadata={"level": "integer", "target": "loihi2", "source_format": "netx-block", "netx_block": "Conv",
                        "time_convention": "lava", "input_kind": "graded" if input_message_bits else "spikes"})
    g.add_node("input", N.Input(shape=in_c))
    g.add_node("synapse", syn)
    g.add_node("neuron", neuron)
    g.add_node("output", N.Output(shape=out_c))
    g.add_edge("input", "synapse", 0)
    g.add_edge("synapse", "neuron", 1)
    g.add_edge("neuron", "output", 0)
    g.validate()
    from snnc.ir.shapes import infer_shapes

    infer_shapes(g)
    return g
