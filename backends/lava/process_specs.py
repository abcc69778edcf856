"""One handler per integer node type: which Lava process realizes the node, with which
arguments, and how to read its output and states back (the table in :mod:`.mapping`'s
docstring). Registered with ``@maps(NodeType)``, as the simulator registers its kernels.

Handler signature: ``handler(pl, name, node, links_in, links_out)``: ``pl`` the planner
(:class:`.mapping._Planner`: graph ``g``, ``shapes``, ``plan``, :meth:`add`, :meth:`port_record`,
:meth:`record_states`, the payload bounds), ``links_in``/``links_out`` the node's
:class:`.plan.Link` s to and from other process-backed nodes. A handler picks Lava's own process
where that is exact by construction, else snnc's custom fixed-point process (the ``note`` says
why). Lava's numeric formats come from :mod:`snnc.ir.netx_rules`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import intsdn as SD
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.netx_rules import (
    GRADED_MESSAGE_BITS,
    INT32_LIMIT,
    INT32_MAX,
    LAVA_CONV_OUT_BITS,
    LAVA_CONV_PARAM_MAX,
    LAVA_WEIGHT_BITS,
    MAX_LAVA_DELAY,
    SIGN_MODE_NAMES,
    conv_abs_sum,
    lava_conv_weight,
    lava_dense_encoding,
    lava_shape,
    to_lava_layout,
)
from snnc.ir.registry import Registry
from snnc.ir.shapes import conv_padding, pair

from .plan import Code, Link, Proc

#: node type -> ``fn(planner, name, node, links_in, links_out)``, the Lava process of that node
SPECS: Registry = Registry("Lava process specs")
#: state names per neuron kind, as the simulator records them
STATE_NAMES = {IN.IntCubaLIF: ("u", "v"), INN.IntLIFB: ("v",), INN.IntCLIF: ("u", "m"), INN.IntRF: ("re", "im"),
               INN.IntLMHT: ("v",), INN.IntLNM: ("v",), INN.IntTimeMix: ("buffer", "mixed"),
               SD.IntSigma: ("sigma",), SD.IntDelta: ("act", "residue", "error"),
               SD.IntSigmaDelta: ("sigma", "act", "residue", "error")}
#: sigma-delta nodes: Lava's own Sigma / Delta / SigmaDelta processes, int32 graded messages
SDN_TYPES = (SD.IntSigma, SD.IntDelta, SD.IntSigmaDelta)


maps = SPECS.register


def spec_for(node) -> Callable | None:
    """The handler of ``node``'s type (or of its nearest registered base class), None if none."""
    return SPECS.find(type(node))


def _min_consumer_delay(links_out: list[Link]) -> int | None:
    return min((lk.delay for lk in links_out), default=None)


def _sdn_sources(pl, links_in: list[Link]) -> bool:
    """Every source is a sigma-delta node: graded messages into a Conv, as netx builds SDNN
    layers (exact while each sum stays within int32, the range Lava's Conv casts to)."""
    return bool(links_in) and all(isinstance(pl.g.nodes[lk.src], SDN_TYPES) for lk in links_in)


def _conv_geometry(pl, name: str) -> tuple:
    in_shape = tuple(pl.shapes[pl.g.in_edges(name)[0].src]) if pl.g.in_edges(name) else None
    return in_shape, tuple(pl.shapes[name])


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------


@maps(N.Input)
def input_source(pl, name: str, node: N.Input, links_in, links_out) -> None:
    """``RingBuffer`` fed with the inputs (int32, last axis time)."""
    shape = tuple(pl.shapes[name])
    p = pl.add(Proc(name, "RingBuffer", {"data": Code(f"inputs[{name!r}]")}, node=name, out_port="s_out",
                    note="input spikes/values (int32), last axis time"), "Input")
    pl.plan.inputs[name] = {"proc": p.key, "shape": list(shape), "max_abs": int(pl._input_bound(name, node))}
    pl.plan.records[name] = {"kind": "input", "shape": list(shape)}


