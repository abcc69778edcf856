"""Element-wise neuron modules, one update function per integer neuron kind.

Each update mirrors the node's docstring equation (:mod:`snnc.ir.intnodes`,
:mod:`snnc.ir.intneurons`) and the simulator's kernel operation by operation, with the
operations of :class:`.netlist.Netlist` (the :mod:`snnc.ir.intops` semantics as Verilog); the
skeleton (pipeline, state RAMs, parameter ROMs) is :func:`.modules.elementwise`.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir.errors import UnsupportedError

from .modules import NodeRTL, NodeSpec, StateVar, elementwise, generates
from .netlist import Netlist, Sig


def _overflow_sym(nl: Netlist, v: Sig, bits: int, mode: str) -> Sig:
    """intneurons' overflow: 'saturate' clips to ±(2**(bits-1) - 1), 'wrap' wraps."""
    return nl.saturate_sym(v, bits) if mode == "saturate" else nl.wrap(v, bits)


def _step_mod(nl: Netlist, interval: int, phase: int):
    """Condition ``t % interval == phase`` (t >= 0), from a step counter (no divider)."""
    return nl.cmp(nl.step_mod(int(interval), -int(phase)), "==", nl.const(0))


@generates(IN.IntCubaLIF)
def _cuba_lif(spec: NodeSpec) -> NodeRTL:
    n = spec.node
    n.validate(spec.name)

    def arith(nl, v):
        return v if n.arith_bits >= 64 else nl.wrap(v, n.arith_bits)

    def update(nl: Netlist, p, x, st, t):
        u, v = st["u"], st["v"]
        if n.state_reset_interval is not None:
            r = _step_mod(nl, int(n.state_reset_interval), int(n.state_reset_phase))
            zero = nl.const(0)
            u, v = nl.select(r, zero, u), nl.select(r, zero, v)
        cm, vm = p.get("cm", n.current_mult), p.get("vm", n.voltage_mult)
        a = arith(nl, nl.shl(x, int(n.input_shift)))
        u = arith(nl, nl.add(nl.decay(u, cm, n.decay_bits), a))
        u = {"lava": nl.lava_wrap, "wrap": nl.wrap, "saturate": nl.saturate}[n.u_overflow](u, n.u_bits)
        h = nl.add(nl.decay(v, vm, n.decay_bits), u)
        if n.bias is not None:
            h = nl.add(h, p.get("bias", n.bias))
        h = arith(nl, h)
        h = {"saturate_sym": nl.saturate_sym, "saturate": nl.saturate, "wrap": nl.wrap}[n.v_overflow](h, n.v_bits)
        if n.threshold is None:
            return h, {"u": u, "v": h}
        thr = p.get("thr", n.threshold)
        z = nl.fire(h, thr, n.comparison)
        if n.reset == "zero":
            v = nl.select(z, nl.const(0), h)
        elif n.reset == "subtract":
            v = nl.select(z, nl.sub(h, thr), h)
        else:
            v = h
        return nl.as_int(z), {"u": u, "v": v}

    return elementwise(spec, [StateVar("u"), StateVar("v")], update, multipliers=2)


@generates(INN.IntLIFB)
def _lifb(spec: NodeSpec) -> NodeRTL:
    n = spec.node
    amps = np.asarray(n.amplitudes, np.int64).reshape(-1)

    def update(nl: Netlist, p, x, st, t):
        h = nl.add(nl.decay(st["v"], p.get("leak", n.leak_mult), n.decay_bits), x)
        thr, stp = p.get("thr", n.threshold), p.get("step", n.threshold_step)
        count = nl.const(0)
        level = thr
        for k in range(int(n.max_burst)):
            if k:
                level = nl.add(level, stp)
            count = nl.add(count, nl.as_int(nl.fire(h, level, n.comparison)))
        if n.reset == "subtract":
            v = nl.sub(h, nl.mul(count, stp))
        elif n.reset == "zero":
            v = nl.select(nl.cmp(count, ">", nl.const(0)), nl.const(0), h)
        else:
            v = nl.mul(h, nl.sub(nl.const(1), count))
        if n.v_min is not None:
            v = nl.maximum(v, p.get("vmin", n.v_min))
        v = _overflow_sym(nl, v, n.state_bits, n.overflow)
        out = nl.const(int(amps[0]))
        for k in range(1, int(n.max_burst) + 1):
            out = nl.select(nl.cmp(count, "==", nl.const(k)), nl.const(int(amps[k])), out)
        return out, {"v": v}

    return elementwise(spec, [StateVar("v")], update, multipliers=1)