@maps(INN.ConstantSource)
def constant(pl, name: str, node: INN.ConstantSource, links_in, links_out) -> None:
    """``RingBuffer`` with a one-step cyclic buffer holding the value."""
    shape = tuple(pl.shapes[name])
    value = to_lava_layout(node.value, shape)
    if np.abs(value).max(initial=0) > INT32_MAX:
        raise UnsupportedError("constant does not fit Lava's int32 RingBuffer", node=name, field="value")
    p = pl.add(Proc(name, "RingBuffer", {"data": value[..., None]}, node=name, out_port="s_out",
                    note="constant source: one-step cyclic RingBuffer"), "ConstantSource")
    pl.port_record(name, p)


# ---------------------------------------------------------------------------------------------
# synapses
# ---------------------------------------------------------------------------------------------


@maps(IN.IntDense)
def dense(pl, name: str, node: IN.IntDense, links_in, links_out) -> None:
    """``Dense`` (``DelayDense`` when its one consumer edge has delay d >= 2), weights encoded so
    that Lava's clipping/truncation keeps them; else ``SnncDense``."""
    node.validate(name)
    w = np.asarray(node.weight, np.int64)
    binary_ir = node.input_kind == "binary"
    sources_binary = pl.sources_binary(links_in)
    int32_sources = all(pl.src_int32(lk.src) for lk in links_in)
    dmin = _min_consumer_delay(links_out)
    reason = None
    prep = lava_dense_encoding(w)
    if dmin is not None and dmin < 1:
        reason = "a consumer edge without delay (Lava's Dense adds one step)"
    elif prep is None:
        reason = "weights not representable as Lava 8-bit weights << k"
    elif node.out_bits != 32:
        reason = f"out_bits {node.out_bits} (Lava's Dense output port is int32)"
    elif w.shape[1] * 2 ** LAVA_WEIGHT_BITS * 2 ** prep[1] >= INT32_LIMIT and binary_ir:
        reason = "binary accumulator may exceed int32"
    else:
        wk, k, mode, nwb = prep
        exp = int(node.weight_exp) + k
        if not (binary_ir or sources_binary):
            graded_ok = (node.acc_bits >= 32 and int(node.weight_exp) >= 0) or (
                node.acc_bits == 32 and k == 0 and int32_sources)
            if not graded_ok:
                reason = ("graded accumulator width/shift that Lava's int32 dot would wrap differently "
                          f"(acc_bits {node.acc_bits}, weight_exp {node.weight_exp}, k {k})")
    if reason is None:
        lava_binary = binary_ir or sources_binary
        args = {"weights": wk, "weight_exp": exp, "num_weight_bits": nwb, "sign_mode": Code(SIGN_MODE_NAMES[mode]),
                "num_message_bits": 0 if lava_binary else GRADED_MESSAGE_BITS, "name": name}
        cls, lat = "Dense", 1
        if len(links_out) == 1 and 2 <= links_out[0].delay <= MAX_LAVA_DELAY + 1 and (lava_binary or exp >= 0):
            cls, lat = "DelayDense", links_out[0].delay
            args = {**args, "delays": int(lat - 1), "max_delay": int(lat - 1)}
        p = pl.add(Proc(name, cls, args, node=name, latency=lat, in_port="s_in", out_port="a_out",
                        note=f"{'binary' if lava_binary else 'graded'}"
                             + (f", weights << {k}" if k else "") + (f", delay {lat - 1}" if lat > 1 else "")),
                   "IntDense")
    else:
        lat = 0 if (dmin is not None and dmin < 1) else 1
        args = {"weights": w, "weight_exp": int(node.weight_exp), "binary": binary_ir,
                "acc_bits": int(node.acc_bits), "out_bits": int(node.out_bits), "latency": lat, "name": name}
        p = pl.add(Proc(name, "SnncDense", args, node=name, latency=lat, in_port="s_in", out_port="a_out",
                        note=reason), "IntDense")
    pl.port_record(name, p)


def _snnc_conv(name, w, bias, in_shape, out_shape, stride, pad, dil, groups, weight_exp, binary,
               out_bits, lat, reason) -> Proc:
    args = {"weight": w, "bias": np.zeros(out_shape[0], np.int64) if bias is None else bias,
            "in_shape": tuple(in_shape), "out_shape": tuple(out_shape), "stride": list(stride),
            "padding": list(pad), "dilation": list(dil), "groups": groups, "weight_exp": weight_exp,
            "binary": binary, "out_bits": out_bits, "latency": lat, "name": name}
    return Proc(name, "SnncConv", args, node=name, latency=lat, in_port="s_in", out_port="a_out", note=reason)