@generates(INN.IntLNM)
def _lnm(spec: NodeSpec) -> NodeRTL:
    n = spec.node
    c = [int(v) for v in np.asarray(n.coefficients, np.int64).reshape(-1)]

    def update(nl: Netlist, p, x, st, t):
        v = st["v"]
        f = nl.const(c[-1])
        for k in range(len(c) - 2, -1, -1):
            f = nl.add(nl.rtz_shift(nl.mul(f, v), int(n.frac_bits)), nl.const(c[k]))
        h = nl.add(nl.add(v, f), x) if n.form == "increment" else nl.add(f, x)
        h = nl.clamp(h, int(n.v_min), int(n.v_max))
        thr = nl.const(int(n.threshold))
        s = nl.fire(h, thr, n.comparison)
        v = nl.select(s, nl.const(int(n.v_reset)), h) if n.reset == "zero" else nl.select(s, nl.sub(h, thr), h)
        return nl.as_int(s), {"v": v}

    return elementwise(spec, [StateVar("v")], update, multipliers=max(0, len(c) - 1))


@generates(INN.IntLMHT)
def _lmht(spec: NodeSpec) -> NodeRTL:
    n = spec.node
    thr = int(n.threshold)
    if thr <= 0:
        raise UnsupportedError("IntLMHT needs a positive threshold in hardware", node=spec.name, field="threshold")

    def update(nl: Netlist, p, x, st, t):
        v = st["v"]
        v_init = nl.const(int(n.v_init))
        ph = int(n.phase)
        if n.window is not None:
            at = nl.both(nl.cmp(t, ">", nl.const(ph)), _step_mod(nl, int(n.window), ph))
            v = nl.select(at, v_init, v)
        h = nl.add(nl.rtz_shift(nl.mul(v, nl.const(int(n.leak_mult))), int(n.decay_bits)), x)
        # k = clip(floor(h / thr), 0, levels): compare h with the level boundaries (no divider)
        k = nl.const(0)
        for j in range(1, int(n.levels) + 1):
            k = nl.add(k, nl.as_int(nl.cmp(h, ">=", nl.const(j * thr))))
        v_new = _overflow_sym(nl, nl.sub(h, nl.mul(k, nl.const(thr))), n.state_bits, n.overflow)
        if ph:
            idle = nl.cmp(t, "<", nl.const(ph))
            v_new, k = nl.select(idle, v_init, v_new), nl.select(idle, nl.const(0), k)
        return k, {"v": v_new}

    return elementwise(spec, [StateVar("v", init=int(n.v_init), lo=int(n.v_init), hi=int(n.v_init))], update,
                       multipliers=1)


@generates(INN.IntBinaryLMHT)
def _binary_lmht(spec: NodeSpec) -> NodeRTL:
    n = spec.node

    def update(nl: Netlist, p, x, st, t):
        v = st["v"]
        v_init = nl.const(int(n.v_init))
        if n.window is not None:
            v = nl.select(_step_mod(nl, int(n.window), 0), v_init, v)
        leaked = nl.add(nl.rtz_shift(nl.mul(v, nl.const(int(n.leak_mult))), int(n.decay_bits)), x)
        h = nl.select(_step_mod(nl, int(n.substeps), 0), leaked, nl.add(v, x))
        thr = nl.const(int(n.threshold))
        s = nl.cmp(h, ">=", thr)
        v_new = _overflow_sym(nl, nl.select(s, nl.sub(h, thr), h), n.state_bits, n.overflow)
        return nl.as_int(s), {"v": v_new}

    return elementwise(spec, [StateVar("v", init=int(n.v_init), lo=int(n.v_init), hi=int(n.v_init))], update,
                       multipliers=1)