@maps(IN.IntConv2d)
def conv(pl, name: str, node: IN.IntConv2d, links_in, links_out) -> None:
    """``Conv`` (flipped kernel, (W, H, C) layout) when weight_exp = 0, no bias, 24-bit output
    and |acc| < 2**31 provably; else ``SnncConv``."""
    node.validate(name)
    w = np.asarray(node.weight, np.int64)
    in_shape, out_shape = _conv_geometry(pl, name)
    stride = pair(node.stride, "stride", name)
    dil = pair(node.dilation, "dilation", name)
    pad = tuple(conv_padding(node, in_shape[1:], name))
    binary_ir = node.input_kind == "binary"
    lava_binary = binary_ir or pl.sources_binary(links_in)
    acc_bound = conv_abs_sum(w) * (1.0 if lava_binary else pl._in_payload(links_in))
    dmin = _min_consumer_delay(links_out)
    reason = None
    if dmin is not None and dmin < 1:
        reason = "a consumer edge without delay (Lava's Conv adds one step)"
    elif node.weight_exp != 0 or node.bias is not None:
        reason = "weight_exp or bias (Lava's Conv ignores weight_exp and has no bias)"
    elif node.out_bits != LAVA_CONV_OUT_BITS:
        reason = f"out_bits {node.out_bits} (Lava's Conv wraps at 24 bits)"
    elif not acc_bound < INT32_LIMIT and not _sdn_sources(pl, links_in):
        reason = "the accumulator may exceed int32 (Lava converts its float64 sum to int32)"
    elif max(*stride, *pad, *dil, *w.shape[2:]) > LAVA_CONV_PARAM_MAX:
        reason = "stride/padding/dilation/kernel beyond Lava's int8 fields"
    if reason is None:
        args = {"weight": lava_conv_weight(w),
                "input_shape": lava_shape(in_shape), "stride": stride[::-1], "padding": pad[::-1],
                "dilation": dil[::-1], "groups": int(node.groups),
                "num_message_bits": 0 if lava_binary else GRADED_MESSAGE_BITS, "name": name}
        p = pl.add(Proc(name, "Conv", args, node=name, latency=1, in_port="s_in", out_port="a_out",
                        note=f"{'binary' if lava_binary else 'graded'}, kernel flipped, (W,H,C)"), "IntConv2d")
    else:
        lat = 0 if (dmin is not None and dmin < 1) else 1
        p = pl.add(_snnc_conv(name, w, None if node.bias is None else np.asarray(node.bias, np.int64),
                              in_shape, out_shape, stride, pad, dil, int(node.groups),
                              int(node.weight_exp), binary_ir, int(node.out_bits), lat, reason), "IntConv2d")
    pl.port_record(name, p)


@maps(N.SumPool2d)
def sum_pool(pl, name: str, node: N.SumPool2d, links_in, links_out) -> None:
    """``Conv`` with a ones kernel, groups = C, when the window sum provably stays below 2**23;
    else ``SnncConv`` (ones, 64-bit)."""
    in_shape, out_shape = _conv_geometry(pl, name)
    k = pair(node.kernel_size, "kernel_size", name)
    stride = pair(node.stride, "stride", name)
    pad = pair(node.padding, "padding", name)
    c = int(in_shape[0])
    sources_binary = pl.sources_binary(links_in)
    bound = k[0] * k[1] * pl._in_payload(links_in)
    dmin = _min_consumer_delay(links_out)
    reason = None
    if dmin is not None and dmin < 1:
        reason = "a consumer edge without delay (Lava's Conv adds one step)"
    elif not bound < 2 ** (LAVA_CONV_OUT_BITS - 1):
        reason = "the window sum may exceed Lava Conv's 24-bit wrap"
    elif max(*stride, *pad, *k) > LAVA_CONV_PARAM_MAX:
        reason = "stride/padding/kernel beyond Lava's int8 fields"
    if reason is None:
        args = {"weight": np.ones((c, k[1], k[0], 1), np.int64), "input_shape": lava_shape(in_shape),
                "stride": stride[::-1], "padding": pad[::-1], "dilation": (1, 1), "groups": c,
                "num_message_bits": 0 if sources_binary else GRADED_MESSAGE_BITS, "name": name}
        p = pl.add(Proc(name, "Conv", args, node=name, latency=1, in_port="s_in", out_port="a_out",
                        note="sum pooling as a depthwise ones-kernel conv"), "SumPool2d")
    else:
        lat = 0 if (dmin is not None and dmin < 1) else 1
        p = pl.add(_snnc_conv(name, np.ones((c, 1, k[0], k[1]), np.int64), None, in_shape, out_shape,
                              stride, pad, (1, 1), c, 0, False, 64, lat, reason), "SumPool2d")
    pl.port_record(name, p)


@maps(INN.IntComplexDense)
def complex_dense(pl, name: str, node: INN.IntComplexDense, links_in, links_out) -> None:
    """Two ``Dense`` (real, imaginary part) into the RF's real/imag ports when the accumulators
    provably fit int32; else ``SnncComplexDense``."""
    wr, wi = np.asarray(node.weight_real, np.int64), np.asarray(node.weight_imag, np.int64)
    for lk in links_out:
        if not isinstance(pl.g.nodes[lk.dst], INN.IntRF):
            raise UnsupportedError(f"a complex synapse feeding {pl.g.nodes[lk.dst].type_name} (only IntRF takes "
                                   "complex input)", node=name)
    sources_binary = node.input_kind == "binary" or pl.sources_binary(links_in)
    pr, pi = lava_dense_encoding(wr), lava_dense_encoding(wi)
    exp = int(node.weight_exp)
    bound = max(float(np.abs(wr).sum(axis=1).max(initial=0)), float(np.abs(wi).sum(axis=1).max(initial=0))) * (
        1.0 if sources_binary else pl._in_payload(links_in)) * 2.0 ** exp
    dmin = _min_consumer_delay(links_out)
    reason = None
    if dmin is not None and dmin < 1:
        reason = "a consumer edge without delay"
    elif pr is None or pi is None:
        reason = "weights not representable as Lava 8-bit weights << k"
    elif not bound < INT32_LIMIT:
        reason = "the accumulators may exceed int32"
    elif exp < 0:
        reason = "negative weight_exp"
    if reason is None:
        delays = {lk.delay for lk in links_out}
        d = delays.pop() if len(delays) == 1 else 1
        parts = []
        for part, (wk, k, mode, nwb) in (("re", pr), ("im", pi)):
            args = {"weights": wk, "weight_exp": exp + k, "num_weight_bits": nwb,
                    "sign_mode": Code(SIGN_MODE_NAMES[mode]),
                    "num_message_bits": 0 if sources_binary else GRADED_MESSAGE_BITS, "name": f"{name}.{part}"}
            cls = "Dense"
            if 2 <= d <= MAX_LAVA_DELAY + 1:
                cls = "DelayDense"
                args = {**args, "delays": int(d - 1), "max_delay": int(d - 1)}
            parts.append(pl.add(Proc(f"{name}.{part}", cls, args, node=name, latency=d if cls == "DelayDense"
                                     else 1, in_port="s_in", out_port="a_out",
                                     note=f"{'real' if part == 're' else 'imaginary'} part"), "IntComplexDense"))
        pl.plan.records[name] = {"kind": "complex", "procs": [[parts[0].key, "a_out"], [parts[1].key, "a_out"]],
                                 "latency": int(parts[0].latency), "shape": list(pl.shapes[name])}
    else:
        lat = 0 if (dmin is not None and dmin < 1) else 1
        p = pl.add(Proc(name, "SnncComplexDense", {"weight_real": wr, "weight_imag": wi, "weight_exp": exp,
                                                   "latency": lat, "input_kind": node.input_kind, "name": name},
                        node=name, latency=lat, in_port="s_in", note=reason), "IntComplexDense")
        pl.plan.records[name] = {"kind": "complex", "procs": [[p.key, "a_real_out"], [p.key, "a_imag_out"]],
                                 "latency": lat, "shape": list(pl.shapes[name])}