def _lut_index(nl: Netlist, x: Sig, shift: int, offset: int, size: int) -> Sig:
    """clip(floor_shift(x, shift) - offset, 0, size - 1) (int_neuron_kernels.lut_index)."""
    return nl.clamp(nl.sub(nl.asr(x, shift), nl.const(offset)), 0, size - 1)


@generates(INN.IntCLIF)
def _clif(spec: NodeSpec) -> NodeRTL:
    n = spec.node
    D, F = int(n.decay_bits), int(n.lut_frac_bits)

    def update(nl: Netlist, p, x, st, t):
        tu, su, ulo, uhi = p.table("lut_u", n.lut_u)
        tm, sm, mlo, mhi = p.table("lut_m", n.lut_m)
        u = _overflow_sym(nl, nl.add(nl.decay(st["u"], nl.const(int(n.decay_mult)), D), x), n.state_bits, n.overflow)
        sig_u = nl.lookup(tu, su, _lut_index(nl, u, int(n.u_shift), int(n.u_offset), su), ulo, uhi)
        m = nl.rtz_shift(nl.mul(st["m"], sig_u), F)
        thr = nl.const(int(n.threshold))
        s = nl.fire(u, thr, n.comparison)
        m = nl.add(m, nl.shl(nl.as_int(s), int(n.m_frac_bits)))
        sig_m = nl.lookup(tm, sm, _lut_index(nl, m, int(n.m_shift), 0, sm), mlo, mhi)
        drop = nl.add(thr, nl.rtz_shift(nl.mul(sig_m, nl.const(int(n.reset_scale))), F))
        u = nl.select(s, nl.sub(u, drop), u)
        return nl.as_int(s), {"u": _overflow_sym(nl, u, n.state_bits, n.overflow),
                              "m": _overflow_sym(nl, m, n.state_bits, n.overflow)}

    return elementwise(spec, [StateVar("u"), StateVar("m")], update, multipliers=3)


@generates(INN.IntRF)
def _rf(spec: NodeSpec) -> NodeRTL:
    """Resonate-and-fire: the complex state (re, im) as two integer states, the complex input
    current as two integer channels (an input that is not complex has im = 0)."""
    n = spec.node
    D = int(n.decay_bits)
    thr_v = int(n.threshold)

    def update(nl: Netlist, p, x, st, t):
        x_re, x_im = x if isinstance(x, tuple) else (x, nl.const(0))
        dr, di = p.get("dr", n.decay_real), p.get("di", n.decay_imag)
        re, im = st["re"], st["im"]
        re2 = nl.add(nl.sub(nl.decay(re, dr, D), nl.decay(im, di, D)), x_re)
        im2 = nl.add(nl.add(nl.decay(re, di, D), nl.decay(im, dr, D)), x_im)
        re2 = _overflow_sym(nl, re2, n.state_bits, n.overflow)
        im2 = _overflow_sym(nl, im2, n.state_bits, n.overflow)
        thr = nl.const(thr_v)
        if n.spike_rule == "iz":
            s = nl.fire(im2, thr, n.comparison)
            return nl.as_int(s), {"re": nl.select(s, nl.const(0), re2), "im": nl.select(s, nl.const(thr_v - 1), im2)}
        s = nl.fire(re2, thr, n.comparison)
        if n.spike_rule == "phase":
            s = nl.both(s, nl.cmp(im2, ">=", nl.const(0)), nl.cmp(im, "<", nl.const(0)))
        return nl.as_int(s), {"re": re2, "im": im2}

    return elementwise(spec, [StateVar("re"), StateVar("im")], update, multipliers=4)