# ---------------------------------------------------------------------------------------------
# neurons
# ---------------------------------------------------------------------------------------------


@maps(IN.IntCubaLIF)
def lif(pl, name: str, node: IN.IntCubaLIF, links_in, links_out) -> None:
    """``LIF`` / ``LIFReset`` when ``lava_differences()`` is empty (a non-spiking one only when
    it feeds Outputs only: its output is read from ``v``); else ``SnncCubaLIF``."""
    node.validate(name)
    shape = tuple(pl.shapes[name])
    diffs = list(node.lava_differences())
    feeds_only_outputs = all(isinstance(pl.g.nodes[e.dst], N.Output) for e in pl.g.out_edges(name))
    if node.threshold is None and not feeds_only_outputs:
        diffs.append("non-spiking (its output v feeds a synapse; Lava's LIF sends spikes only)")
    kw = None
    if not diffs:
        try:
            kw = node.to_lava(name)
        except UnsupportedError as exc:
            diffs.append(exc.detail)
    if kw is not None:
        cls = "LIFReset" if "reset_interval" in kw else "LIF"
        args = {"shape": lava_shape(shape), "du": int(kw["du"]), "dv": int(kw["dv"]), "vth": int(kw["vth"]),
                "bias_mant": to_lava_layout(kw["bias_mant"], shape),
                "bias_exp": to_lava_layout(kw["bias_exp"], shape), "name": name}
        if cls == "LIFReset":
            args.update(reset_interval=int(kw["reset_interval"]), reset_offset=int(kw["reset_offset"]))
        p = pl.add(Proc(name, cls, args, node=name, in_port="a_in", out_port="s_out",
                        note="exact Lava LIF" + ("" if node.threshold is not None
                                                 else " (non-spiking: output read from v)")), "IntCubaLIF")
        if node.threshold is None:
            pl.plan.records[name] = {"kind": "var", "proc": p.key, "var": "v", "shape": list(shape)}
        else:
            pl.port_record(name, p)
    else:
        args = {"shape": lava_shape(shape),
                "current_mult": to_lava_layout(node.current_mult, shape),
                "voltage_mult": to_lava_layout(node.voltage_mult, shape),
                "threshold": to_lava_layout(0 if node.threshold is None else node.threshold, shape),
                "bias": to_lava_layout(0 if node.bias is None else node.bias, shape),
                "input_shift": int(node.input_shift), "decay_bits": int(node.decay_bits),
                "arith_bits": int(node.arith_bits), "u_bits": int(node.u_bits), "u_overflow": node.u_overflow,
                "v_bits": int(node.v_bits), "v_overflow": node.v_overflow, "comparison": node.comparison,
                "reset": node.reset, "spiking": node.threshold is not None,
                "reset_interval": int(node.state_reset_interval or 0), "reset_phase": int(node.state_reset_phase),
                "name": name}
        p = pl.add(Proc(name, "SnncCubaLIF", args, node=name, in_port="a_in", out_port="s_out",
                        note="; ".join(diffs)), "IntCubaLIF")
        pl.port_record(name, p)
    pl.record_states(name, node, p.key)


def _custom_neuron(pl, name: str, node, cls: str, args: dict, note: str) -> None:
    """One snnc custom neuron process (``a_in`` -> ``s_out``), its output and states recorded."""
    args["name"] = name
    p = pl.add(Proc(name, cls, args, node=name, in_port="a_in", out_port="s_out", note=note), node.type_name)
    pl.port_record(name, p)
    pl.record_states(name, node, p.key)


@maps(INN.IntLIFB)
def lifb(pl, name: str, node: INN.IntLIFB, links_in, links_out) -> None:
    """``SnncLIFB`` (burst neuron)."""
    shape = tuple(pl.shapes[name])
    amps = np.asarray(node.amplitudes, np.int64).reshape(-1)
    args = {"shape": lava_shape(shape), "leak_mult": to_lava_layout(node.leak_mult, shape),
            "threshold": to_lava_layout(node.threshold, shape),
            "threshold_step": to_lava_layout(node.threshold_step, shape),
            "v_min": to_lava_layout(0 if node.v_min is None else node.v_min, shape),
            "has_v_min": node.v_min is not None, "amplitudes": [int(a) for a in amps],
            "max_burst": int(node.max_burst), "decay_bits": int(node.decay_bits), "reset": node.reset,
            "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow}
    note = ("binary population (max_burst 1)" if node.max_burst == 1 and amps.tolist() == [0, 1]
            else "graded burst payload")
    _custom_neuron(pl, name, node, "SnncLIFB", args, note)


@maps(INN.IntCLIF)
def clif(pl, name: str, node: INN.IntCLIF, links_in, links_out) -> None:
    """``SnncCLIF`` (sigmoid look-up tables)."""
    args = {"shape": lava_shape(pl.shapes[name]), "lut_u": [int(v) for v in np.asarray(node.lut_u).reshape(-1)],
            "lut_m": [int(v) for v in np.asarray(node.lut_m).reshape(-1)],
            "decay_mult": int(node.decay_mult), "threshold": int(node.threshold),
            "u_shift": int(node.u_shift), "u_offset": int(node.u_offset), "m_shift": int(node.m_shift),
            "m_frac_bits": int(node.m_frac_bits), "lut_frac_bits": int(node.lut_frac_bits),
            "reset_scale": int(node.reset_scale), "decay_bits": int(node.decay_bits),
            "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow}
    _custom_neuron(pl, name, node, "SnncCLIF", args, "sigmoid look-up tables")


@maps(INN.IntRF)
def rf(pl, name: str, node: INN.IntRF, links_in, links_out) -> None:
    """``SnncRF`` (S5, phase or RF_IZ spike rule)."""
    shape = tuple(pl.shapes[name])
    args = {"shape": lava_shape(shape), "decay_real": to_lava_layout(node.decay_real, shape),
            "decay_imag": to_lava_layout(node.decay_imag, shape),
            "threshold": int(node.threshold), "decay_bits": int(node.decay_bits),
            "comparison": node.comparison, "state_bits": int(node.state_bits), "overflow": node.overflow,
            "spike_rule": node.spike_rule}
    note = {"re": "S5 rule: spike on Re > threshold, no reset",
            "phase": "phase rule (lava.proc.rf): Re >= threshold as Im crosses zero upward",
            "iz": "RF_IZ rule (lava.proc.rf_iz): spike on Im >= threshold, then reset"}[node.spike_rule]
    _custom_neuron(pl, name, node, "SnncRF", args, note)


@maps(INN.IntLMHT)
def lmht(pl, name: str, node: INN.IntLMHT, links_in, links_out) -> None:
    """``SnncLMHT`` (graded level output)."""
    args = {"shape": lava_shape(pl.shapes[name]), "leak_mult": int(node.leak_mult), "threshold": int(node.threshold),
            "levels": int(node.levels), "state_init": int(node.v_init), "window": int(node.window or 0),
            "phase": int(node.phase), "decay_bits": int(node.decay_bits), "state_bits": int(node.state_bits),
            "overflow": node.overflow}
    note = "graded level output" + (f", idle until step {node.phase}" if node.phase else "")
    _custom_neuron(pl, name, node, "SnncLMHT", args, note)


@maps(INN.IntTimeMix)
def time_mix(pl, name: str, node: INN.IntTimeMix, links_in, links_out) -> None:
    """``SnncTimeMix`` (streaming: one window late; the planner refuses latency 0)."""
    args = {"shape": lava_shape(pl.shapes[name]),
            "coefficients": [[int(c) for c in row] for row in np.asarray(node.coefficients)],
            "frac_bits": int(node.frac_bits), "phase": int(node.phase)}
    _custom_neuron(pl, name, node, "SnncTimeMix", args,
                   f"streaming time mixing, one window ({node.window} steps) late")


@maps(INN.IntLNM)
def lnm(pl, name: str, node: INN.IntLNM, links_in, links_out) -> None:
    """``SnncLNM`` (polynomial f(v), Horner)."""
    args = {"shape": lava_shape(pl.shapes[name]),
            "coefficients": [int(c) for c in np.asarray(node.coefficients).reshape(-1)],
            "frac_bits": int(node.frac_bits), "threshold": int(node.threshold),
            "v_reset": int(node.v_reset), "v_min": int(node.v_min), "v_max": int(node.v_max),
            "reset": node.reset, "comparison": node.comparison, "form": node.form}
    _custom_neuron(pl, name, node, "SnncLNM", args, "polynomial f(v), Horner")


# ---------------------------------------------------------------------------------------------
# sigma-delta neurons: Lava's own processes (chip models exist)
# ---------------------------------------------------------------------------------------------


def _unscaled(value, exps: int, shape: tuple | None = None):
    """A pre-scaled ``vth`` / ``bias`` as the argument of Lava's constructor, which multiplies it
    by 2**exps again: an int when divisible, else the exact float quotient (Lava's int32 Var
    truncates the float product, which is the integer again)."""
    a = np.asarray(value, np.int64)
    q = a >> exps if not np.any(a % (1 << exps)) else a.astype(np.float64) / float(1 << exps)
    if shape is None:
        v = q.reshape(-1)[0]
        return int(v) if q.dtype.kind == "i" else float(v)
    full = np.broadcast_to(q, tuple(shape))
    return np.ascontiguousarray(full.transpose(tuple(range(full.ndim))[::-1]))   # Lava's (W, H, C), dtype kept


@maps(SD.IntSigma)
def sigma(pl, name: str, node: SD.IntSigma, links_in, links_out) -> None:
    """Lava ``Sigma`` (``sigma += a_in``, int32)."""
    shape = tuple(pl.shapes[name])
    p = pl.add(Proc(name, "Sigma", {"shape": lava_shape(shape)}, node=name, in_port="a_in",
                    out_port="s_out", note="exact Lava Sigma (graded int32 out)"), "IntSigma")
    pl.port_record(name, p)
    pl.record_states(name, node, p.key)


@maps(SD.IntDelta)
def delta(pl, name: str, node: SD.IntDelta, links_in, links_out) -> None:
    """Lava ``Delta`` (the SDNN input encoder); ``vth`` handed over unscaled."""
    node.validate(name)
    shape = tuple(pl.shapes[name])
    exps = int(node.spike_exp) + int(node.state_exp)
    if np.unique(np.asarray(node.vth)).size != 1:
        raise UnsupportedError("Lava's Delta has one threshold per population", node=name, field="vth")
    args = {"shape": lava_shape(shape), "vth": _unscaled(node.vth, exps), "spike_exp": int(node.spike_exp),
            "state_exp": int(node.state_exp), "cum_error": bool(node.cum_error)}   # Delta takes no name
    p = pl.add(Proc(name, "Delta", args, node=name, in_port="a_in", out_port="s_out",
                    note="exact Lava Delta (graded int32 out)"), "IntDelta")
    pl.port_record(name, p)
    pl.record_states(name, node, p.key)


@maps(SD.IntSigmaDelta)
def sigma_delta(pl, name: str, node: SD.IntSigmaDelta, links_in, links_out) -> None:
    """Lava ``SigmaDelta`` (ReLU or UNIT activation); ``vth`` and ``bias`` handed over unscaled."""
    node.validate(name)
    shape = tuple(pl.shapes[name])
    exps = int(node.spike_exp) + int(node.state_exp)
    if np.unique(np.asarray(node.vth)).size != 1:
        raise UnsupportedError("Lava's SigmaDelta has one threshold per population", node=name, field="vth")
    args = {"shape": lava_shape(shape), "vth": _unscaled(node.vth, exps), "bias": _unscaled(node.bias, exps, shape),
            "spike_exp": int(node.spike_exp), "state_exp": int(node.state_exp),
            "act_mode": Code("ActivationMode.RELU" if node.act_mode == "relu" else "ActivationMode.UNIT"),
            "cum_error": bool(node.cum_error), "name": name}
    p = pl.add(Proc(name, "SigmaDelta", args, node=name, in_port="a_in", out_port="s_out",
                    note="exact Lava SigmaDelta (graded int32 out)"), "IntSigmaDelta")
    pl.port_record(name, p)
    pl.record_states(name, node, p.key)
